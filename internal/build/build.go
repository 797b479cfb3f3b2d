// Package build pins and builds the binaries the process provider runs: Kratos
// from harness/kratosbuild (its own module) and Mailpit from this module's
// go.mod. A build is cached by a hash of its pin in the user's cache folder
// (CacheDir), outside the clone, so a fresh clone of the same pin reuses it.
package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/modfile"

	"kratos-conformance/harness"
)

// Binary is an executable ready to run.
type Binary struct {
	Path    string
	Version string
	Built   bool // false: taken from the cache or given by the user
}

// Input says where the repository and the cache are and how long a cold build may take.
type Input struct {
	RepoRoot string
	CacheDir string // CacheDir()
	Timeout  time.Duration
	Log      io.Writer // go build's output; nil discards it
}

// CacheDir is where built binaries are kept: $KC_CACHE_DIR, else
// kratos-conformance in the user's cache folder (~/.cache).
func CacheDir() (string, error) {
	if dir := os.Getenv("KC_CACHE_DIR"); dir != "" {
		return dir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder for the Kratos build (%w); set KC_CACHE_DIR", err)
	}
	return filepath.Join(base, "kratos-conformance"), nil
}

func (in Input) validate() error {
	if in.RepoRoot == "" {
		return fmt.Errorf("building Kratos or Mailpit needs the kratos-conformance repository (its pins); outside it, pass -kc.kratos-bin and -kc.mailpit-bin")
	}
	if in.CacheDir == "" {
		return fmt.Errorf("build.Input.CacheDir is empty")
	}
	if in.Timeout <= 0 {
		return fmt.Errorf("build.Input.Timeout must be positive")
	}
	return nil
}

const kratosModule = "github.com/ory/kratos"
const mailpitModule = "github.com/axllent/mailpit"

// Kratos returns the pinned Kratos, building it on first use or when
// harness/kratosbuild changed.
func Kratos(ctx context.Context, in Input) (Binary, error) {
	if err := in.validate(); err != nil {
		return Binary{}, err
	}
	dir := filepath.Join(in.RepoRoot, "harness", "kratosbuild")
	version, err := requiredVersion(filepath.Join(dir, "go.mod"), kratosModule)
	if err != nil {
		return Binary{}, err
	}
	key, err := hashFiles(dir, "go.mod", "go.sum", "main.go")
	if err != nil {
		return Binary{}, err
	}
	out := filepath.Join(in.CacheDir, "bin", fmt.Sprintf("kratos-%s-%s", version, key))
	ldflags := "-s -w -X github.com/ory/kratos/driver/config.Version=" + version
	return ensure(ctx, in, out, version, dir, ldflags, ".")
}

// Mailpit returns the Mailpit pinned in the suite's go.mod.
func Mailpit(ctx context.Context, in Input) (Binary, error) {
	if err := in.validate(); err != nil {
		return Binary{}, err
	}
	version, err := requiredVersion(filepath.Join(in.RepoRoot, "go.mod"), mailpitModule)
	if err != nil {
		return Binary{}, err
	}
	out := filepath.Join(in.CacheDir, "bin", "mailpit-"+version)
	ldflags := "-s -w -X github.com/axllent/mailpit/config.Version=" + version
	return ensure(ctx, in, out, version, in.RepoRoot, ldflags, mailpitModule)
}

func ensure(ctx context.Context, in Input, out, version, dir, ldflags, pkg string) (Binary, error) {
	if st, err := os.Stat(out); err == nil && st.Mode().IsRegular() {
		return Binary{Path: out, Version: version}, nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return Binary{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, in.Timeout)
	defer cancel()
	// Build next to the target and rename, so a concurrent run never sees half a binary.
	tmp := fmt.Sprintf("%s.tmp-%d", out, os.Getpid())
	defer os.Remove(tmp)
	cmd := exec.CommandContext(ctx, goTool(), "build", "-trimpath", "-ldflags", ldflags, "-o", tmp, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var tail bytes.Buffer
	var w io.Writer = &tail
	if in.Log != nil {
		w = io.MultiWriter(in.Log, &tail)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return Binary{}, fmt.Errorf("building %s %s took longer than %s; raise -kc.intervals build=... (a cold build takes minutes on 2 cores): %w", pkg, version, in.Timeout, ctx.Err())
		}
		return Binary{}, fmt.Errorf("go build %s %s in %s failed (the Go module proxy must be reachable for a cold build): %w\n%s", pkg, version, dir, err, harness.LastLines(tail.String(), 20))
	}
	if err := os.Rename(tmp, out); err != nil {
		return Binary{}, err
	}
	return Binary{Path: out, Version: version, Built: true}, nil
}

// Given checks a user-supplied binary and asks it for its version.
func Given(ctx context.Context, path string, versionArgs ...string) (Binary, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Binary{}, err
	}
	st, err := os.Stat(abs)
	if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return Binary{}, fmt.Errorf("%s is not an executable file", abs)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, abs, versionArgs...).CombinedOutput()
	if err != nil {
		return Binary{}, fmt.Errorf("%s %s failed: %w\n%s", abs, strings.Join(versionArgs, " "), err, harness.LastLines(string(out), 10))
	}
	return Binary{Path: abs, Version: ParseVersion(string(out))}, nil
}

// ParseVersion finds the first "vX.Y.Z"-like word in a version command's output
// (Kratos prints "Version:    v1.3.1"; Mailpit "mailpit v1.33.1 compiled with ...").
func ParseVersion(out string) string {
	for _, f := range strings.Fields(out) {
		if len(f) > 1 && f[0] == 'v' && f[1] >= '0' && f[1] <= '9' {
			return f
		}
	}
	return "unknown"
}

func requiredVersion(gomod, module string) (string, error) {
	b, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	f, err := modfile.Parse(gomod, b, nil)
	if err != nil {
		return "", err
	}
	for _, r := range f.Require {
		if r.Mod.Path == module {
			return r.Mod.Version, nil
		}
	}
	return "", fmt.Errorf("%s does not require %s", gomod, module)
}

func hashFiles(dir string, names ...string) (string, error) {
	h := sha256.New()
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", n, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// goTool is the go command that runs this suite, so builds use the same toolchain.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}
