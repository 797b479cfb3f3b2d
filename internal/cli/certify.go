package cli

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/onsi/ginkgo/v2/reporters"

	kratosconformance "kratos-conformance"
	"kratos-conformance/harness"
	"kratos-conformance/reports"
)

// Certification is one certification to run: the suite on the stack as
// configured, then, on the process and containers providers, the expiry
// specs on a short-lifespans stack (the guide's 1h lifespans cannot be
// waited out). Both stacks report into one run folder (<out>/<id>/guide,
// .../short-lifespans) and one summary there decides the one verdict.
type Certification struct {
	Suite   harness.SuiteCommand
	Root    string // the repository's root; empty outside a checkout
	Out     string // parent of the run folders
	Partial bool   // a PARTIAL verdict exits 0: the operator filtered the catalogue
	Args    []string
}

// Certify runs c and returns the exit status its verdict gives.
func Certify(c Certification) int {
	run, err := reports.NewRun(c.Out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "certify:", err)
		return reports.ExitCannotRun
	}
	// Ctrl-C reaches the suite too (same process group); it tears its stack
	// down and writes its partial report, so certify only stops starting more.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	lifespans := append(forExpiry(c.Args), "-kc.profile=short-lifespans", "-ginkgo.label-filter=lifespan", "-kc.partial")
	var parts []reports.Part
	if besideGuide(c.Args) {
		parts = bothAtOnce(ctx, c.Suite, c.Root, run.Dir, c.Args, lifespans)
	} else {
		parts = []reports.Part{stack(ctx, c.Suite, c.Root, run.Dir, "guide", c.Args, false, "")}
		// Only a stack whose config the suite rendered can be rendered again with
		// short lifespans; a deployment's own config is what it is.
		if ctx.Err() == nil && parts[0].Summary.Environment.Profile != "" {
			parts = append(parts, stack(ctx, c.Suite, c.Root, run.Dir, "short-lifespans", lifespans, true, ""))
		}
	}
	s := reports.Merge(run.ID, parts)
	s.Decide(kratosconformance.RequirementIDs())
	if err := s.Write(run.Dir); err != nil {
		fmt.Fprintln(os.Stderr, "certify:", err)
		return reports.ExitCannotRun
	}
	if err := mergeJUnit(run.Dir, parts); err != nil {
		fmt.Fprintln(os.Stderr, "certify: junit.xml:", err)
	}
	if err := reports.AppendStepSummary(run.Dir); err != nil {
		fmt.Fprintln(os.Stderr, "certify:", err)
	}
	fmt.Printf("\nKratos conformance verdict: %s (%s; stacks: %s) on the %s provider\n",
		s.Headline(), s.Counts.Tally(), names(parts), s.Environment.Provider)
	for _, line := range append(slices.Clone(s.Reasons), s.Partial...) {
		fmt.Printf("  - %s\n", line)
	}
	for _, line := range s.FailedRequirements() {
		fmt.Printf("  FAIL %s\n", line)
	}
	fmt.Printf("Reports: %s\n", run.Dir)
	switch {
	case s.Verdict == reports.Pass, s.Verdict == reports.Partial && c.Partial:
		return 0
	case s.CouldNotRun:
		return reports.ExitCannotRun
	default:
		return reports.ExitVerdict
	}
}

// besideGuide reports whether the expiry stack can run beside the guide's:
// the process and containers providers render the config (so a
// short-lifespans one exists) and two such stacks share a 2-core machine
// well; a kind cluster each would not. A target file means the external
// provider, whose config is the deployment's own.
func besideGuide(args []string) bool {
	provider, target := os.Getenv("KC_PROVIDER"), os.Getenv("KC_TARGET")
	for i, a := range args {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !hasValue && i+1 < len(args) {
			value = args[i+1]
		}
		switch name {
		case "kc.provider":
			provider = value
		case "kc.target":
			target = value
		}
	}
	return target == "" && (provider == "" || provider == "process" || provider == "containers")
}

// bothAtOnce runs the guide's stack and the expiry stack side by side; the
// guide's load stage waits for the expiry stack to end (-kc.load-after), so
// its measured windows have the machine to themselves.
func bothAtOnce(ctx context.Context, suite harness.SuiteCommand, root, dir string, guideArgs, lifespanArgs []string) []reports.Part {
	done := filepath.Join(dir, ".short-lifespans-done")
	var lifespans reports.Part
	var wg sync.WaitGroup
	wg.Go(func() {
		defer func() { _ = os.WriteFile(done, nil, 0o644) }()
		lifespans = stack(ctx, suite, root, dir, "short-lifespans", lifespanArgs, true, "[short-lifespans] ")
	})
	guide := stack(ctx, suite, root, dir, "guide", append(slices.Clone(guideArgs), "-kc.load-after="+done), false, "")
	wg.Wait()
	_ = os.Remove(done)
	if guide.Summary.Environment.Profile == "" && !guide.Summary.CouldNotRun {
		// The guide's config was not the suite's to render: the expiry stack judged something else.
		fmt.Println("certify: the guide stack's config was not rendered by the suite; the short-lifespans stack's result is dropped")
		return []reports.Part{guide}
	}
	return []reports.Part{guide, lifespans}
}

