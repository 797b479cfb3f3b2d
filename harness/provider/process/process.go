// Package process is the embedded provider: Postgres, Redis, Mailpit and
// Kratos as local processes on loopback, each in its own process group and
// logging to its own file in the run folder. It needs no Docker.
package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"kratos-conformance/fixtures"
	"kratos-conformance/harness"
	"kratos-conformance/internal/build"
)

// Stack is the process provider's harness.Stack.
type Stack struct {
	cfg         harness.StackConfig
	opts        Options
	logDir      string
	kratos      build.Binary
	path        []build.Binary // -kc.upgrade-from: the older Kratos still to run, oldest (running) first; empty once rolled to kratos
	mailpit     build.Binary
	redisBin    string // redis-server
	postgresDir string // the folder with initdb and postgres

	tmp        string  // removed by Down
	procs      []*proc // in start order; Down stops them in reverse
	smtpURI    string
	secrets    struct{ postgres, cookie, cipher string }
	endpoints  harness.Endpoints
	env        harness.Environment
	components map[string]string
	config     []byte // the Kratos config as Kratos reads it (with kratosEnv)
	configPath string
	own        *fixtures.Own // -kc.kratos-config; nil: the guide's
	kratosEnv  []string      // the operator's environment for Kratos
}

var _ harness.Stack = (*Stack)(nil)

// New resolves the binaries (building the pinned ones on a cold cache) and
// checks the host tools; it starts nothing.
func New(ctx context.Context, in harness.StackInput, o Options) (*Stack, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	s := &Stack{cfg: in.Config, opts: o, logDir: in.LogDir, components: map[string]string{}}
	var err error
	if s.own, err = in.Config.Own(); err != nil {
		return nil, err
	}
	// The host's servers first: a missing one is found in a second, not
	// after minutes of building Kratos.
	var errs []error
	if s.redisBin, err = redisBinary(o.RedisBin); err != nil {
		errs = append(errs, err)
	}
	if s.postgresDir, err = postgresBinDir(o.PostgresBinDir); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cache, err := build.CacheDir()
	if err != nil {
		return nil, err
	}
	b := build.Input{RepoRoot: in.RepoRoot, CacheDir: cache, Timeout: in.Config.Intervals.Build, Log: in.BuildLog}
	if o.KratosBin != "" {
		s.kratos, err = build.Given(ctx, o.KratosBin, "version")
	} else {
		s.kratos, err = build.Kratos(ctx, b)
	}
	if err != nil {
		return nil, fmt.Errorf("Kratos binary: %w", err)
	}
	var versions []string
	for _, from := range harness.UpgradePath(in.Config.UpgradeFrom) {
		old, err := build.Given(ctx, from, "version")
		if err != nil {
			return nil, fmt.Errorf("-kc.upgrade-from: %w", err)
		}
		s.path, versions = append(s.path, old), append(versions, old.Version)
	}
	if o.MailpitBin != "" {
		s.mailpit, err = build.Given(ctx, o.MailpitBin, "version", "--no-release-check")
	} else {
		s.mailpit, err = build.Mailpit(ctx, b)
	}
	if err != nil {
		return nil, fmt.Errorf("Mailpit binary: %w", err)
	}
	s.env = harness.Environment{
		Provider: "process", KratosVersion: s.kratos.Version, KratosBinary: s.kratos.Path, UpgradedFrom: strings.Join(versions, " -> "),
		MailpitVersion: s.mailpit.Version, Components: s.components,
	}
	return s, nil
}

