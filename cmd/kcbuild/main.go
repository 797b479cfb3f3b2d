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
	for _, b := range []struct {
		name  string
		build func(context.Context, build.Input) (build.Binary, error)
	}{{"Kratos", build.Kratos}, {"Mailpit", build.Mailpit}} {
		start := time.Now()
		fmt.Printf("%s: checking the build cache (a cold build takes minutes on 2 cores)\n", b.name)
		bin, err := b.build(ctx, in)
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

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kcbuild:", err)
	os.Exit(1)
}