// stack runs the suite once into dir/name and reads its summary; a run that
// wrote none counts as a failed part that says why. prefix marks each output
// line of a stack that runs beside another.
func stack(ctx context.Context, suite harness.SuiteCommand, root, dir, name string, args []string, planned bool, prefix string) reports.Part {
	fmt.Printf("certify: stack %q\n", name)
	out := &withoutGinkgoTally{w: os.Stdout, prefix: prefix}
	defer out.Flush()
	if err := harness.RunCompiledSuite(ctx, suite, root, filepath.Join(dir, name), out, args...); err != nil {
		return reports.Part{Name: name, Summary: &reports.Summary{CouldNotRun: true, Problems: []string{"the suite could not run: " + err.Error()}}, Planned: planned}
	}
	s, err := reports.ReadSummary(filepath.Join(dir, name))
	if err != nil {
		// A bad flag stops the suite before it writes one: it never ran.
		s = &reports.Summary{CouldNotRun: true, Problems: []string{"the suite ended without a summary (its output above says why): " + err.Error()}}
	}
	return reports.Part{Name: name, Summary: s, Planned: planned}
}

// forExpiry drops the load stage's flags (-kc.load, -kc.load-*, -kc.workload,
// -kc.soak*) and -kc.upgrade-from: the expiry stack measures no capacity
// (and refuses load flags without a load) and starts on the tested Kratos.
func forExpiry(args []string) []string {
	return slices.DeleteFunc(slices.Clone(args), func(a string) bool {
		return slices.ContainsFunc([]string{"kc.load=", "kc.load-", "kc.workload=", "kc.soak", "kc.upgrade-from="}, func(p string) bool {
			return strings.HasPrefix(strings.TrimLeft(a, "-"), p)
		})
	})
}

func names(parts []reports.Part) string {
	var out []string
	for _, p := range parts {
		out = append(out, p.Name)
	}
	return strings.Join(out, " + ")
}

// mergeJUnit writes dir/junit.xml with every stack's test suite in it, named after its stack.
func mergeJUnit(dir string, parts []reports.Part) error {
	var all reporters.JUnitTestSuites
	for _, p := range parts {
		b, err := os.ReadFile(filepath.Join(dir, p.Name, "junit.xml"))
		if err != nil {
			return err
		}
		var one reporters.JUnitTestSuites
		if err := xml.Unmarshal(b, &one); err != nil {
			return fmt.Errorf("%s/junit.xml: %w", p.Name, err)
		}
		for _, ts := range one.TestSuites {
			ts.Name = p.Name + ": " + ts.Name
			all.TestSuites = append(all.TestSuites, ts)
			all.Tests, all.Disabled, all.Errors, all.Failures = all.Tests+ts.Tests, all.Disabled+ts.Disabled, all.Errors+ts.Errors, all.Failures+ts.Failures
			all.Time += ts.Time
		}
	}
	b, err := xml.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "junit.xml"), append([]byte(xml.Header), b...), 0o644)
}

// ginkgoTally matches the closing lines of Ginkgo and go test ("FAIL! --
// 89 Passed | 4 Failed ...", "PASS", "--- FAIL: TestConformance"), which
// count expected failures as failures: the certification's verdict, printed
// last, tells the story once.
var ginkgoTally = regexp.MustCompile(`^(\x1b\[[0-9;]*m)*(FAIL!|SUCCESS!)(\x1b\[[0-9;]*m)* -- |^(PASS|FAIL)$|^--- (FAIL|PASS): TestConformance`)

// withoutGinkgoTally passes a part's output through line by line, without
// the lines ginkgoTally matches.
type withoutGinkgoTally struct {
	w       io.Writer
	prefix  string // put before every line
	partial []byte
}

func (f *withoutGinkgoTally) Write(b []byte) (int, error) {
	f.partial = append(f.partial, b...)
	for {
		i := bytes.IndexByte(f.partial, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := f.partial[:i+1]
		if !ginkgoTally.Match(bytes.TrimRight(line, "\r\n")) {
			if _, err := f.w.Write(append([]byte(f.prefix), line...)); err != nil {
				return len(b), err
			}
		}
		f.partial = f.partial[i+1:]
	}
}

// Flush writes a last line without a newline.
func (f *withoutGinkgoTally) Flush() {
	if len(f.partial) > 0 {
		_, _ = f.w.Write(append([]byte(f.prefix), f.partial...))
		f.partial = nil
	}
}
