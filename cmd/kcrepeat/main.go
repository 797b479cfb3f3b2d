// Command kcrepeat runs the conformance suite N times in random order and
// reports the flake rate: runs with any failure, specs that failed in some
// runs and passed in others, and specs that needed a retry. Retries are
// allowed only to be counted, never to hide a failure.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"kratos-conformance/harness"
	"kratos-conformance/reports"
)

func main() {
	n := flag.Int("n", 20, "how many runs")
	args := flag.String("args", "", "extra suite flags")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := harness.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kcrepeat:", err)
		os.Exit(1)
	}
	bin, err := harness.CompiledSuite(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kcrepeat:", err)
		os.Exit(1)
	}
	run, err := reports.NewRun(filepath.Join(root, "reports", "out", "repeat"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "kcrepeat:", err)
		os.Exit(1)
	}
	failedRuns, retried := 0, map[string]int{}
	fails, expected := map[string]int{}, map[string]int{}
	for i := 1; i <= *n && ctx.Err() == nil; i++ {
		dir := filepath.Join(run.Dir, strconv.Itoa(i)) // fresh: a summary there is this run's
		err := harness.RunCompiledSuite(ctx, bin, root, dir, io.Discard, append([]string{"-ginkgo.no-color", "-ginkgo.randomize-all",
			"-ginkgo.flake-attempts=2"}, strings.Fields(*args)...)...)
		var s *reports.Summary
		if err == nil {
			s, err = reports.ReadSummary(dir) // the summary says what happened
		}
		if err != nil {
			s = &reports.Summary{}
		}
		if err != nil || s.Verdict != reports.Pass {
			failedRuns++
		}
		for _, sp := range s.Specs {
			if sp.ExpectedFailure {
				// Listed in expected-failures.yaml: it fails every time, by design
				// of the list, and its retry says nothing about flakiness.
				expected[sp.Name]++
				continue
			}
			if sp.Failure != "" {
				fails[sp.Name]++
			}
			if sp.Attempts > 1 {
				retried[sp.Name]++
			}
		}
		fmt.Printf("run %d/%d: %s (%d specs)\n", i, *n, orDefault(string(s.Verdict), "no summary"), len(s.Specs))
	}
	fmt.Printf("flake rate: %d of %d runs had a failure\n", failedRuns, *n)
	report := func(title string, m map[string]int) {
		var names []string
		for k := range m {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Printf("  %s: %s (%d of %d runs)\n", title, k, m[k], *n)
		}
	}
	report("failed", fails)
	report("needed a retry", retried)
	report("expected failure (listed, not counted)", expected)
	fmt.Printf("repeat: %d passed, %d failed\n", *n-failedRuns, failedRuns)
	if failedRuns > 0 || len(retried) > 0 {
		os.Exit(1)
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
