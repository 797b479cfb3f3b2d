// Command kcrepeat runs the conformance suite N times in random order and
// reports the flake rate: runs with any failure, specs that failed in some
// runs and passed in others, and specs that needed a retry. Retries are
// allowed only to be counted, never to hide a failure.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"kratos-conformance/harness"
)

type summary struct {
	Verdict string `json:"verdict"`
	Specs   []struct {
		Name     string `json:"name"`
		State    string `json:"state"`
		Attempts int    `json:"attempts"`
		Expected bool   `json:"expected_failure"`
	} `json:"specs"`
}

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
	failedRuns, retried := 0, map[string]int{}
	fails, expected := map[string]int{}, map[string]int{}
	for i := 1; i <= *n && ctx.Err() == nil; i++ {
		out := filepath.Join(root, "reports", "out", "repeat", strconv.Itoa(i))
		cmd := exec.CommandContext(ctx, "go", append([]string{"run", "github.com/onsi/ginkgo/v2/ginkgo", "--no-color",
			"--randomize-all", "--flake-attempts=2", "./suites/conformance", "--", "-kc.out=" + out}, strings.Fields(*args)...)...)
		cmd.Dir = root
		_ = cmd.Run() // the summary says what happened
		b, err := os.ReadFile(filepath.Join(out, "latest", "summary.json"))
		var s summary
		if err == nil {
			err = json.Unmarshal(b, &s)
		}
		if err != nil || s.Verdict != "PASS" {
			failedRuns++
		}
		for _, sp := range s.Specs {
			if sp.Expected {
				// Listed in expected-failures.yaml: it fails every time, by design
				// of the list, and its retry says nothing about flakiness.
				expected[sp.Name]++
				continue
			}
			if sp.State != "passed" && sp.State != "skipped" {
				fails[sp.Name]++
			}
			if sp.Attempts > 1 {
				retried[sp.Name]++
			}
		}
		fmt.Printf("run %d/%d: %s (%d specs)\n", i, *n, orDefault(s.Verdict, "no summary"), len(s.Specs))
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
