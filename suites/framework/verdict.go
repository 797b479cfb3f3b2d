package framework

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"kratos-conformance/reports"
)

// Judging is how the run is judged beyond its summary: what the operator
// accepted and where the report is.
type Judging struct {
	Provider         string
	ExpectedFailures string // the operator's file of known failures, as named in the output
	PartialAccepted  bool   // -kc.partial: a filtered run's PARTIAL exits 0
	OnePart          bool   // one stack of a certification (its own verdict follows)
	RunDir           string
}

// Accepted reports whether the verdict lets the run exit 0.
func (j Judging) Accepted(s *reports.Summary) bool {
	return s.Verdict == reports.Pass || s.Verdict == reports.Partial && j.PartialAccepted
}

// PrintVerdict ends the output: the verdict with its tally, why it is not
// PASS (each failed requirement with its first failure line), the report folder.
func PrintVerdict(w io.Writer, s *reports.Summary, j Judging) {
	headline := "Kratos conformance verdict"
	if j.OnePart {
		headline = "This stack (one part of a certification; the certification's verdict follows)"
	}
	fmt.Fprintf(w, "\n%s: %s (%s) on the %s provider\n", headline, s.Headline(), s.Counts.Tally(), j.Provider)
	if s.Counts.ExpectedFailed > 0 {
		fmt.Fprintf(w, "  the expected failures are listed in %s (junit.xml marks them skipped with the reason)\n", j.ExpectedFailures)
	}
	for _, reason := range append(slices.Clone(s.Reasons), s.Partial...) {
		fmt.Fprintf(w, "  - %s\n", reason)
	}
	for _, line := range s.FailedRequirements() {
		fmt.Fprintf(w, "  FAIL %s\n", line)
	}
	if s.Verdict == reports.Partial && !j.PartialAccepted {
		fmt.Fprintln(w, "  (a partial run exits non-zero; -kc.partial accepts it when that is what you asked for)")
	}
	fmt.Fprintf(w, "Reports: %s\n", j.RunDir)
}

// JUnitView is the report junit.xml is written from, so a CI that reads it
// agrees with the verdict: the failures the verdict excused become skips that
// say so, and a verdict the exit status rejects without a failed spec (a
// filtered run, a problem of the run) becomes one failed test case of its own.
func JUnitView(r types.Report, s *reports.Summary, j Judging) types.Report {
	excused := map[string]bool{}
	for _, sp := range s.Specs {
		excused[sp.Name] = sp.ExpectedFailure
	}
	r.SpecReports = slices.Clone(r.SpecReports)
	for i, sr := range r.SpecReports {
		if sr.LeafNodeType == types.NodeTypeIt && excused[sr.FullText()] {
			sr.State = types.SpecStateSkipped
			sr.Failure.Message = "expected failure (" + j.ExpectedFailures + "), not counted: " + sr.Failure.Message
			r.SpecReports[i] = sr
		}
	}
	if !j.Accepted(s) {
		r.SpecReports = append(r.SpecReports, types.SpecReport{LeafNodeType: types.NodeTypeIt, State: types.SpecStateFailed,
			LeafNodeText: "the certification's verdict is " + string(s.Verdict),
			Failure:      types.Failure{Message: strings.Join(append(slices.Clone(s.Reasons), s.Partial...), "\n"), FailureNodeType: types.NodeTypeReportAfterSuite}})
	}
	return r
}
