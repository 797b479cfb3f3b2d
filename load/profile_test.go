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
