package reports

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata's summary.md files from their summary.json with the current renderer")

// testdata/runs holds run folders' summary.json, and where kept the
// summary.md the run wrote: the Markdown rendered again from the JSON must
// be the same, so a change to the report's text is a change to these
// files, seen in review.
func TestMarkdownMatchesRealRuns(t *testing.T) {
	mds, _ := filepath.Glob("testdata/runs/*/summary.md")
	if len(mds) == 0 {
		t.Fatal("no run folder with a summary.md in testdata/runs")
	}
	for _, md := range mds {
		js := filepath.Join(filepath.Dir(md), "summary.json")
		b, err := os.ReadFile(js)
		if err != nil {
			t.Fatal(err)
		}
		var s Summary
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		got, golden := s.Markdown(), md
		if *update {
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			g, w := strings.Split(got, "\n"), strings.Split(string(want), "\n")
			for i := range min(len(g), len(w)) {
				if g[i] != w[i] {
					t.Errorf("%s: line %d is\n%q\nwant\n%q\n(go test ./reports -update rewrites the file when the change is meant)", golden, i+1, g[i], w[i])
					break
				}
			}
			if len(g) != len(w) {
				t.Errorf("%s: %d lines, want %d", golden, len(g), len(w))
			}
		}
	}
}
