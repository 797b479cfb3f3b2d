package containers

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kratos-conformance/fixtures"
	"kratos-conformance/harness"
)

// These tests start real containers from the images `make images` builds
// (named in KC_*_IMAGE, as `make test-containers` sets them) and check the
// provider's promises: nothing left by label after Down, clear errors.

func testOptions(t *testing.T) Options {
	t.Helper()
	var o Options
	for _, img := range []struct {
		env string
		dst *string
	}{{"KC_KRATOS_IMAGE", &o.KratosImage}, {"KC_POSTGRES_IMAGE", &o.PostgresImage}, {"KC_REDIS_IMAGE", &o.RedisImage}, {"KC_MAILPIT_IMAGE", &o.MailpitImage}} {
		v := os.Getenv(img.env)
		if v == "" {
			t.Skipf("%s is not set: run `make test-containers` (it builds the images and sets them)", img.env)
		}
		*img.dst = v
	}
	return o
}

func upAndDown(t *testing.T, o Options) (upErr error) {
	t.Helper()
	runID := "test-" + fixtures.RandomHex(4)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	defaults := harness.DefaultConfig()
	s, err := New(ctx, harness.StackInput{Config: defaults.Stack(), RunID: runID, LogDir: t.TempDir()}, o)
	if err != nil {
		t.Fatal(err)
	}
	upErr = s.Up(ctx)
	if err := s.Down(ctx); err != nil {
		t.Errorf("Down: %v", err)
	}
	left, err := CountLeftovers(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	if !left.Zero() {
		t.Errorf("after Down, label %s=%s still has %+v", LabelRun, runID, left)
	}
	return upErr
}

func TestUpThenDownLeavesNothingLabelled(t *testing.T) {
	if err := upAndDown(t, testOptions(t)); err != nil {
		t.Fatal(err)
	}
}

// Two runs at once on one engine: each has its own network, containers and
// loopback ports, both come up, and each Down leaves nothing with its label.
func TestTwoStacksAtOnceDoNotCollide(t *testing.T) {
	o := testOptions(t)
	for _, name := range []string{"first", "second"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if err := upAndDown(t, o); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestMissingImageNamesMakeImages(t *testing.T) {
	o := testOptions(t)
	o.KratosImage = "kratos-conformance/kratos:does-not-exist"
	err := upAndDown(t, o)
	if err == nil || !strings.Contains(err.Error(), "make images") || !strings.Contains(err.Error(), "-kc.kratos-image") {
		t.Errorf("got %v, want an error naming make images and -kc.kratos-image", err)
	}
}

func TestUnreachableDockerSuggestsTheProcessProvider(t *testing.T) {
	// testcontainers settles on a Docker host once per process, so the check
	// runs in a fresh copy of this test binary pointed at a dead socket.
	if os.Getenv("KC_TEST_DEAD_DOCKER") == "1" {
		start := time.Now()
		defaults := harness.DefaultConfig()
		_, err := New(context.Background(), harness.StackInput{Config: defaults.Stack(), RunID: "x", LogDir: t.TempDir()}, Options{})
		if err == nil || !strings.Contains(err.Error(), "-kc.provider=process") {
			t.Fatalf("got %v, want an error suggesting the process provider", err)
		}
		if took := time.Since(start); took > 30*time.Second {
			t.Fatalf("failing took %s", took)
		}
		return
	}
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	l.Close() // the socket file stays; nobody answers on it
	if _, err := os.Stat(sock); err != nil {
		if err := os.WriteFile(sock, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestUnreachableDockerSuggestsTheProcessProvider$", "-test.v")
	cmd.Env = append(os.Environ(), "KC_TEST_DEAD_DOCKER=1", "DOCKER_HOST=unix://"+sock)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("with a dead Docker socket: %v\n%s", err, out)
	}
}
