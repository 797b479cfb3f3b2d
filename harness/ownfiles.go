package harness

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// OwnFilesFile names an operator's deployment files in one YAML file
// (-kc.own-files), for CI to keep beside them; paths are relative to it.
type OwnFilesFile struct {
	KratosConfig string `yaml:"kratos_config"`
	KratosEnv    string `yaml:"kratos_env"`
	KeepOffline  bool   `yaml:"keep_offline"`
}

// applyOwnFiles fills what no flag gave from -kc.own-files.
func (c *Config) applyOwnFiles() error {
	b, err := os.ReadFile(c.OwnFiles)
	if err != nil {
		return fmt.Errorf("-kc.own-files: %w", err)
	}
	var f OwnFilesFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("-kc.own-files %s: %w (fields: kratos_config, kratos_env, keep_offline)", c.OwnFiles, err)
	}
	if f.KratosConfig == "" {
		return fmt.Errorf("-kc.own-files %s: kratos_config is required", c.OwnFiles)
	}
	dir := filepath.Dir(c.OwnFiles)
	for _, p := range []struct {
		dst *string
		val string
	}{{&c.KratosConfig, f.KratosConfig}, {&c.KratosEnv, f.KratosEnv}} {
		if *p.dst == "" && p.val != "" {
			*p.dst = p.val
			if !filepath.IsAbs(p.val) {
				*p.dst = filepath.Join(dir, p.val)
			}
		}
	}
	c.KeepOffline = c.KeepOffline || f.KeepOffline
	return nil
}
