// Package conformance holds the Ginkgo specs that certify a Kratos deployment.
// It is the only package that asserts; harness, load and reports return data.
package conformance

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	kratosconformance "kratos-conformance"
	"kratos-conformance/harness"
	"kratos-conformance/harness/identityschema"
	_ "kratos-conformance/harness/provider/all"
	"kratos-conformance/load"
	"kratos-conformance/reports"
)

// The suite's one flag block (prefix kc., env KC_*); see harness.RegisterFlags.
var cfg = harness.DefaultConfig()

func init() { harness.RegisterFlags(flag.CommandLine, &cfg) }

// Set by the suite's setup; read by specs and the report.
var (
	run   *reports.Run
	stack harness.Stack
	ep    harness.Endpoints
	env   harness.Environment
	// schema is the deployment's identity schema, read from the deployment:
	// every identity a spec makes fits it.
	schema *identityschema.Schema
	iv     harness.Intervals
	phases []reports.Phase
	// expected is the operator's list of known failures (-kc.expected-failures).
	expected []reports.ExpectedFailure
	// final is the summary ReportAfterSuite decided; the exit status follows it.
	final *reports.Summary
)

func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	// A bad flag costs nothing: it is reported before anything starts.
	if err := cfg.Complete(flag.CommandLine); err != nil {
		t.Fatalf("bad kratos-conformance flags:\n%v\n(see -help for the kc.* flags)", err)
	}
	if cfg.Load != "off" {
		if _, err := load.LookupProfile(cfg.Load); err != nil {
			t.Fatalf("bad kratos-conformance flags:\n-kc.load: %v (or off)", err)
		}
	}
	// Outside the repository (the kratos-conformance binary) root is empty:
	// reports go under the working folder, the default list is the embedded one.
	root, _ := harness.RepoRoot()
	var err error
	if expected, err = loadExpectedFailures(root); err != nil {
		t.Fatalf("bad kratos-conformance flags:\n-kc.expected-failures: %v", err)
	}
	out := cfg.OutDir
	switch {
	case out != "":
	case root != "":
		out = filepath.Join(root, "reports", "out")
	default:
		out = "kratos-conformance-reports"
	}
	if cfg.RunDir != "" {
		run, err = reports.RunAt(cfg.RunDir)
	} else {
		run, err = reports.NewRun(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	iv = cfg.Intervals
	suiteCfg, reporterCfg := GinkgoConfiguration()
	reporterCfg.JUnitReport = "" // written from code into the run folder, see ReportAfterSuite
	var ginkgo ginkgoOutcome
	RunSpecs(&ginkgo, "Kratos conformance", suiteCfg, reporterCfg)
	// The exit follows the verdict, which excuses an operator's unexpired
	// expected failures and nothing else.
	if final == nil || !(final.Verdict == reports.Pass || final.Verdict == reports.Partial && cfg.Partial) ||
		(ginkgo.failed && final.Counts.ExpectedFailed == 0) {
		t.Fail()
	}
}

// loadExpectedFailures reads -kc.expected-failures: a relative path is from
// the repository's root (go test runs in the package folder), or from the
// working folder outside it; the default outside the repository is the copy
// compiled into the binary.
func loadExpectedFailures(root string) ([]reports.ExpectedFailure, error) {
	path := cfg.ExpectedFailures
	switch {
	case path == "":
		return nil, nil
	case filepath.IsAbs(path):
	case root != "":
		path = filepath.Join(root, path)
	case path == harness.DefaultConfig().ExpectedFailures && !fileExists(path):
		cfg.ExpectedFailures = "expected-failures.yaml (built in)"
		return reports.ParseExpectedFailures(cfg.ExpectedFailures, kratosconformance.ExpectedFailures)
	}
	cfg.ExpectedFailures = path
	return reports.LoadExpectedFailures(path)
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

// ginkgoOutcome records Ginkgo's own "the suite failed" for TestConformance to weigh.
type ginkgoOutcome struct{ failed bool }

func (o *ginkgoOutcome) Fail() { o.failed = true }

// borrowed is true when the deployment was running before the suite and
// outlives it (see harness.Borrowed).
func borrowed() bool {
	_, ok := stack.(harness.Borrowed)
	return ok
}

var _ = BeforeSuite(func(sctx SpecContext) {
	// The bound comes from the parsed flags, which node decorators (evaluated
	// at package init) cannot see.
	ctx, cancel := context.WithTimeout(sctx, iv.Build+iv.StackUp)
	defer cancel()
	root, _ := harness.RepoRoot() // empty outside the repository: Kratos and Mailpit must then be given
	var err error
	timed("build check", func() {
		stack, err = cfg.NewStack(ctx, harness.StackInput{RepoRoot: root, RunID: run.ID, LogDir: run.Dir, BuildLog: GinkgoWriter})
	})
	if err != nil {
		Fail(err.Error())
	}
	// Registered before Up's error is checked: a half-started stack is still
	// torn down. Logs are collected first, while the components exist.
	DeferCleanup(func(ctx SpecContext) {
		timed("teardown", func() { teardown(ctx) })
	}, NodeTimeout(iv.Teardown+iv.StopGrace))

	timed("stack up", func() { err = stack.Up(ctx) })
	env = stack.Environment() // what it got to, also for a stack that did not come up
	if err != nil {
		Fail("bringing up the " + cfg.Provider + " stack: " + err.Error())
	}
	ep, env = stack.Endpoints(), stack.Environment()
	readSchema(ctx)
	probeHasher(ctx)
})

func teardown(ctx context.Context) {
	if borrowed() && !cfg.Keep && ep.KratosAdmin != nil {
		// A live deployment keeps every identity the specs registered unless
		// the suite removes them; stacks the suite started go away whole.
		if err := deleteRegistered(ctx); err != nil {
			fmt.Fprintf(GinkgoWriter, "removing the run's identities: %v\n", err)
		}
	}
	if err := stack.CollectLogs(ctx, run.Dir); err != nil {
		fmt.Fprintf(GinkgoWriter, "collecting logs: %v\n", err)
	}
	if cfg.Keep {
		fmt.Println(stack.Keep())
		return
	}
	if err := stack.Down(ctx); err != nil {
		Fail("tearing down the stack: " + err.Error())
	}
}

func timed(phase string, f func()) {
	start := time.Now()
	defer func() { phases = append(phases, reports.Phase{Name: phase, Seconds: time.Since(start).Seconds()}) }()
	f()
}

var _ = ReportAfterSuite("kratos-conformance reports", func(r Report) {
	s := summarize(r)
	final = s
	junit := filepath.Join(run.Dir, "junit.xml")
	if err := reporters.GenerateJUnitReportWithConfig(junitView(r, s), junit, reporters.JunitReportConfig{OmitTimelinesForSpecState: types.SpecStatePassed}); err != nil {
		fmt.Fprintf(os.Stderr, "writing %s: %v\n", junit, err)
	}
	if err := s.Write(run.Dir); err != nil {
		fmt.Fprintf(os.Stderr, "writing the summary into %s: %v\n", run.Dir, err)
	}
	headline := "Kratos conformance verdict"
	if cfg.RunDir != "" {
		headline = "This stack (one part of a certification; the certification's verdict follows)"
	}
	fmt.Printf("\n%s: %s (%d passed, %d failed, %d skipped) on the %s provider\n",
		headline, s.Verdict, s.Counts.Passed, s.Counts.Failed, s.Counts.Skipped, cfg.Provider)
	if s.Counts.ExpectedFailed > 0 {
		fmt.Printf("  %d failed spec(s) are expected failures (%s); junit.xml marks them skipped with the reason\n", s.Counts.ExpectedFailed, cfg.ExpectedFailures)
	}
	for _, reason := range append(slices.Clone(s.Reasons), s.Partial...) {
		fmt.Printf("  - %s\n", reason)
	}
	if s.Verdict == reports.Partial && !cfg.Partial {
		fmt.Println("  (a partial run exits non-zero; -kc.partial accepts it when that is what you asked for)")
	}
	fmt.Printf("Reports: %s\n", run.Dir)
	// The plain closing line CI readers look for.
	fmt.Printf("conformance: %d passed, %d failed, %d skipped\n", s.Counts.Passed, s.Counts.Failed, s.Counts.Skipped)
})

// junitView is the report junit.xml is written from, so a CI that reads it
// agrees with the verdict: the failures the verdict excused become skips that
// say so, and a verdict the exit status rejects without a failed spec (a
// filtered run, a problem of the run) becomes one failed test case of its own.
func junitView(r Report, s *reports.Summary) Report {
	excused := map[string]bool{}
	for _, sp := range s.Specs {
		excused[sp.Name] = sp.ExpectedFailure
	}
	r.SpecReports = slices.Clone(r.SpecReports)
	for i, sr := range r.SpecReports {
		if sr.LeafNodeType == types.NodeTypeIt && excused[sr.FullText()] {
			sr.State = types.SpecStateSkipped
			sr.Failure.Message = "expected failure (" + cfg.ExpectedFailures + "), not counted: " + sr.Failure.Message
			r.SpecReports[i] = sr
		}
	}
	if s.Verdict != reports.Pass && !(s.Verdict == reports.Partial && cfg.Partial) {
		r.SpecReports = append(r.SpecReports, types.SpecReport{LeafNodeType: types.NodeTypeIt, State: types.SpecStateFailed,
			LeafNodeText: "the certification's verdict is " + string(s.Verdict),
			Failure:      types.Failure{Message: strings.Join(append(slices.Clone(s.Reasons), s.Partial...), "\n"), FailureNodeType: types.NodeTypeReportAfterSuite}})
	}
	return r
}
