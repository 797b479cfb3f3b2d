package process

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"kratos-conformance/internal/wait"

	"kratos-conformance/harness"
)

// These tests start real Postgres, Redis, Mailpit and Kratos processes; they
// check the provider's promises: a clear error for bad set-up, in bounded
// time, and nothing left behind either way.

func newTestStack(t *testing.T, mutate func(*harness.Config, *Options)) *Stack {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cfg, o := harness.DefaultConfig(), Options{}
	if mutate != nil {
		mutate(&cfg, &o)
	}
	if err := errors.Join(cfg.Validate(), o.Validate()); err != nil {
		t.Fatal(err)
	}
	s, err := New(context.Background(), harness.StackInput{Config: cfg.Stack(), RepoRoot: root, RunID: "test", LogDir: t.TempDir()}, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// upAndDown runs Up, then downAndCheck, and returns Up's error.
func upAndDown(t *testing.T, s *Stack) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	upErr := s.Up(ctx)
	downAndCheck(t, s)
	return upErr
}

// downAndCheck runs Down and checks that no process or temp folder survived it.
func downAndCheck(t *testing.T, s *Stack) {
	t.Helper()
	var pids []int
	for _, p := range s.procs {
		pids = append(pids, p.cmd.Process.Pid)
	}
	tmp := s.tmp
	if err := s.Down(context.Background()); err != nil {
		t.Errorf("Down: %v", err)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d is still alive after Down", pid)
		}
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temp folder %s survived Down", tmp)
	}
}

func TestUpServesAndDownLeavesNothing(t *testing.T) {
	s := newTestStack(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.Up(ctx); err != nil {
		s.Down(ctx)
		t.Fatal(err)
	}
	ep := s.Endpoints()
	client, err := ep.HTTPClient(nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	check := wait.HTTPStatus(client, ep.KratosPublic.JoinPath("health", "ready").String(), 200)
	if err := check(ctx); err != nil {
		t.Errorf("public API over TLS: %v", err)
	}
	for _, name := range []string{"postgres", "redis", "mailpit", "kratos-migrate", "kratos", "kratos-courier"} {
		if _, err := os.Stat(filepath.Join(s.logDir, name+".log")); err != nil {
			t.Errorf("no %s.log in the run folder", name)
		}
	}
	ports := []string{ep.KratosPublic.Port(), ep.KratosAdmin.Port(), ep.MailpitAPI.Port(), strings.Split(ep.RedisAddr, ":")[1]}
	downAndCheck(t, s)
	for _, port := range ports {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
			c.Close()
			t.Errorf("port %s still accepts connections after Down", port)
		}
	}
}

func TestPortInUseNamesTheFlag(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	s := newTestStack(t, func(_ *harness.Config, o *Options) { o.PublicPort = port })
	err = upAndDown(t, s)
	if err == nil || !strings.Contains(err.Error(), "-kc.public-port") || !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Errorf("got %v, want an error naming -kc.public-port and port %d", err, port)
	}
}

// A missing server is named before anything is built or started: with no
// PATH there is no go either, so a build would fail differently.
func TestMissingRedisIsNamedBeforeTheBuild(t *testing.T) {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir())
	defaults := harness.DefaultConfig()
	_, err = New(context.Background(), harness.StackInput{Config: defaults.Stack(), RepoRoot: root, RunID: "test", LogDir: t.TempDir()}, Options{})
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y redis-server") || !strings.Contains(err.Error(), "make deps") {
		t.Errorf("got %v, want an error naming make deps and the Debian package", err)
	}
}

// fakeKratos is a stand-in for a broken Kratos build: it answers `version`
// and `migrate`, then either never serves or exits at once.
func fakeKratos(t *testing.T, serve string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kratos")
	script := "#!/bin/sh\ncase \"$*\" in\n*version*) echo 'Version: v1.3.1';;\n*migrate*) exit 0;;\n*) " + serve + ";;\nesac\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestKratosNeverReadyFailsInBoundedTimeWithItsLog(t *testing.T) {
	bin := fakeKratos(t, "echo 'fake kratos: serving nothing'; exec sleep 600")
	s := newTestStack(t, func(c *harness.Config, o *Options) { o.KratosBin = bin; c.Intervals.KratosReady = 2 * time.Second })
	start := time.Now()
	err := upAndDown(t, s)
	if err == nil || !strings.Contains(err.Error(), "not ready within 2s") || !strings.Contains(err.Error(), "fake kratos: serving nothing") {
		t.Errorf("got %v, want a timeout that quotes Kratos' log", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("failing took %s", took)
	}
}

func TestKratosExitingEarlyFailsAtOnce(t *testing.T) {
	bin := fakeKratos(t, "echo 'fake kratos: config is invalid' >&2; exit 1")
	s := newTestStack(t, func(_ *harness.Config, o *Options) { o.KratosBin = bin })
	err := upAndDown(t, s)
	if err == nil || !strings.Contains(err.Error(), "kratos exited") || !strings.Contains(err.Error(), "config is invalid") {
		t.Errorf("got %v, want an error saying Kratos exited, with its log", err)
	}
}