// Up starts Redis, Postgres, Mailpit and Kratos, in that order, and waits for each.
func (s *Stack) Up(ctx context.Context) error {
	sweepStaleTemp()
	// The pid in the name lets a later run tell a dead run's folder from a live one's.
	tmp, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", tempPrefix, os.Getpid()))
	if err != nil {
		return err
	}
	s.tmp = tmp
	if s.cfg.Keep {
		// A kept stack outlives this process: mark its folder so no sweep takes it.
		if err := os.WriteFile(filepath.Join(tmp, keepMarker), nil, 0o644); err != nil {
			return err
		}
	}
	// Postgres runs as an unprivileged user when we are root; it must be able
	// to reach its folder below this one.
	if err := os.Chmod(tmp, 0o711); err != nil {
		return err
	}
	s.secrets.postgres = fixtures.NewSecret(24)
	s.secrets.cookie = fixtures.NewSecret(32)
	s.secrets.cipher = fixtures.NewSecret(32)
	for _, step := range []func(context.Context) error{s.startRedis, s.startPostgres, s.startMailpit, s.startKratos} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// start runs a component and waits with ready until it serves; the pair is
// kept so the fault scenarios can start it again in place.
func (s *Stack) start(ctx context.Context, in procInput, ready readyFunc) error {
	from := logSize(in.LogPath)
	p, err := startProc(in)
	if err != nil {
		return err
	}
	p.ready = ready
	s.procs = append(s.procs, p)
	return ready(ctx, p, from)
}

// record notes how a component runs, for the report's environment.
func (s *Stack) record(in procInput) { s.components[string(in.Name)] = commandLine(in.Path, in.Args) }

func (s *Stack) logPath(component harness.Component) string {
	return filepath.Join(s.logDir, string(component)+".log")
}

func (s *Stack) Endpoints() harness.Endpoints     { return s.endpoints }
func (s *Stack) KratosConfig() []byte             { return s.config }
func (s *Stack) Environment() harness.Environment { return s.env }

// CollectLogs has nothing to copy: components log straight into the run folder.
func (s *Stack) CollectLogs(context.Context, string) error { return nil }

// Down stops the components in reverse order and removes the temp folder.
func (s *Stack) Down(ctx context.Context) error {
	var errs []error
	for i := len(s.procs) - 1; i >= 0; i-- {
		if err := s.procs[i].stop(s.cfg.Intervals.StopGrace); err != nil {
			errs = append(errs, err)
		}
	}
	s.procs = nil
	if s.tmp != "" {
		if err := os.RemoveAll(s.tmp); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w; you may need to remove it by hand", s.tmp, err))
		}
		s.tmp = ""
	}
	return errors.Join(errs...)
}

// ProcessGroups maps each running component to its process group (its pid:
// every component is started as a group leader; Postgres backends join it).
func (s *Stack) ProcessGroups() map[harness.Component]int {
	out := map[harness.Component]int{}
	for _, p := range s.procs {
		if p.exited() == nil {
			out[p.name] = p.cmd.Process.Pid
		}
	}
	return out
}

// Keep leaves the processes running and says how to reach and stop them.
func (s *Stack) Keep() string {
	var pgids []string
	for _, p := range s.procs {
		pgids = append(pgids, fmt.Sprintf("-%d", p.cmd.Process.Pid))
	}
	e := s.endpoints
	return fmt.Sprintf(`The stack is still running (-kc.keep):
  Kratos public: %s (resolve %s to 127.0.0.1, trust %s)
  Kratos admin:  %s
  Mailpit:       %s
  Postgres:      %s
  Redis:         %s
  e.g. curl --cacert %s --resolve %s:127.0.0.1 %shealth/alive
Stop it with:
  kill -TERM %s; rm -rf %s`,
		e.KratosPublic, e.KratosPublic.Hostname(), filepath.Join(s.logDir, "ca.crt"), e.KratosAdmin, e.MailpitAPI,
		e.PostgresDSN, e.RedisAddr,
		filepath.Join(s.logDir, "ca.crt"), e.KratosPublic.Host, e.KratosPublic,
		strings.Join(pgids, " "), s.tmp)
}

const (
	tempPrefix = "kratos-conformance-"
	keepMarker = "KEPT"
)

// sweepStaleTemp removes the temp folders of runs that died without their
// teardown (SIGKILL, a crash): their processes died with them (Pdeathsig),
// but the folders stayed. Kept stacks' folders are left alone.
func sweepStaleTemp() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*-*"))
	for _, dir := range dirs {
		pidText, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(dir), tempPrefix), "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, keepMarker)); err == nil {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			os.RemoveAll(dir)
		}
	}
}
