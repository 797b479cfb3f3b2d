package harness

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// CompiledSuite is bin/kratos-conformance of the repository at root, which
// make build compiles; the commands that run the suite many times use it.
func CompiledSuite(root string) (string, error) {
	bin := filepath.Join(root, "bin", "kratos-conformance")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("%s is missing: run make build", bin)
	}
	return bin, nil
}
