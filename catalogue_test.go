package kratosconformance

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"kratos-conformance/load"
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

// Each load scenario's verdict row is a catalogued requirement.
func TestLoadScenariosAreCatalogued(t *testing.T) {
	if len(load.Kinds) == 0 {
		t.Fatal("no load scenario is registered")
	}
	for _, k := range load.Kinds {
		if !slices.Contains(RequirementIDs(), k.Requirement) {
			t.Errorf("load scenario %s judges %q, which docs/requirements.md does not list", k.Name, k.Requirement)
		}
	}
}

// A requirement row names the spec file that checks it; the file exists.
func TestRequirementRowsNameSpecFilesThatExist(t *testing.T) {
	rows := regexp.MustCompile("(?m)^\\| ([A-Z]+-[A-Z0-9-]+) \\|.*$").FindAllStringSubmatch(string(Requirements), -1)
	if len(rows) < 70 {
		t.Fatalf("read %d requirement rows", len(rows))
	}
	for _, row := range rows {
		for _, m := range regexp.MustCompile("`([a-z_]+\\.go)`").FindAllStringSubmatch(row[0], -1) {
			if _, err := os.Stat(filepath.Join("suites", "conformance", m[1])); err != nil && m[1] != "catalogue_test.go" {
				t.Errorf("%s names %s, which suites/conformance does not have", row[1], m[1])
			}
		}
	}
}

// The ginkgo CLI (make e2e, faults, load) passes its flags, the label
// filter among them, only to a package one of whose _test.go files
// imports Ginkgo (filesHaveGinkgoSuite in its internal/test_suite.go, whose
// pattern this is); otherwise it runs the package as plain go test.
func TestTheSpecPackageIsAGinkgoSuiteToTheCLI(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("suites", "conformance", "*_test.go"))
	ginkgo := regexp.MustCompile(`package ginkgo|\/ginkgo"|\/ginkgo\/v2"|\/ginkgo\/v2/dsl/`)
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && ginkgo.Match(b) {
			return
		}
	}
	t.Errorf("no _test.go file of suites/conformance (%v) imports Ginkgo: the ginkgo CLI would ignore --label-filter", files)
}
