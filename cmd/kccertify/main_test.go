package main

import (
	"strings"
	"testing"
)

// Ginkgo's and go test's tallies are dropped from a part's output, whatever
// the write boundaries; everything else passes through unchanged.
func TestWithoutGinkgoTally(t *testing.T) {
	in := "Ran 93 of 124 Specs in 172.218 seconds\n\x1b[1;31mFAIL!\x1b[0m -- 89 Passed | 4 Failed | 0 Pending | 31 Skipped\n" +
		"--- FAIL: TestConformance (172.30s)\nPASS\nSUCCESS! -- 7 Passed | 0 Failed\nFAIL\nKratos conformance verdict: PASS (89 passed, 0 failed)\nlast"
	var out strings.Builder
	f := &withoutGinkgoTally{w: &out}
	for i := 0; i < len(in); i += 7 {
		if _, err := f.Write([]byte(in[i:min(i+7, len(in))])); err != nil {
			t.Fatal(err)
		}
	}
	f.Flush()
	if want := "Ran 93 of 124 Specs in 172.218 seconds\nKratos conformance verdict: PASS (89 passed, 0 failed)\nlast"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}
