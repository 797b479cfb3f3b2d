// Package checklist turns the deployment guide's requirements and "Check
// lists" into named checks over a Kratos configuration. Each check returns a
// Result; the suite and the manifest tests assert on them.
package checks

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/publicsuffix"
	"kratos-conformance/fixtures"

	"kratos-conformance/reports"
)

// Result is one requirement's verdict with the evidence.
type Result struct {
	ID          string         `json:"id"`
	Requirement string         `json:"requirement"`
	Status      reports.Status `json:"status"`
	Detail      string         `json:"detail,omitempty"`
	// Warnings are advisories that do not fail the requirement.
	Warnings []string `json:"warnings,omitempty"`
}

func result(id, requirement string, problems []string) Result {
	if len(problems) == 0 {
		return Result{ID: id, Requirement: requirement, Status: reports.Pass}
	}
	return Result{ID: id, Requirement: requirement, Status: reports.Fail, Detail: strings.Join(problems, "; ")}
}

// Published example secrets a deployment must never ship: the guide's
// configs.yaml, and Kratos' quickstart (contrib/quickstart/kratos/*/kratos.yml).
var exampleSecrets = []string{"a8ba727309b345a0a0e8dd9b2eae8b19", "feaf396bf5ca4c93870782f0df4b7b03",
	"PLEASE-CHANGE-ME-I-AM-VERY-INSECURE", "32-LONG-SECRET-NOT-SECURE-AT-ALL"}

// Config is a parsed Kratos configuration.
type Config struct{ doc fixtures.Doc }

// ParseConfig reads a Kratos configs.yaml.
func ParseConfig(b []byte) (*Config, error) {
	doc, err := fixtures.ParseDoc(b)
	if err != nil {
		return nil, fmt.Errorf("the Kratos config is not YAML: %w", err)
	}
	return &Config{doc: doc}, nil
}

// get walks a dotted path, e.g. "serve.public.base_url".
func (c *Config) get(path string) any { return c.doc.Get(path) }

func (c *Config) str(path string) string { return c.doc.String(path) }

func (c *Config) strs(path string) []string { return c.doc.Strings(path) }

// CheckConfig runs every requirement that the configuration alone decides.
func CheckConfig(c *Config) []Result {
	return []Result{c.publicHTTPS(), c.cookieDomain(), c.urlsUnderCookieDomain(), c.secrets(), c.cipher(), c.cors(), c.devOff()}
}

func (c *Config) publicHTTPS() Result {
	var problems []string
	if u, err := url.Parse(c.str("serve.public.base_url")); err != nil || u.Scheme != "https" {
		problems = append(problems, fmt.Sprintf("serve.public.base_url %q is not https", c.str("serve.public.base_url")))
	}
	return result("CL-TLS-001", "the public API is served over HTTPS (guide: SSL must be turned on)", problems)
}

func (c *Config) cookieDomain() Result {
	var problems []string
	if d := c.str("cookies.domain"); d == "" {
		problems = append(problems, "cookies.domain is not set")
	} else {
		if !strings.HasPrefix(d, ".") {
			problems = append(problems, fmt.Sprintf("cookies.domain %q lacks the leading dot the guide insists on", d))
		}
		if host := strings.ToLower(strings.Trim(d, ".")); host != "" {
			if suffix, _ := publicsuffix.PublicSuffix(host); suffix == host {
				problems = append(problems, fmt.Sprintf("cookies.domain %q is a public suffix (Public Suffix List): browsers refuse a cookie for it, "+
					"and every site under it would count as on-domain; use your own registrable domain", d))
			}
		}
	}
	return result("CL-COOKIE-001", "cookies.domain is the shared root domain with its leading dot", problems)
}

// urlsUnderCookieDomain: every self-service UI URL, return URL and allowed
// return URL must be on the cookie domain, or the session cookie never reaches the UI.
func (c *Config) urlsUnderCookieDomain() Result {
	domain := strings.TrimPrefix(c.str("cookies.domain"), ".")
	var problems []string
	if domain == "" {
		problems = append(problems, "cookies.domain is not set")
	}
	paths := []string{
		"selfservice.default_browser_return_url", "selfservice.flows.logout.after.default_browser_return_url",
		"selfservice.flows.registration.ui_url", "selfservice.flows.login.ui_url", "selfservice.flows.verification.ui_url",
		"selfservice.flows.verification.after.default_browser_return_url", "selfservice.flows.recovery.ui_url",
		"selfservice.flows.error.ui_url", "selfservice.flows.settings.ui_url", "serve.public.base_url",
	}
	for _, p := range paths {
		if c.str(p) == "" && p != "selfservice.default_browser_return_url" {
			continue // unset: Kratos uses default_browser_return_url (or the listen address), judged on its own
		}
		if !UnderDomain(c.str(p), domain) {
			problems = append(problems, fmt.Sprintf("%s %q is not under %s", p, c.str(p), domain))
		} else if !strings.HasPrefix(c.str(p), "https://") {
			problems = append(problems, fmt.Sprintf("%s %q is not https", p, c.str(p)))
		}
	}
	for _, u := range c.strs("selfservice.allowed_return_urls") {
		if !UnderDomain(u, domain) {
			problems = append(problems, fmt.Sprintf("allowed_return_urls entry %q is not under %s", u, domain))
		} else if !strings.HasPrefix(u, "https://") {
			problems = append(problems, fmt.Sprintf("allowed_return_urls entry %q is not https", u))
		}
	}
	return result("CL-COOKIE-002", "UI URLs, return URLs and allowed return URLs are https and under the cookie domain", problems)
}

