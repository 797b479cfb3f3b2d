package reports

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDecide(t *testing.T) {
	catalogue := []string{"A-1", "B-1"}
	both := func() []Requirement {
		return []Requirement{{ID: "A-1", Status: Pass}, {ID: "B-1", Status: NA, Reason: "no config"}}
	}
	for name, tc := range map[string]struct {
		s    Summary
		want Status
	}{
		"all judged":          {Summary{Counts: Counts{Passed: 3}, Requirements: both()}, Pass},
		"one failed":          {Summary{Counts: Counts{Passed: 3, Failed: 1}, Requirements: both()}, Fail},
		"nothing ran":         {Summary{Counts: Counts{Skipped: 3}}, Fail},
		"setup failed":        {Summary{Counts: Counts{Passed: 1}, Requirements: both(), Problems: []string{"BeforeSuite: stack did not come up"}}, Fail},
		"a requirement unrun": {Summary{Counts: Counts{Passed: 1}, Requirements: both()[:1]}, Partial},
		"a filter":            {Summary{Counts: Counts{Passed: 3}, Requirements: both(), Filters: []string{"label filter admin"}}, Partial},
		"a dry run":           {Summary{Counts: Counts{Skipped: 3}, DryRun: true, Filters: []string{"dry run: no spec sent a request"}}, Partial},
	} {
		tc.s.Decide(catalogue)
		if tc.s.Verdict != tc.want {
			t.Errorf("%s: verdict %s, want %s (reasons %v, partial %v)", name, tc.s.Verdict, tc.want, tc.s.Reasons, tc.s.Partial)
		}
	}
	s := Summary{Counts: Counts{Passed: 1}, Requirements: both()[:1], Filters: []string{"label filter admin"}}
	s.Decide(catalogue)
	if r := s.requirement("B-1"); r == nil || r.Status != NotRun || !strings.Contains(r.Reason, "label filter admin") {
		t.Errorf("an unrun requirement gets a NOT RUN row saying why: %+v", r)
	}
}

func TestWriteAndLatest(t *testing.T) {
	parent := t.TempDir()
	run, err := NewRun(parent)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(run.Dir, "kratos.log"), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := Summary{RunID: run.ID, Counts: Counts{Passed: 1, Failed: 1, Total: 2},
		Specs: []Spec{{Name: "a", State: "passed"}, {Name: "b", State: "failed", Failure: "boom"}}}
	s.Decide(nil)
	if err := s.Write(run.Dir); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	b, err := os.ReadFile(filepath.Join(parent, "latest", "summary.json"))
	if err != nil {
		t.Fatal("latest does not lead to the run's summary:", err)
	}
	if err := json.Unmarshal(b, &back); err != nil || back["verdict"] != string(Fail) {
		t.Errorf("summary.json verdict = %v (%v)", back["verdict"], err)
	}
	md, _ := os.ReadFile(filepath.Join(run.Dir, "summary.md"))
	for _, want := range []string{"# Kratos conformance: FAIL", "boom", "`kratos.log`"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("summary.md lacks %q", want)
		}
	}
}

func TestRequirementMatrix(t *testing.T) {
	var s Summary
	s.AddRequirement("B-1", Pass, "spec 1", "")
	s.AddRequirement("A-1", NA, "spec 2", "no config")
	s.AddRequirement("B-1", Fail, "spec 3", "")
	s.AddRequirement("B-1", Pass, "spec 4", "")
	s.AddRequirement("A-1", Pass, "spec 5", "")
	if len(s.Requirements) != 2 || s.Requirements[0].ID != "A-1" {
		t.Fatalf("matrix = %+v", s.Requirements)
	}
	if a, b := s.Requirements[0], s.Requirements[1]; a.Status != Pass || a.Reason != "" || b.Status != Fail || len(b.Specs) != 3 {
		t.Errorf("A-1 = %+v, B-1 = %+v: a pass clears N/A, one failure fails the requirement", a, b)
	}
}

// The last lines of a FAIL name each failed requirement with what failed,
// not where in the source.
func TestFailedRequirementsSayWhatFailed(t *testing.T) {
	s := &Summary{
		Requirements: []Requirement{{ID: "GUIDE-ADM-002", Status: Fail}, {ID: "SEC-SES-003", Status: XFail}, {ID: "LOAD-002", Status: Fail, Reason: "no step met the SLO"}},
		Specs: []Spec{
			{Name: "a", Requirements: []string{"GUIDE-ADM-002"}, Failure: "/x/admin_test.go:53\nthe guide configures bcrypt with cost 12\nExpected"},
			{Name: "b", Requirements: []string{"SEC-SES-003"}, Failure: "/x/s.go:1\nexcused", ExpectedFailure: true},
		},
	}
	got := strings.Join(s.FailedRequirements(), "|")
	if want := "GUIDE-ADM-002: the guide configures bcrypt with cost 12|LOAD-002: no step met the SLO"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if h := headline("/x/a.go:9\nUnexpected error:\n    <*errors.errorString>: boom"); h != "Unexpected error: <*errors.errorString>: boom" {
		t.Errorf("headline %q", h)
	}
}

// The verdict line says when a run never judged the deployment, and what a
// PASS did not cover.
func TestHeadline(t *testing.T) {
	for _, c := range []struct {
		s    Summary
		want string
	}{
		{Summary{Verdict: Pass}, "PASS"},
		{Summary{Verdict: Fail, CouldNotRun: true}, "COULD NOT RUN"},
		{Summary{Verdict: Pass, Scope: []string{"upgrade plumbing only (v1.3.1 -> v1.3.1)"}}, "PASS, upgrade plumbing only (v1.3.1 -> v1.3.1)"},
	} {
		if got := c.s.Headline(); got != c.want {
			t.Errorf("Headline() = %q, want %q", got, c.want)
		}
	}
	merged := Merge("x", []Part{{Name: "guide", Summary: &Summary{Scope: []string{"plumbing"}}}, {Name: "short-lifespans", Summary: &Summary{}}})
	if len(merged.Scope) != 1 {
		t.Errorf("a part's scope must reach the certification's summary, got %v", merged.Scope)
	}
}
