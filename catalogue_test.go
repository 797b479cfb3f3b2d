package kratosconformance

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEveryRequirementIsCatalogued keeps docs/requirements.md true: every id
// a spec uses must be listed there.
func TestEveryRequirementIsCatalogued(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("suites", "conformance", "*_test.go"))
	ids := regexp.MustCompile(`req\("([A-Z0-9-]+)"\)`)
	seen := 0
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, m := range ids.FindAllStringSubmatch(string(b), -1) {
			seen++
			if !strings.Contains(string(Requirements), "| "+m[1]+" |") {
				t.Errorf("%s uses requirement %s, which docs/requirements.md does not list", f, m[1])
			}
		}
	}
	if seen < 40 {
		t.Errorf("found only %d requirement labels; did the req() helper change?", seen)
	}
}

// The default list must parse and name catalogued requirements only.
func TestExpectedFailuresAreCatalogued(t *testing.T) {
	for _, m := range regexp.MustCompile(`(?m)^- id: (\S+)`).FindAllStringSubmatch(string(ExpectedFailures), -1) {
		if !strings.Contains(string(Requirements), "| "+m[1]+" |") {
			t.Errorf("expected-failures.yaml lists %s, which docs/requirements.md does not", m[1])
		}
	}
}

func TestRequirementIDsReadTheTables(t *testing.T) {
	ids := RequirementIDs()
	if len(ids) < 70 || ids[0] != "GUIDE-REG-001" {
		t.Errorf("RequirementIDs = %d ids starting %v", len(ids), ids[:min(3, len(ids))])
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("%s is catalogued twice", id)
		}
		seen[id] = true
	}
}
