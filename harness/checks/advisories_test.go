package checks

import (
	"strings"
	"testing"
)

// Each advisory follows its setting, and Kratos' default counts where the
// config is silent (an empty config: min length 8, session 24h, no hooks).
func TestAdvisoriesFollowTheSettings(t *testing.T) {
	const strong = `
selfservice:
  methods:
    totp: {enabled: true}
    password: {config: {min_password_length: 12, haveibeenpwned_enabled: true}}
  flows:
    settings: {after: {password: {hooks: [{hook: revoke_active_sessions}]}}}
session: {lifespan: 12h, whoami: {required_aal: highest_available}}
`
	for name, tc := range map[string]struct {
		config string
		want   []string // a word of each advisory's setting, in order
	}{
		"strong":                   {strong, nil},
		"empty: Kratos' defaults":  {"{}", []string{"min_password_length: 8", "no revoke_active_sessions", "session.lifespan: 24h"}},
		"aal1 whoami with TOTP":    {strings.Replace(strong, "required_aal: highest_available", "required_aal: aal1", 1), []string{"aal1"}},
		"aal1 whoami without TOTP": {strings.Replace(strings.Replace(strong, "required_aal: highest_available", "required_aal: aal1", 1), "enabled: true}", "enabled: false}", 1), nil},
		"short passwords":          {strings.Replace(strong, "min_password_length: 12", "min_password_length: 6", 1), []string{"min_password_length: 6"}},
		"breach check off":         {strings.Replace(strong, "haveibeenpwned_enabled: true", "haveibeenpwned_enabled: false", 1), []string{"haveibeenpwned_enabled"}},
		"no revocation hook":       {strings.Replace(strong, "revoke_active_sessions", "session", 1), []string{"no revoke_active_sessions"}},
		"recovery hook is enough":  {strings.Replace(strong, "settings: {after: {password: {hooks: [{hook: revoke_active_sessions}]}}}", "recovery: {after: {hooks: [{hook: revoke_active_sessions}]}}", 1), nil},
		"a week-long session":      {strings.Replace(strong, "lifespan: 12h", "lifespan: 168h", 1), []string{"session.lifespan: 168h"}},
	} {
		c, err := ParseConfig([]byte(tc.config))
		if err != nil {
			t.Fatal(err)
		}
		got := Advisories(c)
		if len(got) != len(tc.want) {
			t.Errorf("%s: %d advisories %+v, want %d (%v)", name, len(got), got, len(tc.want), tc.want)
			continue
		}
		for i, w := range tc.want {
			if !strings.Contains(got[i].Setting, w) || got[i].Risk == "" || got[i].Source == "" {
				t.Errorf("%s: advisory %d is %+v, want one about %q with risk and source", name, i, got[i], w)
			}
		}
	}
}
