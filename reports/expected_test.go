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
	today := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	list, err := LoadExpectedFailures(write("- id: NEG-LOGIN-001\n  kratos: [v1.3.1]\n  spec: Login refuses a replayed code\n  failure: Kratos answered status 200 to the replayed code\n  reason: timing differs, OPS-1\n  expires: 2027-01-31\n"), today)
	if err != nil || len(list) != 1 || list[0].Expires != "2027-01-31" {
		t.Fatalf("good file: %v, %+v", err, list)
	}
	for name, body := range map[string]string{
		"no reason":     "- {id: A, kratos: [v1], spec: s, failure: x, expires: 2027-01-31}\n",
		"no version":    "- {id: A, spec: s, failure: x, reason: r, expires: 2027-01-31}\n",
		"no failure":    "- {id: A, kratos: [v1], spec: s, reason: r, expires: 2027-01-31}\n",
		"no spec":       "- {id: A, kratos: [v1], failure: Kratos answered status 200 to the replayed code, reason: r, expires: 2027-01-31}\n",
		"bad date":      "- {id: A, kratos: [v1], spec: s, failure: x, reason: r, expires: soon}\n",
		"twice":         "- {id: A, kratos: [v1], spec: s, failure: x, reason: r, expires: 2027-01-31}\n- {id: A, kratos: [v1], spec: s, failure: x, reason: r, expires: 2027-01-31}\n",
		"unknown field": "- {id: A, kratos: [v1], spec: s, failure: x, reason: r, expires: 2027-01-31, owner: me}\n",
		// A substring that every failure has (the location's file name) excused anything.
		"too general": "- {id: A, kratos: [v1], spec: s, failure: _test.go, reason: r, expires: 2027-01-31}\n",
		"too far":     "- {id: A, kratos: [v1], spec: s, failure: Kratos answered status 200 to the replayed code, reason: r, expires: 2027-06-05}\n",
	} {
		if _, err := LoadExpectedFailures(write(body), today); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := LoadExpectedFailures(filepath.Join(dir, "missing.yaml"), today); err == nil {
		t.Error("a missing file was accepted")
	}
}

func TestApplyExpectedFailures(t *testing.T) {
	today := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	catalogue := []string{"LISTED", "EXPIRED", "STALE", "OTHER"}
	run := func(version string, list ...ExpectedFailure) *Summary {
		s := &Summary{Counts: Counts{Passed: 1}}
		for _, r := range []struct {
			id     string
			status Status
		}{{"LISTED", Fail}, {"EXPIRED", Fail}, {"STALE", Pass}, {"OTHER", Pass}} {
			s.AddRequirement(r.id, r.status, "spec of "+r.id, "")
			sp := Spec{Name: "spec of " + r.id, Requirements: []string{r.id}}
			if r.status == Fail {
				sp.Failure = "x_test.go:12\nKratos answered status 200 to the replayed code\nExpected <int>: 200"
				s.Counts.Failed++
			}
			s.Specs = append(s.Specs, sp)
		}
		s.ApplyExpectedFailures(list, catalogue, version, today)
		s.Decide(catalogue)
		return s
	}
	entry := func(id, failure, expires string) ExpectedFailure {
		return ExpectedFailure{ID: id, Kratos: []string{"v1.3"}, Spec: "spec of " + id, Failure: failure, Reason: "known", Expires: expires}
	}
	// LISTED alone: EXPIRED still fails the run.
	s := run("v1.3.1", entry("LISTED", "Kratos answered status 200 to the replayed code", "2026-11-26"))
	if s.requirement("LISTED").Status != XFail || s.Counts.ExpectedFailed != 1 || s.Verdict != Fail {
		t.Errorf("listed failure on its last day: %+v", s)
	}
	// Both listed and unexpired: the run passes.
	s = run("v1.3.1", entry("LISTED", "Kratos answered status 200 to the replayed code", "2027-01-01"), entry("EXPIRED", "Kratos answered status 200 to the replayed code", "2027-01-01"))
	if s.Verdict != Pass || s.Counts.Failed != 0 || s.Counts.ExpectedFailed != 2 {
		t.Errorf("all failures expected: verdict %s, reasons %v, counts %+v (want 0 failed, 2 expected: a CI script reads failed)", s.Verdict, s.Reasons, s.Counts)
	}
	s.ApplyExpectedFailures(s.ExpectedFailures, catalogue, "v1.3.1", today) // again, as after a merge: nothing counted twice
	if s.Counts.Failed != 0 || s.Counts.ExpectedFailed != 2 {
		t.Errorf("applied twice: counts %+v", s.Counts)
	}
	// Another version, or another failure: not excused.
	for name, c := range map[string]struct {
		version, failure string
	}{"another Kratos": {"v26.2.0", "Kratos answered status 200 to the replayed code"}, "another failure": {"v1.3.1", "Kratos answered status 500 to the login"}, "a substring of it": {"v1.3.1", "answered status 200 to the replayed"}} {
		s = run(c.version, entry("LISTED", c.failure, "2027-01-01"), entry("EXPIRED", "Kratos answered status 200 to the replayed code", "2027-01-01"))
		if r := s.requirement("LISTED"); r.Status != Fail || s.Verdict != Fail {
			t.Errorf("%s: LISTED is %s (%s), verdict %s; want FAIL", name, r.Status, r.Reason, s.Verdict)
		}
	}
	// The same line in another spec of the requirement: not excused.
	other := entry("LISTED", "Kratos answered status 200 to the replayed code", "2027-01-01")
	other.Spec = "another spec of LISTED"
	s = run("v1.3.1", other, entry("EXPIRED", "Kratos answered status 200 to the replayed code", "2027-01-01"))
	if r := s.requirement("LISTED"); r.Status != Fail || !strings.Contains(r.Reason, "another spec of LISTED") {
		t.Errorf("another spec: LISTED is %s (%s); want FAIL naming both specs", r.Status, r.Reason)
	}
	for name, e := range map[string]ExpectedFailure{
		"expired": entry("EXPIRED", "Kratos answered status 200 to the replayed code", "2026-11-25"),
		"stale":   entry("STALE", "x", "2027-01-01"),
		"unknown": entry("NOPE-001", "x", "2027-01-01"),
	} {
		s = run("v1.3.1", entry("LISTED", "Kratos answered status 200 to the replayed code", "2027-01-01"), e)
		if s.Verdict != Fail || !strings.Contains(strings.Join(s.Reasons, "\n"), e.ID) {
			t.Errorf("%s entry: verdict %s, reasons %v", name, s.Verdict, s.Reasons)
		}
	}
}
