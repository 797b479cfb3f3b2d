package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// ModulePath is this repository's Go module; RepoRoot looks for its go.mod.
const ModulePath = "kratos-conformance"

// RepoRoot walks up from the working directory to the suite's go.mod, so
// caches and reports land in the repository however the tests are started.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module "+ModulePath+"\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the kratos-conformance repository (no go.mod with module " + ModulePath + " above the working directory)")
		}
		dir = parent
	}
}

// SuiteCommand runs the suite once: a program and the arguments that make
// it the suite (none for the compiled test binary, "suite" for the
// installed kratos-conformance binary).
type SuiteCommand []string

// CompiledSuite is bin/kratos-conformance of the repository at root, which
// make build compiles; the commands that run the suite many times use it.
func CompiledSuite(root string) (SuiteCommand, error) {
	bin := filepath.Join(root, "bin", "kratos-conformance")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s is missing: run make build", bin)
	}
	return SuiteCommand{bin}, nil
}

// RunCompiledSuite runs the suite from root (empty: the working folder)
// with its reports in exactly dir, its output to out. An interrupt reaches
// it as SIGINT, so it tears its stack down and still writes its summary.
// The exit status is the verdict, which the caller reads from dir's
// summary; only an error that kept the suite from running at all is returned.
func RunCompiledSuite(ctx context.Context, suite SuiteCommand, root, dir string, out io.Writer, args ...string) error {
	argv := append(slices.Clone(suite[1:]), "-kc.run-dir="+dir)
	cmd := exec.CommandContext(ctx, suite[0], append(argv, args...)...)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = out, out
	// The suite runs in a process group of its own and gets exactly one
	// interrupt, from here: a terminal's Ctrl-C reaches this process's group
	// only, and a second interrupt would make Ginkgo skip the teardown.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	var exit *exec.ExitError
	if err := cmd.Run(); err != nil && !errors.As(err, &exit) {
		return fmt.Errorf("run %s: %w", suite[0], err)
	}
	return nil
}

// OutDir is the parent of the run folders: given (-kc.out), else the
// repository's reports/out, else the working folder's
// kratos-conformance-reports outside a checkout (root empty).
func OutDir(root, given string) string {
	switch {
	case given != "":
		return given
	case root != "":
		return filepath.Join(root, "reports", "out")
	default:
		return "kratos-conformance-reports"
	}
}
