package checks

import "testing"

// Kratos' defaults count where the config is silent: CORS on without
// allowed_origins admits every origin. Any origin off the cookie domain, or
// over plain http, fails too.
func TestCORSAdmitsOnlyTheSharedDomain(t *testing.T) {
	for config, want := range map[string]Status{
		"serve: {public: {cors: {enabled: true}}}":                                                                         Fail,
		"serve: {public: {cors: {enabled: true, allowed_origins: ['*'], allow_credentials: false}}}":                       Fail,
		"serve: {public: {cors: {enabled: true, allowed_origins: ['https://*']}}}":                                         Fail,
		"serve: {public: {cors: {enabled: true, allowed_origins: ['http://*.example.test']}}}":                             Fail,
		"serve: {public: {cors: {enabled: true, allowed_origins: ['https://auth.example.org']}}}":                          Fail,
		"serve: {public: {cors: {enabled: true, allowed_origins: ['https://example.test.evil.org']}}}":                     Fail,
		"serve: {public: {cors: {enabled: true, allowed_origins: ['https://*.example.test']}}}":                            Pass,
		"serve: {public: {cors: {enabled: true, allowed_origins: ['https://example.test', 'https://auth.example.test']}}}": Pass,
		"serve: {public: {cors: {enabled: false}}}":                                                                        Pass,
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
	for name, c := range map[string]struct {
		extra string
		check func(*Config) Result
		want  Status
	}{
		"the guide's default secret": {"secrets: {default: [a8ba727309b345a0a0e8dd9b2eae8b19], cookie: [0123456789abcdef0123], cipher: [0123456789abcdef0123456789abcdef]}", (*Config).secrets, Fail},
		"a short default":            {"secrets: {default: [short], cookie: [0123456789abcdef0123], cipher: [0123456789abcdef0123456789abcdef]}", (*Config).secrets, Fail},
		"the quickstart's cookie":    {"secrets: {cookie: [PLEASE-CHANGE-ME-I-AM-VERY-INSECURE], cipher: [0123456789abcdef0123456789abcdef]}", (*Config).secrets, Fail},
		"own secrets":                {own, (*Config).secrets, Pass},
		"an http UI on the domain":   {own + "\nselfservice: {flows: {login: {ui_url: 'http://auth.example.test/login'}}}", (*Config).urlsUnderCookieDomain, Fail},
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
