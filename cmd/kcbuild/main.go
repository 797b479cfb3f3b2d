// Command kcbuild builds (or finds in the build cache, build.CacheDir) the
// pinned Kratos and Mailpit the process provider runs, showing go build's
// output, so a cold first run is not minutes of silence inside the test
// binary. -cache-dir prints the cache folder and exits.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"kratos-conformance/harness"
	"kratos-conformance/internal/build"
)

func main() {
	printCache := flag.Bool("cache-dir", false, "print the build cache folder and exit")
	printKratos := flag.Bool("kratos-path", false, "build or find the pinned Kratos and print only its path (build output on stderr)")
	flag.Parse()
	cache, err := build.CacheDir()
	if err != nil {
		fail(err)
	}
	if *printCache {
		fmt.Println(cache)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := harness.RepoRoot()
	if err != nil {
		fail(err)
	}
	in := build.Input{RepoRoot: root, CacheDir: cache, Timeout: harness.DefaultIntervals().Build, Log: os.Stderr}
	if *printKratos {
		bin, err := build.Kratos(ctx, in)
		if err != nil {
			fail(err)
		}
		fmt.Println(bin.Path)
		return
	}
	for _, b := range []struct {
		name  string
		build func(context.Context, build.Input) (build.Binary, error)
	}{{"Kratos", build.Kratos}, {"Mailpit", build.Mailpit}} {
		start := time.Now()
		fmt.Printf("%s: checking the build cache (a cold build takes minutes on 2 cores)\n", b.name)
		stopBeat := heartbeat(b.name, start)
		bin, err := b.build(ctx, in)
		stopBeat()
		if err != nil {
			fail(err)
		}
		how := "cached"
		if bin.Built {
			how = "built in " + time.Since(start).Round(time.Second).String()
		}
		fmt.Printf("%s %s: %s (%s)\n", b.name, bin.Version, bin.Path, how)
	}
}

// heartbeatEvery: go build compiles for minutes without a line of output.
const heartbeatEvery = 30 * time.Second

// heartbeat prints how long the build has run until stop is called, so a
// cold build is not minutes of silence (cold, here: Kratos about 6 minutes,
// Mailpit about 3, on 2 cores).
func heartbeat(name string, start time.Time) (stop func()) {
	t := time.NewTicker(heartbeatEvery)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Printf("%s: still building, %s so far (cold on 2 cores: Kratos about 6 min, Mailpit about 3)\n", name, time.Since(start).Round(time.Second))
			}
		}
	}()
	return func() { t.Stop(); close(done) }
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kcbuild:", err)
	os.Exit(1)
}
