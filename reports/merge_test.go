package reports

import "testing"

// The guide stack leaves expiry N/A; the short-lifespans stack runs only it
// (a planned filter). Together they are one complete certification.
func TestMergeMakesOneCertification(t *testing.T) {
	catalogue := []string{"A-1", "EXP-1", "B-1"}
	guide := &Summary{Counts: Counts{Passed: 2, Skipped: 1, Total: 3},
		Requirements: []Requirement{{ID: "A-1", Status: Pass}, {ID: "B-1", Status: XFail}, {ID: "EXP-1", Status: NA, Reason: "1h"}},
		Phases:       []Phase{{Name: "specs", Seconds: 1}}}
	lifespans := &Summary{Counts: Counts{Passed: 1, Skipped: 2, Total: 3}, Filters: []string{"label filter lifespan"},
		Requirements: []Requirement{{ID: "EXP-1", Status: Pass}}}
	s := Merge("c", []Part{{Name: "guide", Summary: guide}, {Name: "short-lifespans", Summary: lifespans, Planned: true}})
	s.Decide(catalogue)
	if s.Verdict != Pass || s.requirement("EXP-1").Status != Pass || s.requirement("B-1").Status != XFail || s.Counts.Passed != 3 {
		t.Errorf("merged: verdict %s (%v %v), rows %+v, counts %+v", s.Verdict, s.Reasons, s.Partial, s.Requirements, s.Counts)
	}
	if s.Phases[0].Name != "guide: specs" {
		t.Errorf("phases keep their stack: %+v", s.Phases)
	}
	// A failure on either stack fails the requirement; a user's filter on the main stack stays partial.
	lifespans.Requirements = []Requirement{{ID: "EXP-1", Status: Fail}, {ID: "A-1", Status: NA}}
	guide.Filters = []string{"label filter admin"}
	s = Merge("c", []Part{{Name: "guide", Summary: guide}, {Name: "short-lifespans", Summary: lifespans, Planned: true}})
	s.Decide(catalogue)
	if s.Verdict != Fail || s.requirement("EXP-1").Status != Fail || s.requirement("A-1").Status != Pass {
		t.Errorf("a failing part: verdict %s, rows %+v", s.Verdict, s.Requirements)
	}
	if len(s.Filters) != 1 {
		t.Errorf("the main stack's own filter must carry: %v", s.Filters)
	}
}
