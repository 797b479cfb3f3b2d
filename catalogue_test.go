package conformance

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
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "requirements.md"))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("*_test.go")
	ids := regexp.MustCompile(`req\("([A-Z0-9-]+)"\)`)
	seen := 0
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, m := range ids.FindAllStringSubmatch(string(b), -1) {
			seen++
			if !strings.Contains(string(doc), "| "+m[1]+" |") {
				t.Errorf("%s uses requirement %s, which docs/requirements.md does not list", f, m[1])
			}
		}
	}
	if seen < 40 {
		t.Errorf("found only %d requirement labels; did the req() helper change?", seen)
	}
}
