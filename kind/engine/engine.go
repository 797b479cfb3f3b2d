// Package engine runs a private Docker engine for kind on a machine whose own
// engine refuses --privileged (every kind node is a privileged container):
// containerd and dockerd in a network namespace and a mount namespace of
// their own, data under one folder that outlives the run (its images are the
// node image and the stack's), and a runc wrapper as the default runtime that
// drops the one capability the sandbox lacks. Nothing on the host changes:
// the overlay kind needs on /usr/lib (for /lib/modules) lives and dies with
// the mount namespace, the network namespace is deleted by Stop.
package engine

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/moby/client"

	"kratos-conformance/internal/wait"
)

//go:embed runc-nosysres
var runcWrapper []byte

// Engine is one private Docker engine. Only one runs per data folder at a time.
type Engine struct {
	dir   string
	netns string
	cmd   *exec.Cmd
	lock  *os.File
}

// New prepares an engine whose data and sockets live in dir; it starts nothing.
func New(dir string) *Engine {
	return &Engine{dir: dir, netns: "kc-kind-" + strconv.Itoa(os.Getpid())}
}

// Host is the engine's address, for DOCKER_HOST or a Docker API client.
func (e *Engine) Host() string { return "unix://" + filepath.Join(e.dir, "docker.sock") }

// NetNS is the path of the network namespace dockerd, its containers and
// their published ports live in.
func (e *Engine) NetNS() string { return "/run/netns/" + e.netns }

