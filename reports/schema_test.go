package reports

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// summary.json matches docs/summary.schema.json: one written here, and the
// real run folders kept in testdata/runs (a certification's merged summary
// and a stack's own).
func TestSummaryMatchesItsSchema(t *testing.T) {
	sch, err := jsonschema.NewCompiler().Compile("../docs/summary.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := &Summary{RunID: "r", StartedAt: time.Now(), Counts: Counts{Passed: 1}, Environment: Environment{Provider: "process"}}
	s.AddRequirement("CL-ADMIN-001", Pass, "a spec", "")
	s.Decide([]string{"CL-ADMIN-001"})
	if err := s.Write(dir); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/runs/*/summary.json")
	if len(files) == 0 {
		t.Fatal("no real run folder in testdata/runs")
	}
	for _, f := range append(files, filepath.Join(dir, "summary.json")) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := sch.Validate(doc); err != nil {
			t.Errorf("%s does not match docs/summary.schema.json: %v", f, err)
		}
	}
	// The schema bites: a summary without its suite is refused.
	doc, _ := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(`{"schema_version": 2, "run_id": "r", "verdict": "PASS"}`)))
	if sch.Validate(doc) == nil {
		t.Error("the schema accepted a summary without suite, counts and specs")
	}
}
