package checks

import (
	"testing"

	"kratos-conformance/reports"
)

// Kratos' defaults count where the config is silent: CORS on without
// allowed_origins admits every origin. Any origin off the cookie domain, or
// over plain http, fails too.
func TestCORSAdmitsOnlyTheSharedDomain(t *testing.T) {
	for config, want := range map[string]reports.Status{
		"serve: {public: {cors: {enabled: true}}}":                                                                         reports.Fail,
		"serve: {public: {cors: {enabled: true, allowed_origins: ['*'], allow_credentials: false}}}":                       reports.Fail,
		"serve: {public: {cors: {enabled: true, allowed_origins: ['https://*']}}}":                                         reports.Fail,
		"serve: {public: {cors: {enabled: true, allowed_origins: ['http://*.example.test']}}}":                             reports.Fail,
		"serve: {public: {cors: {enabled: true, allowed_origins: ['https://auth.example.org']}}}":                          reports.Fail,
		"serve: {public: {cors: {enabled: true, allowed_origins: ['https://example.test.evil.org']}}}":                     reports.Fail,
		"serve: {public: {cors: {enabled: true, allowed_origins: ['https://*.example.test']}}}":                            reports.Pass,
		"serve: {public: {cors: {enabled: true, allowed_origins: ['https://example.test', 'https://auth.example.test']}}}": reports.Pass,
		"serve: {public: {cors: {enabled: false}}}":                                                                        reports.Pass,
	} {
		c, err := ParseConfig([]byte(config + "\ncookies: {domain: .example.test}"))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.cors(); got.Status != want {
			t.Errorf("%s: %s (%s), want %s", config, got.Status, got.Detail, want)
		}
	}
}

func TestSecretsAndURLs(t *testing.T) {
	const own = "secrets: {cookie: [0123456789abcdef0123], cipher: [0123456789abcdef0123456789abcdef]}"
	const urls = "serve: {public: {base_url: 'https://kratos.example.test/'}}\nselfservice: {default_browser_return_url: 'https://auth.example.test/'"
	for name, c := range map[string]struct {
		extra string
		check func(*Config) Result
		want  reports.Status
	}{
		"the guide's default secret": {"secrets: {default: [a8ba727309b345a0a0e8dd9b2eae8b19], cookie: [0123456789abcdef0123], cipher: [0123456789abcdef0123456789abcdef]}", (*Config).secrets, reports.Fail},
		"a short default":            {"secrets: {default: [short], cookie: [0123456789abcdef0123], cipher: [0123456789abcdef0123456789abcdef]}", (*Config).secrets, reports.Fail},
		"the quickstart's cookie":    {"secrets: {cookie: [PLEASE-CHANGE-ME-I-AM-VERY-INSECURE], cipher: [0123456789abcdef0123456789abcdef]}", (*Config).secrets, reports.Fail},
		"own secrets":                {own, (*Config).secrets, reports.Pass},
		"an http UI on the domain":   {own + "\nselfservice: {flows: {login: {ui_url: 'http://auth.example.test/login'}}}", (*Config).urlsUnderCookieDomain, reports.Fail},
		// Kratos signs cookies with secrets.default when secrets.cookie is unset; the cipher has no fallback.
		"the default backs the cookie": {"secrets: {default: [0123456789abcdef0123], cipher: [0123456789abcdef0123456789abcdef]}", (*Config).secrets, reports.Pass},
		"no cookie secret at all":      {"secrets: {cipher: [0123456789abcdef0123456789abcdef]}", (*Config).secrets, reports.Fail},
		"no cipher secret":             {"secrets: {default: [0123456789abcdef0123456789abcdef]}", (*Config).secrets, reports.Fail},
		// An unset return URL falls back to default_browser_return_url, judged itself.
		"unset return URLs":       {urls + "}", (*Config).urlsUnderCookieDomain, reports.Pass},
		"a foreign logout return": {urls + ", flows: {logout: {after: {default_browser_return_url: 'https://evil.example.org/'}}}}", (*Config).urlsUnderCookieDomain, reports.Fail},
		"no default return URL":   {"serve: {public: {base_url: 'https://kratos.example.test/'}}", (*Config).urlsUnderCookieDomain, reports.Fail},
	} {
		cfg, err := ParseConfig([]byte("cookies: {domain: .example.test}\n" + c.extra))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.check(cfg); got.Status != c.want {
			t.Errorf("%s: %s (%s), want %s", name, got.Status, got.Detail, c.want)
		}
	}
}

// The guide's shared root domain with its dot; never a public suffix, whose
// every site would count as on-domain (issue 30: .herokuapp.com passed).
func TestCookieDomain(t *testing.T) {
	for domain, want := range map[string]reports.Status{
		".example.test":  reports.Pass,
		".example.co.uk": reports.Pass,
		"example.test":   reports.Fail,
		".herokuapp.com": reports.Fail,
		".co.uk":         reports.Fail,
		".com":           reports.Fail,
		".github.io":     reports.Fail,
	} {
		c, err := ParseConfig([]byte("cookies: {domain: '" + domain + "'}"))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.cookieDomain(); got.Status != want {
			t.Errorf("%s: %s (%s), want %s", domain, got.Status, got.Detail, want)
		}
	}
}
