package cli

import (
	"slices"
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

// The expiry stack runs beside the guide's only where the suite renders the
// config and two stacks fit the machine: process and containers, no target file.
func TestBesideGuide(t *testing.T) {
	t.Setenv("KC_PROVIDER", "")
	t.Setenv("KC_TARGET", "")
	for _, c := range []struct {
		args []string
		want bool
	}{
		{nil, true},
		{[]string{"-ginkgo.timeout=40m", "-kc.load=smoke"}, true},
		{[]string{"-kc.provider=containers"}, true},
		{[]string{"--kc.provider", "process"}, true},
		{[]string{"-kc.provider=kind"}, false},
		{[]string{"-kc.provider", "kubernetes"}, false},
		{[]string{"-kc.target=staging.yaml"}, false},
	} {
		if got := besideGuide(c.args); got != c.want {
			t.Errorf("besideGuide(%q) = %v, want %v", c.args, got, c.want)
		}
	}
	t.Setenv("KC_PROVIDER", "kind")
	if besideGuide(nil) {
		t.Error("KC_PROVIDER=kind: want the stacks one after the other")
	}
}

// The expiry stack gets no load stage's flags: with its load off it would
// refuse -kc.load-generators and -kc.soak.
func TestForExpiryDropsLoadFlags(t *testing.T) {
	got := forExpiry([]string{"-kc.provider=kind", "-kc.load=smoke", "-kc.load-generators=2", "--kc.load-generator-cpu=250m", "-kc.soak=5m", "-kc.workload=w.yaml", "-kc.upgrade-from=old", "-kc.slo-whoami=100ms"})
	if want := []string{"-kc.provider=kind", "-kc.slo-whoami=100ms"}; !slices.Equal(got, want) {
		t.Errorf("forExpiry = %q, want %q", got, want)
	}
}
