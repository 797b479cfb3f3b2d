// Package conformance holds the Ginkgo specs that certify a Kratos deployment.
// It is the only package that asserts; harness, load and reports return data.
package conformance

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	kratosconformance "kratos-conformance"
	"kratos-conformance/harness"
	"kratos-conformance/harness/checks"
	_ "kratos-conformance/harness/provider/all"
	"kratos-conformance/harness/provider/kubernetes"
	"kratos-conformance/internal/wait"
	"kratos-conformance/load"
	"kratos-conformance/reports"
	"kratos-conformance/suites/framework"
)

// Main runs the suite as a program (the kratos-conformance binary): args
// are its -kc.* and -ginkgo.* flags; the exit status is the verdict's.
func Main(args []string) int {
	if code, ok := kubernetes.GeneratorMain(); ok {
		return code
	}
	if code, refused := refuseUnknownFlags(args); refused {
		return code
	}
	flag.CommandLine.Usage = func() { Usage(os.Stderr) }
	if err := flag.CommandLine.Parse(args); err != nil {
		return reports.ExitCannotRun // the flag package said which and printed the usage
	}
	code := Run()
	if suite.Final != nil {
		framework.PrintVerdict(os.Stdout, suite.Final, judging())
	}
	return code
}

// Usage lists the suite's flags by provider, without the test framework's.
func Usage(w io.Writer) {
	suite.Config.Usage(w, flag.CommandLine, "Ginkgo's own flags work too (-ginkgo.label-filter=admin, -ginkgo.focus=..., -ginkgo.v): kratos-conformance help ginkgo lists them.")
}

// refuseUnknownFlags answers a -kc.* typo with the suite's refusal (the
// message, summary.json saying why, the could-not-run line) where Go's
// flag parser would stop with its usage and exit 2 before any spec runs.
func refuseUnknownFlags(args []string) (code int, refused bool) {
	unknown, known := unknownSuiteFlags(args)
	if len(unknown) == 0 {
		return 0, false
	}
	_ = flag.CommandLine.Parse(known) // the rest still counts: -kc.out says where the summary goes
	root, _ := harness.RepoRoot()
	fmt.Fprintln(os.Stderr, "bad kratos-conformance flags:\n"+writeRefusal(root,
		fmt.Sprintf("unknown flag(s) %s (see -help for the kc.* flags)", strings.Join(unknown, ", "))))
	if suite.Final != nil {
		framework.PrintVerdict(os.Stdout, suite.Final, judging())
	}
	return reports.ExitCannotRun, true
}

// Run runs the catalogue on the parsed flags and returns the exit status:
// 0 when the verdict accepts the run, 1 when it does not, 2 when the suite
// could not run (bad input, a stack that never came up).
func Run() int {
	RegisterFailHandler(Fail)
	// Outside the repository (the kratos-conformance binary) root is empty:
	// reports go under the working folder, the default list is the embedded one.
	root, _ := harness.RepoRoot()
	// A bad flag costs nothing: it is reported before anything starts.
	if err := suite.Config.Complete(flag.CommandLine); err != nil {
		return refuse(root, "%v\n(see -help for the kc.* flags)", err)
	}
	if suite.Config.Load != "off" {
		p, err := load.LookupProfile(suite.Config.Load)
		if err != nil {
			return refuse(root, "-kc.load / -kc.workload (or -kc.load=off): %v", err)
		}
		if suite.Config.Soak > 0 && p.Mix == nil {
			return refuse(root, "-kc.soak holds the workload's mix, and %s has none: use -kc.load=mix or a workload file with mix:", p.Name)
		}
		suite.Workload = &p
	}
	var err error
	if suite.Expected, err = loadExpectedFailures(root); err != nil {
		return refuse(root, "-kc.expected-failures: %v", err)
	}
	if suite.Run, err = newRun(root); err != nil {
		fmt.Fprintln(os.Stderr, "kratos-conformance:", err)
		return reports.ExitCannotRun
	}
	suite.Intervals = suite.Config.Intervals
	suiteCfg, reporterCfg := GinkgoConfiguration()
	reporterCfg.JUnitReport = "" // written from code into the run folder, see ReportAfterSuite
	var ginkgo ginkgoOutcome
	defer watchInterrupts()()
	RunSpecs(&ginkgo, "Kratos conformance", suiteCfg, reporterCfg)
	// The exit follows the verdict, which excuses an operator's unexpired
	// expected failures and nothing else.
	switch {
	case suite.Final != nil && suite.Final.CouldNotRun:
		return reports.ExitCannotRun
	case suite.Final == nil || !judging().Accepted(suite.Final) || ginkgo.failed && suite.Final.Counts.ExpectedFailed == 0:
		return reports.ExitVerdict
	}
	return 0
}

