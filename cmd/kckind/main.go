// Command kckind builds what the kind provider needs, into caches outside
// the clone: the binaries of a kind node (kind/images/binaries.sh), then, in
// the private Docker engine, the node image with the stack's images baked in
// (kind/images/node.sh). Cold it takes about 25-40 minutes on 2 cores and
// about 20 GB of disk; warm, seconds.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"kratos-conformance/harness"
	"kratos-conformance/internal/build"
	"kratos-conformance/kind/engine"
)

// needGB is the free disk a cold build needs: module and build caches,
// the Kubernetes binaries and the engine's images.
const needGB = 20

func main() {
	engineReady := flag.Duration("engine-ready", time.Minute, "how long the private Docker engine may take to answer")
	check := flag.Bool("check", false, "only say, in seconds, whether this machine can build and run kind (exit 1 and the reason if not)")
	cached := flag.Bool("cached", false, "with -check: also require the node image to be built already (make test never starts a cold build)")
	flag.Parse()
	if *check {
		err := canRun()
		if err == nil && *cached {
			err = nodeImageCached()
		}
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("kind can run here")
		return
	}
	if err := run(*engineReady); err != nil {
		fmt.Fprintln(os.Stderr, "kind-images:", err)
		os.Exit(1)
	}
}

func run(engineReady time.Duration) error {
	root, err := harness.RepoRoot()
	if err != nil {
		return err
	}
	cache, err := build.CacheDir()
	if err != nil {
		return err
	}
	kindCache := filepath.Join(cache, "kind")
	if err := os.MkdirAll(kindCache, 0o755); err != nil {
		return err
	}
	if err := engine.Preflight(); err != nil {
		return err
	}
	if err := buildTools(); err != nil {
		return err
	}
	if err := enoughDisk(kindCache); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := append(os.Environ(), "KIND_CACHE="+kindCache)
	if err := script(ctx, root, "binaries.sh", env); err != nil {
		return err
	}
	e := engine.New(filepath.Join(kindCache, "engine"))
	defer func() {
		if err := e.Stop(10 * time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "kind-images:", err)
		}
	}()
	fmt.Println("kind-images: starting the private Docker engine")
	if err := e.Start(ctx, engineReady, 250*time.Millisecond); err != nil {
		return err
	}
	return script(ctx, root, "node.sh", append(env, "DOCKER_HOST="+e.Host()))
}

func script(ctx context.Context, root, name string, env []string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(root, "kind", "images", name))
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = root, env, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Ctrl-C ends the whole build, not only the shell.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kind/images/%s: %w", name, err)
	}
	return nil
}

// canRun checks what kind needs of this machine without building anything:
// the engine's prerequisites, a network namespace made for real, the disk.
func canRun() error {
	if err := engine.Preflight(); err != nil {
		return err
	}
	if out, err := exec.Command("unshare", "--net", "--mount", "true").CombinedOutput(); err != nil {
		return fmt.Errorf("cannot make network and mount namespaces here (unshare --net --mount: %v: %s)", err, out)
	}
	cache, err := build.CacheDir()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(cache, "kind"), 0o755); err != nil {
		return err
	}
	return enoughDisk(filepath.Join(cache, "kind"))
}

// nodeImageCached says whether make kind-images has built the node image.
func nodeImageCached() error {
	cache, err := build.CacheDir()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(cache, "kind", "node-image")); err != nil {
		return fmt.Errorf("the kind node image is not built on this machine (make kind-images builds it once: 25-40 minutes, about 20 GB)")
	}
	return nil
}

// buildTools are the commands kind/images/*.sh call, checked before the
// first build step so a missing one costs seconds, not a 30-minute build
// (make kind-images installs them as root: make deps-kind).
func buildTools() error {
	var missing []string
	for _, c := range []string{"debootstrap", "jq", "gcc"} {
		if _, err := exec.LookPath(c); err != nil {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s, which the node image build needs: run make deps-kind as root, or apt-get install -y %s",
			strings.Join(missing, ", "), strings.Join(missing, " "))
	}
	return nil
}

// enoughDisk refuses a cold build that would fill the disk half way; a warm
// cache (the node image recorded) needs no more.
func enoughDisk(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "node-image")); err == nil {
		return nil
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return err
	}
	free := float64(st.Bavail) * float64(st.Bsize) / (1 << 30)
	if free < needGB {
		return fmt.Errorf("%s has %.1f GB free; a cold build of the kind images needs about %d GB "+
			"(Go module and build caches, the Kubernetes binaries, the engine's images): free some space and run make kind-images again", dir, free, needGB)
	}
	return nil
}
