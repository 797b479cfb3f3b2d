package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"

	"kratos-conformance/harness"
)

// procInput describes one local process of the stack.
type procInput struct {
	Name    harness.Component // used for its log file and in errors
	Path    string
	Args    []string
	Env     []string // added to the environment
	LogPath string
	RunAs   *syscall.Credential // nil: the current user
	// Keep leaves the process alive if the suite itself dies; otherwise the
	// kernel kills it with the suite (Pdeathsig), even on SIGKILL.
	Keep bool
	// StopSignal asks the process to stop; 0 means SIGTERM. Postgres gets
	// SIGINT (fast shutdown): SIGTERM would wait for Kratos' pooled connections.
	StopSignal syscall.Signal
}

// readyFunc waits until a just-started component serves. logFrom is the
// size of its log before the start, so a restart reads only its own lines.
type readyFunc func(ctx context.Context, p *proc, logFrom int64) error

// proc is a running component: its own process group, output in its log file.
type proc struct {
	name    harness.Component
	logPath string
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
	in      procInput // to start it again in place (fault scenarios)
	ready   readyFunc
}

func startProc(in procInput) (*proc, error) {
	logFile, err := os.OpenFile(in.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log for %s: %w", in.Name, err)
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd := exec.Command(in.Path, in.Args...)
	cmd.Env = append(os.Environ(), in.Env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Own process group: a terminal's Ctrl-C reaches only the suite, which then
	// stops the components in order instead of all dying at once.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: in.RunAs}
	if !in.Keep {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", in.Name, in.Path, err)
	}
	p := &proc{name: in.Name, logPath: in.LogPath, cmd: cmd, done: make(chan struct{}), in: in}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited returns nil while the process runs, and an error quoting its log once it has ended.
func (p *proc) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited (%v); last lines of %s:\n%s", p.name, p.waitErr, p.logPath, harness.TailFile(p.logPath, 15))
	default:
		return nil
	}
}

// stop sends SIGTERM to the process group, and SIGKILL after grace.
func (p *proc) stop(grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	pgid := p.cmd.Process.Pid
	sig := p.in.StopSignal
	if sig == 0 {
		sig = syscall.SIGTERM
	}
	_ = syscall.Kill(-pgid, sig)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	select {
	case <-p.done:
		return fmt.Errorf("%s ignored %s for %s and was killed", p.name, sig, grace)
	case <-time.After(grace):
		return fmt.Errorf("%s (pid %d) survived SIGKILL; you may need to kill it by hand", p.name, pgid)
	}
}

// runStep runs a process to completion (initdb, migrate), bounded by timeout.
func runStep(ctx context.Context, in procInput, timeout time.Duration) error {
	p, err := startProc(in)
	if err != nil {
		return err
	}
	stepCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	select {
	case <-p.done:
	case <-stepCtx.Done():
		_ = p.stop(time.Second)
		why := fmt.Sprintf("did not finish within %s (-kc.intervals process-step)", timeout)
		if ctx.Err() != nil {
			why = fmt.Sprintf("was stopped: the run's own bound ended first (%v; see -kc.intervals stack-up)", context.Cause(ctx))
		}
		return fmt.Errorf("%s %s; last lines of %s:\n%s", in.Name, why, in.LogPath, harness.TailFile(in.LogPath, 15))
	}
	if p.waitErr != nil {
		return fmt.Errorf("%s failed (%v); last lines of %s:\n%s", in.Name, p.waitErr, in.LogPath, harness.TailFile(in.LogPath, 15))
	}
	return nil
}

// unprivileged returns a user to run Postgres as when the suite runs as root
// (Postgres refuses to run as root); nil when the suite is not root.
func unprivileged() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root, and neither user postgres nor nobody exists to run Postgres as; create one (Debian: the postgresql package does)")
}

// commandLine renders a command for the environment record and keep instructions.
func commandLine(path string, args []string) string {
	return strings.TrimSpace(path + " " + strings.Join(args, " "))
}

// logSize is the current size of a log file, 0 when it does not exist yet.
func logSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}
