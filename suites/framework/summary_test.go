package framework

import (
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"kratos-conformance/reports"
)

func spec(text string, state types.SpecState, labels ...string) types.SpecReport {
	return types.SpecReport{LeafNodeType: types.NodeTypeIt, ContainerHierarchyTexts: []string{"area"}, LeafNodeText: text,
		LeafNodeLabels: labels, State: state, NumAttempts: 1}
}

func TestSummarizeCountsSpecsAndRequirements(t *testing.T) {
	failed := spec("refuses", types.SpecStateFailed, ReqPrefix+"B-1")
	failed.Failure.Message = "Unexpected error:\n    boom"
	failed.ReportEntries = types.ReportEntries{{Name: ExchangesEntry, Value: types.WrapEntryValue("GET /x -> 500")}}
	na := spec("needs mail", types.SpecStateSkipped, ReqPrefix+"C-1")
	na.Failure.Message = "N/A: no mail path"
	filtered := spec("filtered", types.SpecStateSkipped, ReqPrefix+"D-1")
	flaky := spec("flaky", types.SpecStatePassed, ReqPrefix+"E-1")
	flaky.NumAttempts = 2
	setupFail := types.SpecReport{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStateFailed, Failure: types.Failure{Message: "stack:\n  did not come up"}}
	r := types.Report{SuiteConfig: types.SuiteConfig{LabelFilter: "admin"},
		SpecReports: []types.SpecReport{spec("answers", types.SpecStatePassed, ReqPrefix+"A-1", "admin"), failed, na, filtered, flaky, setupFail}}
	s := Summarize(r, Setup{RunID: "run", Problems: []string{"setup: slow"},
		Phases: []reports.Phase{{Name: "build check"}, {Name: "stack up"}, {Name: "teardown"}}})

	if c := s.Counts; c.Total != 5 || c.Passed != 2 || c.Failed != 1 || c.Skipped != 2 {
		t.Errorf("counts %+v: want 5 specs, 2 passed, 1 failed, 2 skipped", c)
	}
	status := map[string]reports.Status{}
	for _, req := range s.Requirements {
		status[req.ID] = req.Status
	}
	want := map[string]reports.Status{"A-1": reports.Pass, "B-1": reports.Fail, "C-1": reports.NA, "E-1": reports.Pass}
	if len(status) != len(want) {
		t.Errorf("requirements %v, want %v (a filtered skip says nothing)", status, want)
	}
	for id, st := range want {
		if status[id] != st {
			t.Errorf("%s: %s, want %s", id, status[id], st)
		}
	}
	if !s.CouldNotRun {
		t.Error("a failed BeforeSuite means the deployment was never judged")
	}
	problems := strings.Join(s.Problems, "|")
	for _, p := range []string{"BeforeSuite: stack: did not come up", `flaky: "area flaky" needed 2 attempts`, "setup: slow"} {
		if !strings.Contains(problems, p) {
			t.Errorf("problems %q lack %q", problems, p)
		}
	}
	if s.Specs[1].Exchanges != "GET /x -> 500" || !strings.HasSuffix(s.Specs[1].Failure, "Unexpected error:\n    boom") {
		t.Errorf("failed spec: exchanges %q, failure %q", s.Specs[1].Exchanges, s.Specs[1].Failure)
	}
	var phases []string
	for _, p := range s.Phases {
		phases = append(phases, p.Name)
	}
	if got := strings.Join(phases, ","); got != "build check,stack up,specs,teardown" {
		t.Errorf("phases %s: the specs run right after stack up", got)
	}
	if len(s.Filters) != 1 || s.Filters[0] != "label filter admin" {
		t.Errorf("filters %v", s.Filters)
	}
}

func TestADryRunPassesNothing(t *testing.T) {
	r := types.Report{SuiteConfig: types.SuiteConfig{DryRun: true}, SpecReports: []types.SpecReport{spec("answers", types.SpecStatePassed, ReqPrefix+"A-1")}}
	s := Summarize(r, Setup{})
	if s.Counts.Passed != 0 || s.Counts.Skipped != 1 || len(s.Requirements) != 0 || !s.DryRun {
		t.Errorf("dry run: counts %+v, requirements %v", s.Counts, s.Requirements)
	}
}

func TestFirstLineJoinsGomegasHeadline(t *testing.T) {
	if got := FirstLine("Unexpected error:\n    <*url.Error>: dial tcp refused\n more"); got != "Unexpected error: <*url.Error>: dial tcp refused" {
		t.Errorf("got %q", got)
	}
	if got := FirstLine("  expected 200\nbut got 500"); got != "expected 200" {
		t.Errorf("got %q", got)
	}
}

// Warnings and fault records come from the report's entries, in-process
// (the value itself) or after ginkgo -p (its JSON), from specs and suite nodes.
func TestSummarizeGathersWarningsAndFaults(t *testing.T) {
	it := spec("flags", types.SpecStatePassed)
	it.ReportEntries = types.ReportEntries{
		{Name: WarningEntry, Value: types.WrapEntryValue("SEC-TLS-001: no HSTS")},
		{Name: FaultEntry, Value: types.WrapEntryValue(reports.Fault{Name: "courier stopped", Figures: map[string]float64{"lost": 0}})},
	}
	setup := types.SpecReport{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStatePassed,
		ReportEntries: types.ReportEntries{{Name: FaultEntry, Value: types.ReportEntryValue{AsJSON: `{"name":"upgrade","figures":{"migration_seconds":1.5},"findings":null}`}}}}
	s := Summarize(types.Report{SpecReports: []types.SpecReport{setup, it}}, Setup{})
	if len(s.Warnings) != 1 || s.Warnings[0] != "SEC-TLS-001: no HSTS" {
		t.Errorf("warnings %q", s.Warnings)
	}
	if len(s.Faults) != 2 || s.Faults[0].Name != "upgrade" || s.Faults[0].Figures["migration_seconds"] != 1.5 || s.Faults[1].Name != "courier stopped" {
		t.Errorf("faults %+v", s.Faults)
	}
}
