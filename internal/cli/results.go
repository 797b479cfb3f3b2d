package cli

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"kratos-conformance/harness"
	"kratos-conformance/load"
	"kratos-conformance/reports"
)

// Results prints a run folder's verdict, why it is not PASS, its failed
// requirements and its capacity figures; the exit status is the verdict's
// (0 PASS, 1 FAIL or PARTIAL, 2 could not run or no such run), so a
// pipeline can gate on a run made elsewhere.
func Results(name string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s [RUN]   (a run folder; default the newest under %s)\n", name, defaultOut())
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 1 {
		if err == nil {
			fs.Usage()
		}
		return reports.ExitCannotRun
	}
	dir := fs.Arg(0)
	if dir == "" {
		var err error
		if dir, err = newestRun(defaultOut()); err != nil {
			return failed(stderr, name, err)
		}
	}
	s, err := reports.ReadSummary(dir)
	if err != nil {
		return failed(stderr, name, err)
	}
	fmt.Fprintf(stdout, "Run %s, started %s, judged by kratos-conformance %s (commit %s)\n", s.RunID, s.StartedAt.Format("2006-01-02 15:04 MST"), s.Suite.Version, s.Suite.Commit)
	fmt.Fprintf(stdout, "Kratos %s on the %s provider\n", cmp.Or(s.Environment.KratosVersion, "(version not read)"), s.Environment.Provider)
	fmt.Fprintf(stdout, "Verdict: %s (%s)\n", s.Headline(), s.Counts.Tally())
	for _, reason := range append(slices.Clone(s.Reasons), s.Partial...) {
		fmt.Fprintf(stdout, "  - %s\n", reason)
	}
	for _, line := range s.FailedRequirements() {
		fmt.Fprintf(stdout, "  FAIL %s\n", line)
	}
	if res, err := load.ReadResult(dir); err == nil {
		printCapacity(stdout, res)
	}
	fmt.Fprintf(stdout, "Reports: %s (summary.md, junit.xml)\n", dir)
	switch {
	case s.CouldNotRun:
		return reports.ExitCannotRun
	case s.Verdict == reports.Pass:
		return 0
	default:
		return reports.ExitVerdict
	}
}

// printCapacity gives each scenario's max sustainable rate and what ran out.
func printCapacity(w io.Writer, res *load.Result) {
	fmt.Fprintf(w, "Load (%s):\n", res.Profile)
	for _, c := range res.Scenarios {
		fmt.Fprintf(w, "  %-16s max %.1f/s within p99 %.0f ms", c.Scenario, c.MaxSustainableRPS, c.SLOMillis)
		if c.LimitedBy != nil {
			fmt.Fprintf(w, "; limited by %s", c.LimitedBy.Resource)
		}
		fmt.Fprintln(w)
	}
	if m := res.Mix; m != nil {
		fmt.Fprintf(w, "  %-16s max %.1f/s in total", "mix", m.MaxTotalRPS)
		if m.LimitedBy != nil {
			fmt.Fprintf(w, "; limited by %s", m.LimitedBy.Resource)
		}
		fmt.Fprintln(w)
	}
}

// defaultOut is where runs go by default (harness.OutDir).
func defaultOut() string {
	root, _ := harness.RepoRoot()
	return harness.OutDir(root, "")
}

// newestRun is the most recently changed run folder (one with a summary) under parent.
func newestRun(parent string) (string, error) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return "", fmt.Errorf("no runs in %s: %w (give a run folder)", parent, err)
	}
	var newest string
	var newestAt int64
	for _, e := range entries {
		st, err := os.Stat(filepath.Join(parent, e.Name(), "summary.json"))
		if err != nil || !e.IsDir() {
			continue
		}
		if at := st.ModTime().UnixNano(); newest == "" || at > newestAt {
			newest, newestAt = filepath.Join(parent, e.Name()), at
		}
	}
	if newest == "" {
		return "", errors.New("no run folder with a summary.json in " + parent + " (give a run folder)")
	}
	return newest, nil
}