// newRun makes the run's folder: -kc.run-dir, else a new one under
// -kc.out-dir, the repository's reports/out, or the working folder.
func newRun(root string) (*reports.Run, error) {
	if suite.Config.RunDir != "" {
		return reports.RunAt(suite.Config.RunDir)
	}
	return reports.NewRun(harness.OutDir(root, suite.Config.OutDir))
}

// refuse stops a run on bad input before anything starts: exit 2, the
// error naming what to fix, and a summary.json that says why.
func refuse(root, format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "bad kratos-conformance flags:\n%s\n", writeRefusal(root, fmt.Sprintf(format, args...)))
	return reports.ExitCannotRun
}

// unknownSuiteFlags are the -kc.* arguments no flag of the suite answers
// to, and the other arguments.
func unknownSuiteFlags(args []string) (unknown, known []string) {
	for i, a := range args {
		if a == "--" {
			return unknown, append(known, args[i:]...)
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && strings.HasPrefix(name, "kc.") && flag.CommandLine.Lookup(name) == nil {
			unknown = append(unknown, "-"+name)
			continue
		}
		known = append(known, a)
	}
	return unknown, known
}

// writeRefusal writes a could-not-run summary for bad input and returns
// the message with where the summary is.
func writeRefusal(root, msg string) string {
	suite.BadInput = true
	if run, err := newRun(root); err == nil {
		s := &reports.Summary{RunID: run.ID, StartedAt: run.StartedAt, CouldNotRun: true,
			Problems: []string{"bad input, nothing started: " + strings.ReplaceAll(msg, "\n", " ")}, Environment: reports.Environment{Provider: suite.Config.Provider}}
		s.Decide(nil)
		suite.Final, suite.Run = s, run // TestMain prints its verdict line: could not run
		if err := s.Write(run.Dir); err == nil {
			msg += "\nsummary: " + filepath.Join(run.Dir, "summary.json")
		}
	}
	return msg
}

// loadExpectedFailures reads -kc.expected-failures: a relative path is from
// the repository's root (go test runs in the package folder), or from the
// working folder outside it; the default outside the repository is the copy
// compiled into the binary.
func loadExpectedFailures(root string) ([]reports.ExpectedFailure, error) {
	path := suite.Config.ExpectedFailures
	switch {
	case path == "":
		return nil, nil
	case filepath.IsAbs(path):
	case root != "":
		path = filepath.Join(root, path)
	case path == harness.DefaultConfig().ExpectedFailures && !fileExists(path):
		suite.Config.ExpectedFailures = "expected-failures.yaml (built in)"
		return reports.ParseExpectedFailures(suite.Config.ExpectedFailures, kratosconformance.ExpectedFailures, time.Now())
	}
	suite.Config.ExpectedFailures = path
	return reports.LoadExpectedFailures(path, time.Now())
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

// interrupted is set by the first SIGINT or SIGTERM. Ginkgo then skips the
// remaining specs but still runs AfterSuite, and the load stage is an
// AfterSuite: it must not start a minute of load after the user said stop.
var interrupted atomic.Bool

// watchInterrupts sets interrupted beside Ginkgo's own handler (a signal
// reaches every channel registered for it); the returned func stops it.
func watchInterrupts() (stop func()) {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		for range signals {
			interrupted.Store(true)
		}
	}()
	return func() { signal.Stop(signals); close(signals) }
}

// ginkgoOutcome records Ginkgo's own "the suite failed" for TestConformance to weigh.
type ginkgoOutcome struct{ failed bool }

func (o *ginkgoOutcome) Fail() { o.failed = true }

var _ = BeforeSuite(func(sctx SpecContext) {
	// The bound comes from the parsed flags, which node decorators (evaluated
	// at package init) cannot see.
	ctx, cancel := context.WithTimeout(sctx, suite.Intervals.Build+suite.Intervals.StackUp)
	defer cancel()
	root, _ := harness.RepoRoot() // empty outside the repository: Kratos and Mailpit must then be given
	var err error
	timed("build check", func() {
		suite.Stack, err = suite.Config.NewStack(ctx, harness.StackInput{RepoRoot: root, RunID: suite.Run.ID, LogDir: suite.Run.Dir, BuildLog: GinkgoWriter})
	})
	if err != nil {
		Fail(err.Error())
	}
	if _, ok := suite.Stack.(harness.LoadGenerators); suite.Config.LoadGenerators > 0 && !ok {
		Fail(fmt.Sprintf("-kc.load-generators=%d: the %s provider cannot run generator pods (kubernetes with -kc.k8s-suite-image, kind with -kc.kind-in-cluster can)", suite.Config.LoadGenerators, suite.Config.Provider))
	}
	if _, ok := suite.Stack.(harness.ServeScaler); len(suite.Config.LoadReplicas) > 0 && !ok {
		Fail(fmt.Sprintf("-kc.load-replicas=%v: the %s provider cannot scale serve (kind can)", suite.Config.LoadReplicas, suite.Config.Provider))
	}
	// Registered before Up's error is checked: a half-started stack is still
	// torn down. Logs are collected first, while the components exist.
	DeferCleanup(func(ctx SpecContext) {
		timed("teardown", func() { teardown(ctx) })
	}, NodeTimeout(suite.Intervals.Teardown+suite.Intervals.StopGrace))

	timed("stack up", func() { err = suite.Stack.Up(ctx) })
	suite.Env = suite.Stack.Environment() // what it got to, also for a stack that did not come up
	announceOwnConfig(suite.Env)
	var cert *wait.CertificateError
	if errors.As(err, &cert) {
		// The deployment answered with a certificate that fails verification:
		// not "not ready yet" but a failed TLS requirement, judged as such.
		suite.JudgedEarly = &judgedEarly{why: cert.Error(), breaks: func(id string) bool { return id == "CL-TLS-001" }}
		return
	}
	if err != nil {
		Fail("bringing up the " + suite.Config.Provider + " stack: " + err.Error())
	}
	suite.Endpoints, suite.Env = suite.Stack.Endpoints(), suite.Stack.Environment()
	readSchema(ctx)
	probeHasher(ctx)
	suite.Advisories = append(checks.Advisories(liveConfig()), certificateAdvisories(ctx)...)
	// The upgrade comes before every spec, so the whole catalogue runs on the upgraded stack.
	if u, ok := suite.Stack.(harness.Upgrader); ok && u.UpgradingFrom() != "" {
		uctx, cancel := context.WithTimeout(sctx, suite.Intervals.StackUp)
		defer cancel()
		timed("upgrade", func() { upgrade(uctx, u) })
	}
})

// announceOwnConfig says at start-up, before any spec, what of an operator's
// config the stack did not use and which settings need the internet.
func announceOwnConfig(e harness.Environment) {
	if e.OwnConfig == "" {
		return
	}
	fmt.Printf("kratos-conformance: running %s with %d overlay(s) (listed in summary.md)\n", e.OwnConfig, len(e.Overlays))
	for _, o := range e.Offline {
		fmt.Printf("  needs the internet: %s: %s", o.Setting, o.Effect)
		if o.Override != "" {
			fmt.Printf(" (%s)", o.Override)
		}
		fmt.Println()
	}
}

func teardown(ctx context.Context) {
	if borrowed() && !suite.Config.Keep && suite.Endpoints.KratosAdmin != nil {
		// A live deployment keeps every identity the specs registered unless
		// the suite removes them; stacks the suite started go away whole.
		if err := deleteRegistered(ctx); err != nil {
			fmt.Fprintf(GinkgoWriter, "removing the run's identities: %v\n", err)
		}
	}
	if err := suite.Stack.CollectLogs(ctx, suite.Run.Dir); err != nil {
		fmt.Fprintf(GinkgoWriter, "collecting logs: %v\n", err)
	}
	if suite.Config.Keep {
		fmt.Println(suite.Stack.Keep())
		return
	}
	if err := suite.Stack.Down(ctx); err != nil {
		Fail("tearing down the stack: " + err.Error())
	}
}

var _ = ReportAfterSuite("kratos-conformance reports", func(r Report) {
	s := summarize(r)
	suite.Final = s
	junit := filepath.Join(suite.Run.Dir, "junit.xml")
	if err := reporters.GenerateJUnitReportWithConfig(framework.JUnitView(r, s, judging()), junit, reporters.JunitReportConfig{OmitTimelinesForSpecState: types.SpecStatePassed}); err != nil {
		fmt.Fprintf(os.Stderr, "writing %s: %v\n", junit, err)
	}
	if err := s.Write(suite.Run.Dir); err != nil {
		fmt.Fprintf(os.Stderr, "writing the summary into %s: %v\n", suite.Run.Dir, err)
	}
	if suite.Config.RunDir == "" { // a part of make certify: kccertify appends the certification's
		if err := reports.AppendStepSummary(suite.Run.Dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
})

// judging is how this run is judged beyond its summary.
func judging() framework.Judging {
	return framework.Judging{Provider: suite.Config.Provider, ExpectedFailures: suite.Config.ExpectedFailures,
		PartialAccepted: suite.Config.Partial, OnePart: suite.Config.RunDir != "", RunDir: suite.Run.Dir}
}