// UnderDomain reports whether the URL raw is on domain or a subdomain of it
// (a leading "*." in the host counts as a subdomain).
func UnderDomain(raw, domain string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || domain == "" {
		return false
	}
	host := strings.TrimPrefix(u.Hostname(), "*.")
	return host == domain || strings.HasSuffix(host, "."+domain)
}

func (c *Config) secrets() Result {
	var problems []string
	for _, s := range []struct {
		path     string
		min      int
		optional bool // Kratos signs cookies with secrets.default when secrets.cookie is unset; the cipher has no such fallback
	}{{"secrets.cookie", 16, false}, {"secrets.cipher", 32, false}, {"secrets.default", 16, true}} {
		values := c.strs(s.path)
		if len(values) == 0 && !s.optional && (s.path != "secrets.cookie" || len(c.strs("secrets.default")) == 0) {
			problems = append(problems, s.path+" is not set")
		}
		for i, v := range values {
			if slices.Contains(exampleSecrets, v) {
				problems = append(problems, fmt.Sprintf("%s[%d] is a published example value", s.path, i))
			}
			if len(v) < s.min {
				problems = append(problems, fmt.Sprintf("%s[%d] has %d characters, fewer than %d", s.path, i, len(v), s.min))
			}
		}
	}
	return result("CL-SECRET-001", "cookie, cipher and default secrets are not published examples and are long enough", problems)
}

func (c *Config) cipher() Result {
	var problems []string
	if alg := c.str("ciphers.algorithm"); alg == "" || alg == "noop" {
		problems = append(problems, fmt.Sprintf("ciphers.algorithm is %q", alg))
	}
	return result("CL-CIPHER-001", "a real cipher encrypts stored secrets (not noop)", problems)
}

// cors admits only the UI's side of the shared domain: every allowed origin
// https and under the cookie domain (the guide's "same domain", SSL on),
// never * (with credentials browsers refuse it; without, any site reads the
// answers). Kratos' defaults count where the config is silent:
// allowed_origins ["*"], so `cors: {enabled: true}` alone opens every origin.
func (c *Config) cors() Result {
	var problems []string
	enabled, _ := c.get("serve.public.cors.enabled").(bool)
	origins := c.strs("serve.public.cors.allowed_origins")
	if c.get("serve.public.cors.allowed_origins") == nil {
		origins = []string{"*"}
	}
	domain := strings.TrimPrefix(c.str("cookies.domain"), ".")
	for _, o := range origins {
		u, err := url.Parse(o)
		switch {
		case !enabled:
		case o == "*":
			problems = append(problems, fmt.Sprintf("allowed_origins %v admits any origin (*)", origins))
		case err != nil || u.Scheme != "https":
			problems = append(problems, fmt.Sprintf("allowed origin %q is not https", o))
		case !UnderDomain(o, domain):
			problems = append(problems, fmt.Sprintf("allowed origin %q is not under the cookie domain %q", o, domain))
		}
	}
	return result("CL-CORS-001", "CORS admits only https origins under the cookie domain (never *)", problems)
}

func (c *Config) devOff() Result {
	var problems []string
	if dev, _ := c.get("dev").(bool); dev {
		problems = append(problems, "dev is true")
	}
	return result("CL-DEV-001", "production mode: dev is off", problems)
}

// Value reads a scalar setting as text, e.g. session.whoami.required_aal;
// known is false when the config does not say.
func (c *Config) Value(path string) (value string, known bool) {
	switch v := c.get(path).(type) {
	case string:
		return v, true
	case bool, int, float64:
		return fmt.Sprint(v), true
	}
	return "", false
}

// UIURL is the self-service UI's URL as the config names it: the login UI,
// else the default browser return URL; empty when neither is set.
func (c *Config) UIURL() string {
	for _, path := range []string{"selfservice.flows.login.ui_url", "selfservice.default_browser_return_url"} {
		if v := c.str(path); v != "" {
			return v
		}
	}
	return ""
}

// Strings reads a list of strings, e.g. selfservice.allowed_return_urls.
func (c *Config) Strings(path string) []string { return c.strs(path) }

// Enabled reads a boolean switch such as selfservice.flows.recovery.enabled;
// known is false when the config does not say.
func (c *Config) Enabled(path string) (enabled, known bool) {
	enabled, known = c.get(path).(bool)
	return enabled, known
}
