package load

import (
	"strings"
	"testing"
)

// The built-in profiles parse; smoke runs its scenarios side by side, and a
// searching profile cannot.
func TestProfiles(t *testing.T) {
	for _, name := range strings.Split(ProfileNames(), ", ") {
		if _, err := LookupProfile(name); err != nil {
			t.Errorf("built-in profile %s: %v", name, err)
		}
	}
	smoke, _ := LookupProfile("smoke")
	if !smoke.SideBySide || smoke.Search {
		t.Errorf("smoke: want side_by_side without search, got %+v", smoke)
	}
	bad := "name: x\nidentities: 2\nsessions: 1\nwindow: 1s\nbound_for: 1s\nmax_steps: 3\nsearch: true\nside_by_side: true\nscenarios:\n  alive: {rate: 1, max_rate: 2}\n"
	if _, err := ParseProfile([]byte(bad)); err == nil || !strings.Contains(err.Error(), "side_by_side needs search off") {
		t.Errorf("side_by_side with search: want refused, got %v", err)
	}
}

// A capacity verdict needs the workload's floor, and a workload may not
// pass steps with one answer in a hundred wrong (issue 30).
func TestWorkloadFloorAndSuccess(t *testing.T) {
	base := "name: x\nidentities: 2\nsessions: 1\nwindow: 1s\nbound_for: 1s\nmax_steps: 3\nsearch: true\nscenarios:\n"
	p, err := ParseProfile([]byte(base + "  login: {rate: 2, max_rate: 20}\n  alive: {rate: 10, max_rate: 20, min_rate: 5}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f := p.Scenarios["login"].Floor(); f != 2 {
		t.Errorf("login floor %v, want its first rate 2", f)
	}
	if f := p.Scenarios["alive"].Floor(); f != 5 {
		t.Errorf("alive floor %v, want min_rate 5", f)
	}
	if _, err := ParseProfile([]byte(base + "  login: {rate: 2, max_rate: 20, min_success: 0.9}\n")); err == nil || !strings.Contains(err.Error(), "min_success") {
		t.Errorf("min_success 0.9: want refused, got %v", err)
	}
}

// A mix names known flows whose weights sum to 100, and a searchable total.
func TestMixIsRefusedNamingTheField(t *testing.T) {
	base := "name: x\nidentities: 2\nsessions: 1\nwindow: 10s\nbound_for: 1s\nmax_steps: 3\nsearch: true\nmix:\n  rate: 10\n  max_rate: 100\n  flows:\n"
	p, err := ParseProfile([]byte(base + "    whoami-token: {weight: 90}\n    login: {weight: 10, slo_p99: 2s}\n"))
	if err != nil || p.Mix.Floor() != 10 || p.Mix.Flows["login"].SLO.Seconds() != 2 || p.Mix.minTotal(p.Window) != 10 {
		t.Fatalf("a valid mix: %+v, %v", p.Mix, err)
	}
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown flow":       {"    whoami-token: {weight: 90}\n    signup: {weight: 10}\n", `flow "signup" is unknown`},
		"weights do not sum": {"    whoami-token: {weight: 90}\n    login: {weight: 5}\n", "weights sum to 95, not 100"},
		"no weight":          {"    whoami-token: {weight: 100}\n    login: {}\n", "flow login: weight must be positive"},
		"low min_success":    {"    whoami-token: {weight: 100, min_success: 0.9}\n", "min_success"},
		"a flow too small":   {"    whoami-token: {weight: 95}\n    login: {weight: 5}\n", "flow login gets 5.0 requests a window"},
	} {
		if _, err := ParseProfile([]byte(base + tc.yaml)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want refused naming %q, got %v", name, tc.want, err)
		}
	}
	noRate := "name: x\nidentities: 2\nsessions: 1\nwindow: 1s\nbound_for: 1s\nmax_steps: 3\nsearch: true\nmix:\n  flows:\n    alive: {weight: 100}\n"
	if _, err := ParseProfile([]byte(noRate)); err == nil || !strings.Contains(err.Error(), "mix: rate must be positive") {
		t.Errorf("a mix without a rate: want refused, got %v", err)
	}
}
