// Command kcbreak proves the suite's checks bite: it runs the conformance
// suite once per deliberate breakage of the Kratos config (fixtures.Breakages)
// and fails unless every requirement the breakage must break is reported FAIL.
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
	"slices"
	"strings"
	"syscall"
	"time"

	"kratos-conformance/fixtures"
	"kratos-conformance/harness"
)

func main() {
	only := flag.String("only", "", "comma-separated breakage names; default all: "+fixtures.BreakageNames())
	args := flag.String("args", "", "extra suite flags, e.g. -kc.provider=containers")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := harness.RepoRoot()
	if err != nil {
		fail(err)
	}
	bitten, total := 0, 0
	for _, b := range fixtures.Breakages {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), b.Name) {
			continue
		}
		total++
		out := filepath.Join(root, "reports", "out", "breakages", b.Name)
		start := time.Now()
		cmd := exec.CommandContext(ctx, "go", append([]string{"run", "github.com/onsi/ginkgo/v2/ginkgo", "--no-color",
			"./suites/conformance", "--", "-kc.break=" + b.Name, "-kc.out=" + out}, strings.Fields(*args)...)...)
		cmd.Dir = root
		log, _ := cmd.CombinedOutput() // a broken config must fail the run; the summary says how
		statuses, err := requirementStatuses(filepath.Join(out, "latest", "summary.json"))
		if err != nil {
			fmt.Printf("%-26s ERROR %v\n%s\n", b.Name, err, harness.LastLines(string(log), 15))
			continue
		}
		var missed []string
		for _, id := range b.MustFail {
			if statuses[id] != "FAIL" {
				status := statuses[id]
				if status == "" {
					status = "not run"
				}
				missed = append(missed, fmt.Sprintf("%s=%s", id, status))
			}
		}
		var failed []string
		for id, st := range statuses {
			if st == "FAIL" {
				failed = append(failed, id)
			}
		}
		if len(missed) == 0 {
			bitten++
			fmt.Printf("%-26s BITES  %s -> failed %v (%s)\n", b.Name, b.Description, slices.Sorted(slices.Values(failed)), time.Since(start).Round(time.Second))
		} else {
			fmt.Printf("%-26s MISSED %s -> still passing: %v; failed %v\n", b.Name, b.Description, missed, slices.Sorted(slices.Values(failed)))
		}
	}
	fmt.Printf("breakages: %d passed, %d failed\n", bitten, total-bitten)
	if bitten != total {
		os.Exit(1)
	}
}

func requirementStatuses(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s struct {
		Requirements []struct{ ID, Status string } `json:"requirements"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, r := range s.Requirements {
		out[r.ID] = r.Status
	}
	return out, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kcbreak:", err)
	os.Exit(1)
}