// Preflight says, within seconds, what this machine lacks to run the engine.
func Preflight() error {
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (network and mount namespaces)")
	}
	for _, bin := range []string{"ip", "unshare", "nsenter", "dockerd", "containerd", "runc", "jq"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if _, err := os.Stat("/usr/sbin/runc"); err != nil {
		missing = append(missing, "/usr/sbin/runc (Debian package runc)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("the private Docker engine for kind needs %s (Debian packages iproute2, util-linux, docker.io, containerd, runc, jq)", strings.Join(missing, ", "))
	}
	return nil
}

// Sweep ends what a killed run left, if no live run holds the engine's
// lock; it returns that error when one does.
func (e *Engine) Sweep() error {
	lock, err := os.OpenFile(filepath.Join(e.dir, "engine.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		return nil // no engine ever ran here
	}
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("a live run uses the private Docker engine in %s: nothing swept", e.dir)
	}
	e.sweep()
	return nil
}

// Start starts containerd and dockerd and waits, within ready, until the
// engine answers. On error, Stop still removes what was started.
func (e *Engine) Start(ctx context.Context, ready, poll time.Duration) error {
	if err := os.MkdirAll(e.dir, 0o700); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(e.dir, "engine.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return fmt.Errorf("another run uses the private Docker engine in %s: wait for it to end", e.dir)
	}
	e.lock = lock
	// Holding the lock, anything a killed run left is stale: end it first.
	e.sweep()
	if out, err := exec.CommandContext(ctx, "ip", "netns", "add", e.netns).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns add %s: %v: %s", e.netns, err, out)
	}
	if err := os.WriteFile(filepath.Join(e.dir, "netns"), []byte(e.netns), 0o600); err != nil {
		return err
	}
	if out, err := exec.CommandContext(ctx, "ip", "netns", "exec", e.netns, "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return fmt.Errorf("loopback in %s: %v: %s", e.netns, err, out)
	}
	wrapper := filepath.Join(e.dir, "runc-nosysres")
	if err := os.WriteFile(wrapper, runcWrapper, 0o755); err != nil {
		return err
	}
	daemon, err := json.Marshal(map[string]any{
		"runtimes": map[string]any{"nosysres": map[string]string{"path": wrapper}}, "default-runtime": "nosysres",
		"storage-driver": "overlay2", "data-root": filepath.Join(e.dir, "docker"), "exec-root": filepath.Join(e.dir, "exec"),
		"pidfile": filepath.Join(e.dir, "dockerd.pid"), "hosts": []string{e.Host()},
		"bip": "10.99.0.1/24", "default-address-pools": []map[string]any{{"base": "10.98.0.0/16", "size": 24}},
		"containerd": filepath.Join(e.dir, "exec", "containerd.sock"), "cgroup-parent": "/" + e.cgroup(), "log-level": "warn",
	})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(e.dir, "daemon.json"), daemon, 0o600); err != nil {
		return err
	}
	for _, d := range []string{"exec", "libup", "libwork"} {
		if err := os.MkdirAll(filepath.Join(e.dir, d), 0o700); err != nil {
			return err
		}
	}
	logf, err := os.Create(filepath.Join(e.dir, "engine.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	d := e.dir
	script := strings.Join([]string{
		"set -e",
		// kind bind-mounts /lib/modules, which this machine lacks: an overlay in this mount namespace only.
		fmt.Sprintf("mount -t overlay overlay -o lowerdir=/usr/lib,upperdir=%s/libup,workdir=%s/libwork /usr/lib", d, d),
		"mkdir -p /usr/lib/modules",
		fmt.Sprintf("nsenter --net=%s containerd --address %s/exec/containerd.sock --root %s/containerd --state %s/exec/containerd-state &", e.NetNS(), d, d, d),
		fmt.Sprintf("echo $! > %s/containerd.pid", d),
		fmt.Sprintf("exec nsenter --net=%s dockerd --config-file %s/daemon.json", e.NetNS(), d),
	}, "\n")
	e.cmd = exec.Command("unshare", "-m", "--propagation", "slave", "bash", "-c", script)
	e.cmd.Stdout, e.cmd.Stderr = logf, logf
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := e.cmd.Start(); err != nil {
		return fmt.Errorf("start the private Docker engine: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- e.cmd.Wait() }()
	cli, err := client.New(client.WithHost(e.Host()), client.WithAPIVersionNegotiation())
	if err != nil {
		return err
	}
	defer cli.Close()
	return wait.For(ctx, wait.Input{Name: "private Docker engine " + e.Host(), Timeout: ready, Interval: poll,
		Alive: func() error {
			select {
			case err := <-exited:
				exited <- err
				return fmt.Errorf("dockerd exited (%v); its log %s:\n%s", err, logf.Name(), tail(logf.Name()))
			default:
				return nil
			}
		},
		Check: func(ctx context.Context) error { _, err := cli.Ping(ctx, client.PingOptions{}); return err },
	})
}

// Stop ends dockerd and containerd (SIGTERM, then SIGKILL after grace) and
// every container process they left, deletes the network namespace and releases the data folder. Safe after a
// failed Start and safe to call twice.
func (e *Engine) Stop(grace time.Duration) error {
	var errs []error
	if e.cmd != nil && e.cmd.Process != nil {
		pgid := e.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		deadline := time.Now().Add(grace)
		for time.Now().Before(deadline) && syscall.Kill(-pgid, 0) == nil {
			time.Sleep(100 * time.Millisecond) // bounded by grace: polling a process group's exit
		}
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		e.cmd = nil
	}
	e.killPIDFiles()
	// Containers the daemons did not stop within grace (a kind node's
	// systemd takes longer) outlive them in their shims: end them too.
	killCgroup(e.cgroup(), e.dir)
	if err := exec.Command("ip", "netns", "del", e.netns).Run(); err != nil && namespaceExists(e.netns) {
		errs = append(errs, fmt.Errorf("ip netns del %s: %v (remove it by hand)", e.netns, err))
	}
	_ = os.Remove(filepath.Join(e.dir, "netns"))
	if e.lock != nil {
		e.lock.Close()
		e.lock = nil
	}
	return errors.Join(errs...)
}

// cgroup is the cgroup parent of every container of this engine (one per
// data folder): what is left in it belongs to no live run once the engine's
// lock is held.
func (e *Engine) cgroup() string {
	sum := sha256.Sum256([]byte(e.dir))
	return "kratos-conformance-kind-" + hex.EncodeToString(sum[:4])
}

// sweep ends what a killed run (or a kept cluster) left: its daemons, the
// containers' shims and processes (which outlive their daemons by design),
// and its network namespace.
func (e *Engine) sweep() {
	e.killPIDFiles()
	killCgroup(e.cgroup(), e.dir)
	if b, err := os.ReadFile(filepath.Join(e.dir, "netns")); err == nil && len(b) > 0 {
		_ = exec.Command("ip", "netns", "del", string(b)).Run()
	}
}

func (e *Engine) killPIDFiles() {
	for _, name := range []string{"dockerd", "containerd"} {
		f := filepath.Join(e.dir, name+".pid")
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// A pid file outlives its process; only a process that still runs
		// this engine's daemon (its folder on the command line) is ended.
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
			if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil &&
				strings.Contains(string(cmdline), name) && strings.Contains(string(cmdline), e.dir) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		_ = os.Remove(f)
	}
}

// killCgroup kills every process in the cgroup tree name, under each
// cgroup v1 controller and under the v2 unified root, and the containerd
// shims of the engine in dir that served them.
func killCgroup(name, dir string) {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*/" + name)
	roots = append(roots, "/sys/fs/cgroup/"+name)
	for _, root := range roots {
		_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
				return nil
			}
			b, _ := os.ReadFile(path)
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			return nil
		})
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), "containerd-shim") && strings.Contains(string(b), dir) {
			if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

func namespaceExists(name string) bool {
	_, err := os.Stat("/run/netns/" + name)
	return err == nil
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-15):], "\n")
}
