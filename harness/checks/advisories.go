package checks

import (
	"fmt"
	"slices"
	"time"

	"kratos-conformance/reports"
)

// Kratos v1.3.1's defaults (embedx/config.schema.json) for what an advisory
// reads, so an unset key is judged by what Kratos then does.
const (
	defaultMinPasswordLength = 8
	defaultHIBP              = true
	defaultWhoamiAAL         = "highest_available"
	defaultSessionLifespan   = 24 * time.Hour
)

// maxLifespanWithoutIdle is ASVS 4.0.3 3.3.2 (level 2): re-authentication
// at least every 12 hours; Kratos has no idle timeout to shorten a session.
const maxLifespanWithoutIdle = 12 * time.Hour

// Advisories reads the settings ASVS and Kratos' own docs advise against.
func Advisories(c *Config) []reports.Advisory {
	if c == nil {
		return nil
	}
	var out []reports.Advisory
	totp, _ := c.Enabled("selfservice.methods.totp.enabled")
	aal := c.str("session.whoami.required_aal")
	if aal == "" {
		aal = defaultWhoamiAAL
	}
	if totp && aal == "aal1" {
		out = append(out, reports.Advisory{Setting: "session.whoami.required_aal: aal1 with selfservice.methods.totp.enabled: true",
			Risk:   "a password-only session of a user who enrolled TOTP passes whoami: the second factor protects nothing an application checks with whoami",
			Source: "Kratos docs: Step-up authentication (session.whoami.required_aal); ASVS 4.0.3 2.2.3"})
	}
	minLen := defaultMinPasswordLength
	if v, ok := c.get("selfservice.methods.password.config.min_password_length").(float64); ok { // numbers decode as JSON's
		minLen = int(v)
	}
	if minLen < 12 {
		out = append(out, reports.Advisory{Setting: fmt.Sprintf("selfservice.methods.password.config.min_password_length: %d", minLen),
			Risk:   "passwords shorter than 12 characters are accepted",
			Source: "ASVS 4.0.3 2.1.1 (user set passwords are at least 12 characters long)"})
	}
	hibp := defaultHIBP
	if v, ok := c.Enabled("selfservice.methods.password.config.haveibeenpwned_enabled"); ok {
		hibp = v
	}
	if !hibp {
		out = append(out, reports.Advisory{Setting: "selfservice.methods.password.config.haveibeenpwned_enabled: false",
			Risk:   "passwords known from breaches are accepted",
			Source: "ASVS 4.0.3 2.1.7 (passwords are checked against a set of breached passwords)"})
	}
	var revoking []string
	for _, path := range []string{"selfservice.flows.settings.after.hooks", "selfservice.flows.settings.after.password.hooks",
		"selfservice.flows.recovery.after.hooks", "selfservice.flows.login.after.hooks", "selfservice.flows.login.after.password.hooks"} {
		if slices.Contains(c.Hooks(path), "revoke_active_sessions") {
			revoking = append(revoking, path)
		}
	}
	if len(revoking) == 0 {
		out = append(out, reports.Advisory{Setting: "no revoke_active_sessions hook (settings, recovery or login after hooks)",
			Risk:   "changing the password or recovering the account leaves every other session of the user alive, also an attacker's",
			Source: "ASVS 4.0.3 3.3.3 (terminate other sessions after a password change); Kratos docs: hooks, revoke_active_sessions"})
	}
	lifespan := defaultSessionLifespan
	if v := c.str("session.lifespan"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			lifespan = d
		}
	}
	if lifespan > maxLifespanWithoutIdle {
		out = append(out, reports.Advisory{Setting: "session.lifespan: " + lifespan.String() + " (Kratos has no idle timeout)",
			Risk:   "a session stays valid for more than 12 hours whether it is used or not",
			Source: "ASVS 4.0.3 3.3.2 (re-authentication at least every 12 hours or after 30 minutes of inactivity)"})
	}
	return out
}

// Hooks names the hooks of a hook list such as selfservice.flows.recovery.after.hooks.
func (c *Config) Hooks(path string) []string {
	var names []string
	list, _ := c.get(path).([]any)
	for _, h := range list {
		if m, ok := h.(map[string]any); ok {
			if name, ok := m["hook"].(string); ok {
				names = append(names, name)
			}
		}
	}
	return names
}
