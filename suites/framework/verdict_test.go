package framework

import (
	"bytes"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"kratos-conformance/reports"
)

// junit.xml agrees with the verdict: an excused failure is a skip saying
// why, and a verdict the exit rejects without a failed spec is a failed case.
func TestJUnitViewAgreesWithTheVerdict(t *testing.T) {
	failed := spec("refuses", types.SpecStateFailed)
	r := types.Report{SpecReports: []types.SpecReport{failed}}
	excused := &reports.Summary{Verdict: reports.Pass, Specs: []reports.Spec{{Name: "area refuses", ExpectedFailure: true}}}
	v := JUnitView(r, excused, Judging{ExpectedFailures: "known.yaml"})
	if len(v.SpecReports) != 1 || v.SpecReports[0].State != types.SpecStateSkipped || !strings.Contains(v.SpecReports[0].Failure.Message, "expected failure (known.yaml)") {
		t.Errorf("an excused failure: %+v", v.SpecReports)
	}
	if r.SpecReports[0].State != types.SpecStateFailed {
		t.Error("the view changed Ginkgo's own report")
	}
	partial := &reports.Summary{Verdict: reports.Partial, Partial: []string{"label filter admin"}}
	if v := JUnitView(types.Report{}, partial, Judging{}); len(v.SpecReports) != 1 || v.SpecReports[0].State != types.SpecStateFailed {
		t.Errorf("a partial run not accepted is one failed case: %+v", v.SpecReports)
	}
	if v := JUnitView(types.Report{}, partial, Judging{PartialAccepted: true}); len(v.SpecReports) != 0 {
		t.Errorf("-kc.partial accepts a partial run: %+v", v.SpecReports)
	}
}

func TestPrintVerdictSaysWhyAndWhere(t *testing.T) {
	var out bytes.Buffer
	s := &reports.Summary{Verdict: reports.Partial, Partial: []string{"label filter admin"}}
	PrintVerdict(&out, s, Judging{Provider: "process", RunDir: "reports/out/x"})
	for _, want := range []string{"Kratos conformance verdict: ", "on the process provider", "  - label filter admin", "-kc.partial accepts it", "Reports: reports/out/x"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
