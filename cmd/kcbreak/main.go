// Command kcbreak proves the suite's checks bite: it runs the compiled suite
// (bin/kratos-conformance) once on the unbroken config, which must PASS, and
// once per deliberate breakage of it (fixtures.Breakages), each into a fresh
// folder of one run, and fails unless every breakage fails exactly the
// requirements it claims: none missing, none unexplained. With -args naming
// an operator's config (-kc.kratos-config), each breakage is a patch on it;
// one that cannot apply (no TOTP to hold to aal2) is reported N/A.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"kratos-conformance/fixtures"
	"kratos-conformance/harness"
	"kratos-conformance/reports"
)

func main() {
	only := flag.String("only", "", "comma-separated breakage names; default all: "+fixtures.BreakageNames())
	args := flag.String("args", "", "extra suite flags, e.g. -kc.provider=containers")
	parallel := flag.Int("parallel", 2, "runs side by side (each its own stack); 1: one after another")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := harness.RepoRoot()
	if err != nil {
		fail(err)
	}
	bin, err := harness.CompiledSuite(root)
	if err != nil {
		fail(err)
	}
	run, err := reports.NewRun(filepath.Join(root, "reports", "out", "breakages"))
	if err != nil {
		fail(err)
	}
	suite := func(ctx context.Context, name string, extra ...string) (*reports.Summary, string, error) {
		dir := filepath.Join(run.Dir, name)
		var log bytes.Buffer // a broken config must fail the run; the summary says how
		if err := harness.RunCompiledSuite(ctx, bin, root, dir, &log, append(append([]string{"-ginkgo.no-color"}, extra...), strings.Fields(*args)...)...); err != nil {
			return nil, log.String(), err
		}
		s, err := reports.ReadSummary(dir) // a fresh folder: a summary there is this run's
		return s, log.String(), err
	}

	// Each run is its own stack (ports, temp folder, database), so -parallel
	// of them run side by side; breakage runs have no load stage to disturb.
	// The control is first in line; a control that does not PASS cancels the rest.
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	controlPassed := false
	control := func(ctx context.Context) (string, bool) {
		start := time.Now()
		s, log, err := suite(ctx, "control")
		if err != nil || s.Verdict != reports.Pass {
			cancel()
			return fmt.Sprintf("%-26s ERROR  the unbroken config must PASS first: %v %v\n%s\n", "control", verdictOf(s), err, harness.LastLines(log, 15)), false
		}
		controlPassed = true
		return fmt.Sprintf("%-26s PASS   the unbroken config (%s)\n", "control", time.Since(start).Round(time.Second)), true
	}
	jobs := []func(context.Context) (string, bool){control}
	for _, b := range fixtures.Breakages {
		if *only == "" || slices.Contains(strings.Split(*only, ","), b.Name) {
			jobs = append(jobs, func(ctx context.Context) (string, bool) { return judge(ctx, suite, b) })
		}
	}
	passed := runAll(runCtx, jobs, *parallel)
	if !controlPassed {
		os.Exit(1)
	}
	bitten, total := passed-1, len(jobs)-1
	fmt.Printf("breakages: %d passed, %d failed (reports in %s)\n", bitten, total-bitten, run.Dir)
	if bitten != total {
		os.Exit(1)
	}
}

// runAll runs the jobs, parallel at a time, in order of the list, printing
// each one's lines when it ends; it returns how many were ok.
func runAll(ctx context.Context, jobs []func(context.Context) (string, bool), parallel int) int {
	var mu sync.Mutex
	ok := 0
	next := make(chan func(context.Context) (string, bool))
	var wg sync.WaitGroup
	for range max(parallel, 1) {
		wg.Go(func() {
			for job := range next {
				line, good := job(ctx)
				mu.Lock()
				fmt.Print(line)
				if good {
					ok++
				}
				mu.Unlock()
			}
		})
	}
	for _, job := range jobs {
		if ctx.Err() != nil {
			break
		}
		next <- job
	}
	close(next)
	wg.Wait()
	return ok
}

// runSuite runs the compiled suite once into a fresh folder named after the breakage.
type runSuite func(ctx context.Context, name string, extra ...string) (*reports.Summary, string, error)

// judge runs one breakage and says, in its result lines, whether it failed
// exactly the requirements it claims.
func judge(ctx context.Context, suite runSuite, b fixtures.Breakage) (string, bool) {
	start := time.Now()
	s, log, err := suite(ctx, b.Name, "-kc.break="+b.Name)
	if why, ok := notApplicable(s); ok {
		// An operator's config may lack what a breakage breaks (no TOTP, no CORS): nothing to bite on.
		return fmt.Sprintf("%-26s N/A    %s -> %s\n", b.Name, b.Description, why), true
	}
	if err == nil && s.Environment.Breakage != b.Name {
		err = fmt.Errorf("the summary in %s is of breakage %q", b.Name, s.Environment.Breakage)
	}
	if err != nil {
		return fmt.Sprintf("%-26s ERROR  %v\n%s\n", b.Name, err, harness.LastLines(log, 15)), false
	}
	failed := failedRequirements(s)
	missing := without(b.Fails(), failed)
	if s.Environment.OwnConfig != "" {
		// The knock-on failures were measured on the guide's config; on an
		// operator's, only the requirements the breakage targets must fail
		// (and nothing it does not explain).
		missing = without(b.MustFail, failed)
	}
	extra := without(failed, b.Fails())
	took := time.Since(start).Round(time.Second)
	switch {
	case len(missing) == 0 && len(extra) == 0:
		line := fmt.Sprintf("%-26s BITES  %s -> failed exactly %v (%s)\n", b.Name, b.Description, b.MustFail, took)
		if len(b.KnockOn) > 0 {
			line += fmt.Sprintf("%-26s        and, as claimed, %v: %s\n", "", b.KnockOn, b.Why)
		}
		return line, true
	case len(missing) > 0:
		return fmt.Sprintf("%-26s MISSED %s -> did not fail %v; failed %v\n", b.Name, b.Description, missing, failed), false
	default:
		return fmt.Sprintf("%-26s EXTRA  %s -> also failed %v, which the breakage does not explain; failed %v\n", b.Name, b.Description, extra, failed), false
	}
}

// notApplicable finds the run that stopped at start-up because the breakage
// cannot break this config, and says why.
func notApplicable(s *reports.Summary) (string, bool) {
	if s == nil || !s.CouldNotRun {
		return "", false
	}
	for _, r := range s.Reasons {
		if _, why, ok := strings.Cut(r, fixtures.NotApplicable.Error()); ok {
			return fixtures.NotApplicable.Error() + why, true
		}
	}
	return "", false
}

func failedRequirements(s *reports.Summary) []string {
	var ids []string
	for _, r := range s.Requirements {
		if r.Status == reports.Fail {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// without is a minus b.
func without(a, b []string) []string {
	return slices.DeleteFunc(slices.Clone(a), func(id string) bool { return slices.Contains(b, id) })
}

func verdictOf(s *reports.Summary) string {
	if s == nil {
		return "no summary"
	}
	return string(s.Verdict) + " " + strings.Join(s.Reasons, "; ")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kcbreak:", err)
	os.Exit(1)
}
