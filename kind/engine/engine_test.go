package engine

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The private engine answers with its capability-dropping runtime, refuses a
// second run on its folder, and leaves no daemon, namespace or mount behind.
// (That it runs privileged containers, kind's nodes, is shown by the kind
// provider's run.)
func TestEngineAnswersAndLeavesNothing(t *testing.T) {
	if err := Preflight(); err != nil {
		t.Skip(err)
	}
	dir := filepath.Join(t.TempDir(), "engine")
	e := New(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := e.Start(ctx, time.Minute, 100*time.Millisecond); err != nil {
		e.Stop(10 * time.Second)
		t.Fatal(err)
	}
	// A second run on the same folder is refused while this one holds it.
	if err := New(dir).Start(ctx, time.Second, 100*time.Millisecond); err == nil || !strings.Contains(err.Error(), "another run") {
		t.Errorf("a second engine on %s: got %v, want it refused", dir, err)
	}
	out, err := exec.CommandContext(ctx, "docker", "-H", e.Host(), "info", "--format", "{{.DefaultRuntime}}").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "nosysres" {
		t.Errorf("docker info: %v %s; want the default runtime nosysres", err, out)
	}
	if err := e.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(e.NetNS()); err == nil {
		t.Errorf("network namespace %s is still there", e.NetNS())
	}
	if out, _ := exec.Command("pgrep", "-f", dir).Output(); len(out) > 0 {
		t.Errorf("processes of the engine are still running: %s", out)
	}
	if out, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(out), dir) {
		t.Errorf("a mount of the engine is visible on the host")
	}
}
