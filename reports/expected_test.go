package reports

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadExpectedFailures(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "xf.yaml")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	list, err := LoadExpectedFailures(write("- id: NEG-LOGIN-001\n  reason: timing differs, OPS-1\n  expires: 2027-01-31\n"))
	if err != nil || len(list) != 1 || list[0].Expires != "2027-01-31" {
		t.Fatalf("good file: %v, %+v", err, list)
	}
	for name, body := range map[string]string{
		"no reason":     "- id: A\n  expires: 2027-01-31\n",
		"bad date":      "- id: A\n  reason: r\n  expires: soon\n",
		"twice":         "- {id: A, reason: r, expires: 2027-01-31}\n- {id: A, reason: r, expires: 2027-01-31}\n",
		"unknown field": "- {id: A, reason: r, expires: 2027-01-31, owner: me}\n",
	} {
		if _, err := LoadExpectedFailures(write(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := LoadExpectedFailures(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("a missing file was accepted")
	}
}

func TestApplyExpectedFailures(t *testing.T) {
	today := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	known := map[string]bool{"LISTED": true, "EXPIRED": true, "STALE": true, "OTHER": true}
	run := func(list ...ExpectedFailure) *Summary {
		s := &Summary{Counts: Counts{Passed: 1}}
		for _, r := range []struct{ id, status string }{{"LISTED", Fail}, {"EXPIRED", Fail}, {"STALE", Pass}, {"OTHER", Pass}} {
			s.AddRequirement(r.id, r.status, "spec of "+r.id, "")
			sp := Spec{Name: "spec of " + r.id, Requirements: []string{r.id}}
			if r.status == Fail {
				sp.Failure = "boom"
				s.Counts.Failed++
			}
			s.Specs = append(s.Specs, sp)
		}
		s.ApplyExpectedFailures(list, known, today)
		s.Decide()
		return s
	}
	// LISTED alone: EXPIRED still fails the run.
	s := run(ExpectedFailure{"LISTED", "known", "2026-11-26"})
	if s.requirement("LISTED").Status != XFail || s.Counts.ExpectedFailed != 1 || s.Verdict != Fail {
		t.Errorf("listed failure on its last day: %+v", s)
	}
	// Both listed and unexpired: the run passes.
	s = run(ExpectedFailure{"LISTED", "known", "2027-01-01"}, ExpectedFailure{"EXPIRED", "known", "2027-01-01"})
	if s.Verdict != Pass {
		t.Errorf("all failures expected: verdict %s, reasons %v", s.Verdict, s.Reasons)
	}
	for name, entry := range map[string]ExpectedFailure{
		"expired": {"EXPIRED", "known", "2026-11-25"},
		"stale":   {"STALE", "was broken", "2027-01-01"},
		"unknown": {"NOPE-001", "typo", "2027-01-01"},
	} {
		s = run(ExpectedFailure{"LISTED", "known", "2027-01-01"}, entry)
		if s.Verdict != Fail || !strings.Contains(strings.Join(s.Reasons, "\n"), entry.ID) {
			t.Errorf("%s entry: verdict %s, reasons %v", name, s.Verdict, s.Reasons)
		}
	}
}
