package kratosconformance

import (
	"regexp"
	"strings"
	"testing"
)

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
