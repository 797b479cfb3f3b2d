package containers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"kratos-conformance/harness"
)

// hostAddr is 127.0.0.1:<mapped port> of a container port.
func hostAddr(ctx context.Context, c testcontainers.Container, port string) (string, error) {
	p, err := c.MappedPort(ctx, port)
	if err != nil {
		return "", fmt.Errorf("mapped port %s: %w", port, err)
	}
	return "127.0.0.1:" + p.Port(), nil
}

// alive reports why waiting on a container is pointless: it is not running.
func (s *Stack) alive(ctx context.Context, name harness.Component, c testcontainers.Container) func() error {
	return func() error {
		st, err := c.State(ctx)
		if err != nil || st.Running {
			return nil
		}
		return fmt.Errorf("%s exited with %v%s", name, exitCode(st), s.logTail(ctx, c))
	}
}

func exitCode(st *container.State) any {
	if st == nil {
		return "an unknown status"
	}
	return "code " + strconv.Itoa(st.ExitCode)
}

func (s *Stack) logs(ctx context.Context, c testcontainers.Container) string {
	if isNil(c) {
		return ""
	}
	r, err := c.Logs(ctx)
	if err != nil {
		return ""
	}
	defer r.Close()
	b, _ := io.ReadAll(r)
	return string(b)
}

// logTail quotes a container's last log lines for an error message.
func (s *Stack) logTail(ctx context.Context, c testcontainers.Container) string {
	if logs := s.logs(ctx, c); logs != "" {
		return "\nlast lines of its log:\n" + harness.LastLines(logs, 15)
	}
	return ""
}

// imageHint adds what to do when an image could not be had.
func imageHint(err error, flag, image string) error {
	msg := err.Error()
	if strings.Contains(msg, "pull") || strings.Contains(msg, "registry") || strings.Contains(msg, "No such image") || strings.Contains(msg, "not found") {
		return fmt.Errorf("%w\nimage %s is not on this machine and cannot be pulled: run `make images` (it writes .cache/images.env) or pass %s", err, image, flag)
	}
	return err
}

func (s *Stack) Endpoints() harness.Endpoints     { return s.endpoints }
func (s *Stack) KratosConfig() []byte             { return s.config }
func (s *Stack) Environment() harness.Environment { return s.env }

// CollectLogs writes each container's log to <dir>/<name>.log.
func (s *Stack) CollectLogs(ctx context.Context, dir string) error {
	var errs []error
	for _, n := range s.ctrs {
		errs = append(errs, os.WriteFile(filepath.Join(dir, string(n.name)+".log"), []byte(s.logs(ctx, n.c)), 0o644))
	}
	return errors.Join(errs...)
}

// ProcessGroups maps kratos and postgres to their main process on this host,
// for CPU accounting (containers share the host's kernel and /proc).
func (s *Stack) ProcessGroups() map[harness.Component]int {
	out := map[harness.Component]int{}
	for _, n := range s.ctrs {
		if inspect, err := n.c.Inspect(context.Background()); err == nil && inspect.State != nil && inspect.State.Pid > 0 {
			out[n.name] = inspect.State.Pid
		}
	}
	return out
}

// Down terminates the containers in reverse order, removes the network, then
// sweeps anything still labelled with the run.
func (s *Stack) Down(ctx context.Context) error {
	var errs []error
	for i := len(s.ctrs) - 1; i >= 0; i-- {
		errs = append(errs, testcontainers.TerminateContainer(s.ctrs[i].c, testcontainers.StopContext(ctx)))
	}
	s.ctrs = nil
	if s.network != nil {
		errs = append(errs, s.network.Remove(ctx))
		s.network = nil
	}
	errs = append(errs, sweep(ctx, s.runID))
	return errors.Join(errs...)
}

// Keep leaves the containers running and says how to reach and remove them.
func (s *Stack) Keep() string {
	e := s.endpoints
	return fmt.Sprintf(`The stack is still running (-kc.keep):
  Kratos public: %s (resolve %s to 127.0.0.1, trust %s)
  Kratos admin:  %s
  Mailpit:       %s
  Postgres:      %s
Remove it with:
  docker rm -f $(docker ps -aq --filter label=%s=%s); docker network rm $(docker network ls -q --filter label=%s=%s)`,
		e.KratosPublic, e.KratosPublic.Hostname(), filepath.Join(s.logDir, "ca.crt"), e.KratosAdmin, e.MailpitAPI, e.PostgresDSN,
		LabelRun, s.runID, LabelRun, s.runID)
}

// sweepDeadRuns removes the objects of runs whose suite process is gone
// (killed before its teardown), unless they were kept on purpose.
func sweepDeadRuns(ctx context.Context) {
	cli, err := dockerClient(ctx, 10*time.Second)
	if err != nil {
		return
	}
	defer cli.Close()
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", LabelRun)})
	if err != nil {
		return
	}
	dead := map[string]bool{}
	for _, c := range cs.Items {
		pid, err := strconv.Atoi(c.Labels[labelPID])
		if err != nil || c.Labels[labelKept] == "true" || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			dead[c.Labels[LabelRun]] = true
		}
	}
	for run := range dead {
		_ = sweep(ctx, run)
	}
}
