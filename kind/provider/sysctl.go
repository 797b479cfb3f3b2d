package provider

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// hostSysctls are what kubelet rewrites host-wide (kernel.panic=10,
// kernel.panic_on_oops=1, vm.overcommit_memory=1), as it does under kind
// anywhere: the stack records them before and writes them back at teardown.
var hostSysctls = []string{"kernel.panic", "kernel.panic_on_oops", "vm.overcommit_memory"}

// savedSysctls are the values before kubelet ran, also kept in a file, so
// the next run restores them when this one was killed before its teardown.
type savedSysctls struct {
	path   string
	values map[string]string
}

func sysctlPath(name string) string {
	return filepath.Join("/proc/sys", strings.ReplaceAll(name, ".", "/"))
}

// staleSysctls is what a killed run recorded in path; nil when nothing was.
func staleSysctls(path string) (*savedSysctls, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	stale := savedSysctls{path: path}
	if json.Unmarshal(b, &stale.values) != nil {
		return nil, nil
	}
	return &stale, nil
}

// saveSysctls first restores what a killed run recorded in path, then records the current values there.
func saveSysctls(path string) (savedSysctls, error) {
	stale, err := staleSysctls(path)
	if err != nil {
		return savedSysctls{}, err
	}
	if stale != nil {
		if err := stale.restore(); err != nil {
			return savedSysctls{}, fmt.Errorf("a killed kind run changed host settings: %w", err)
		}
	}
	s := savedSysctls{path: path, values: map[string]string{}}
	for _, name := range hostSysctls {
		b, err := os.ReadFile(sysctlPath(name))
		if err != nil {
			return savedSysctls{}, fmt.Errorf("read %s before kubelet changes it: %w", name, err)
		}
		s.values[name] = strings.TrimSpace(string(b))
	}
	b, _ := json.Marshal(s.values)
	return s, os.WriteFile(path, b, 0o600)
}

// restore writes back what was recorded, where it changed, and forgets the record.
func (s savedSysctls) restore() error {
	var errs []error
	for name, want := range s.values {
		b, err := os.ReadFile(sysctlPath(name))
		if err == nil && strings.TrimSpace(string(b)) == want {
			continue
		}
		if err := os.WriteFile(sysctlPath(name), []byte(want), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("restore %s=%s (kubelet changed it; set it by hand with sysctl -w): %w", name, want, err))
		}
	}
	if len(errs) == 0 && s.path != "" {
		_ = os.Remove(s.path)
	}
	return errors.Join(errs...)
}
