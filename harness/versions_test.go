package harness

import (
	"strings"
	"testing"
)

func TestMigrateArgsFollowTheVersion(t *testing.T) {
	for version, want := range map[string]string{
		"v1.3.1":  "migrate sql -e --yes",
		"v25.4.0": "migrate sql up -e --yes",
		"v26.2.0": "migrate sql up -e --yes",
		"master":  "migrate sql -e --yes",
	} {
		if got := strings.Join(MigrateArgs(version), " "); got != want {
			t.Errorf("MigrateArgs(%q) = %q, want %q", version, got, want)
		}
	}
}
