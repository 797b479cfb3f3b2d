package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kratos-conformance/reports"
)

// results reads a run folder as written, and its exit status is the verdict's.
func TestResultsPrintsTheVerdictAndExitsWithIt(t *testing.T) {
	parent := t.TempDir()
	write := func(name string, s *reports.Summary, at time.Time) string {
		dir := filepath.Join(parent, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := s.Write(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(filepath.Join(dir, "summary.json"), at, at); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	now := time.Now()
	failed := &reports.Summary{RunID: "old", Environment: reports.Environment{Provider: "external", KratosVersion: "v1.3.1"}}
	failed.AddRequirement("GUIDE-REG-001", reports.Fail, "registers", "")
	failed.Specs = []reports.Spec{{Name: "registers", Failure: "x.go:1\nstatus 500", Requirements: []string{"GUIDE-REG-001"}}}
	failed.Decide([]string{"GUIDE-REG-001"})
	failedDir := write("old", failed, now.Add(-time.Hour))
	passed := &reports.Summary{RunID: "new", Environment: reports.Environment{Provider: "external"}}
	passed.AddRequirement("GUIDE-REG-001", reports.Pass, "registers", "")
	passed.Decide([]string{"GUIDE-REG-001"})
	write("new", passed, now)

	var out, errs bytes.Buffer
	if code := Results("results", []string{failedDir}, &out, &errs); code != reports.ExitVerdict {
		t.Errorf("a FAIL run: exit %d, want %d\n%s%s", code, reports.ExitVerdict, out.String(), errs.String())
	}
	if !strings.Contains(out.String(), "Verdict: FAIL") || !strings.Contains(out.String(), "FAIL GUIDE-REG-001") {
		t.Errorf("output:\n%s", out.String())
	}
	newest, err := newestRun(parent)
	if err != nil || filepath.Base(newest) != "new" {
		t.Errorf("newest run %q (%v), want new", newest, err)
	}
	if code := Results("results", []string{filepath.Join(parent, "none")}, &out, &errs); code != reports.ExitCannotRun {
		t.Errorf("no such run: exit %d, want %d", code, reports.ExitCannotRun)
	}
}
