package checks

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Kratos-like tokens pass; a counter, a timestamp-like shared prefix, a small
// alphabet, a repeat or another format each fail.
func TestTokenProblemsCatchWeakTokens(t *testing.T) {
	sample := func(f func(i int) string) []string {
		out := make([]string, TokenSample)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	random := func(int) string { return "ory_st_" + alnum(32) }
	if p := TokenProblems(sample(random)); len(p) > 0 {
		t.Fatalf("random tokens judged weak: %v", p)
	}
	for name, tokens := range map[string][]string{
		"counter":        sample(func(i int) string { return fmt.Sprintf("ory_st_%032d", i) }),
		"shared prefix":  sample(func(int) string { return "ory_st_20261127" + alnum(17) }),
		"small alphabet": sample(func(int) string { return "ory_st_" + strings.Map(func(r rune) rune { return 'a' + r%8 }, alnum(32)) }),
		"repeat":         append(sample(random)[1:], "ory_st_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "ory_st_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		"other format":   sample(func(int) string { return "ory_ht_" + alnum(32) }),
		"short":          sample(func(int) string { return "ory_st_" + alnum(16) }),
	} {
		if p := TokenProblems(tokens); len(p) == 0 {
			t.Errorf("%s: judged fine", name)
		}
	}
}

func alnum(n int) string {
	const set = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = set[int(b[i])%len(set)]
	}
	return string(b)
}

func TestReadableFindsIdentityDataInACookie(t *testing.T) {
	id := "5b4f0a3e-8a51-4f2b-9d1e-0c2a7f3b9e11"
	plain := base64.URLEncoding.EncodeToString([]byte("1764201600|" + base64.URLEncoding.EncodeToString([]byte(`{"identity_id":"`+id+`"}`)) + "|mac"))
	if got := Readable(plain, []string{id, "nobody@example.test"}); len(got) != 1 || got[0] != id {
		t.Errorf("a signed-only cookie with the identity inside: found %v", got)
	}
	if got := Readable("MTc2NDIwMTYwMHxzZWFsZWR8bWFj", []string{id}); len(got) != 0 {
		t.Errorf("a sealed cookie: found %v", got)
	}
}

func TestCookieProblems(t *testing.T) {
	now := time.Now()
	rule := CookieRule{Domain: "example.test", Path: "/", SameSite: http.SameSiteLaxMode, Until: now.Add(time.Hour)}
	good := http.Cookie{Name: "ory_kratos_session", Domain: ".example.test", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 3600}
	if p := CookieProblems(&good, rule, now); len(p) > 0 {
		t.Fatalf("a good cookie: %v", p)
	}
	for name, mutate := range map[string]func(*http.Cookie){
		"not Secure":       func(c *http.Cookie) { c.Secure = false },
		"not HttpOnly":     func(c *http.Cookie) { c.HttpOnly = false },
		"SameSite None":    func(c *http.Cookie) { c.SameSite = http.SameSiteNoneMode },
		"SameSite unset":   func(c *http.Cookie) { c.SameSite = http.SameSiteDefaultMode },
		"other domain":     func(c *http.Cookie) { c.Domain = ".other.test" },
		"other path":       func(c *http.Cookie) { c.Path = "/self-service" },
		"outlives Max-Age": func(c *http.Cookie) { c.MaxAge = 7200 },
		"outlives Expires": func(c *http.Cookie) { c.Expires = now.Add(48 * time.Hour) },
	} {
		c := good
		mutate(&c)
		if p := CookieProblems(&c, rule, now); len(p) == 0 {
			t.Errorf("%s: judged fine", name)
		}
	}
}

func TestNotCacheable(t *testing.T) {
	for header, want := range map[string]bool{
		"private, no-cache, no-store, must-revalidate": true, "no-store": true, "private, no-cache": true,
		"": false, "private": false, "no-cache": false, "public, max-age=60": false,
	} {
		if NotCacheable(http.MethodGet, http.Header{"Cache-Control": {header}}) != want {
			t.Errorf("GET, Cache-Control %q: want %v", header, want)
		}
	}
	// A POST's answer is stored only with explicit freshness.
	for header, want := range map[string]bool{"": true, "private": true, "max-age=60": false, "public": false, "no-store": true} {
		if NotCacheable(http.MethodPost, http.Header{"Cache-Control": {header}}) != want {
			t.Errorf("POST, Cache-Control %q: want %v", header, want)
		}
	}
	if NotCacheable(http.MethodPost, http.Header{"Expires": {"Thu, 01 Jan 2037 00:00:00 GMT"}}) {
		t.Error("POST with Expires: a cache may store it")
	}
}

// A server that still speaks TLS 1.0 and 1.1 is caught; Go's default (1.2
// and up) passes.
func TestLegacyTLS(t *testing.T) {
	for name, minVersion := range map[string]uint16{"default": 0, "legacy": tls.VersionTLS10} {
		srv := httptest.NewUnstartedServer(http.NotFoundHandler())
		srv.TLS = &tls.Config{MinVersion: minVersion}
		srv.StartTLS()
		roots := x509.NewCertPool()
		roots.AddCert(srv.Certificate())
		dial := func(ctx context.Context) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", srv.Listener.Addr().String())
		}
		got, err := LegacyTLS(context.Background(), dial, "example.com", roots)
		srv.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := map[string]int{"default": 0, "legacy": 2}[name]; len(got) != want {
			t.Errorf("%s: accepted %v, want %d legacy versions", name, got, want)
		}
	}
}

func TestSecretsIn(t *testing.T) {
	log := "level=info msg=started\nheaders: X-Session-Token: ory_st_AbCdEfGhIjKlMnOpQrStUvWxYz012345 cookie ory_kratos_session=MTc2NDIwMTYwMHxkYXRhfG1hYw==\n" +
		"password Pw-0123456789abcdef01234567! here\nredacted ory_st_ and Pw-short, a flow 6c1f0f2e-0000\n"
	got := SecretsIn([]byte(log), "ory_kratos_session")
	if len(got) != 3 || !strings.HasPrefix(got[0], "line 2: ory_st_AbCd") || !strings.HasPrefix(got[2], "line 3: Pw-0123") {
		t.Errorf("found %q, want the token and cookie on line 2 and the password on line 3, nothing on line 4", got)
	}
}

// Where a browser lands, per the URL standard, for spellings Go reads otherwise.
func TestBrowserResolve(t *testing.T) {
	base, _ := url.Parse("https://kratos.example.test/self-service/login?flow=1")
	for location, want := range map[string]string{
		"https://ui.example.test/welcome":                 "ui.example.test",
		"/\\attacker.example.org/x":                       "attacker.example.org",
		"https:/\\attacker.example.org/x":                 "attacker.example.org",
		"https:%2F%2Fattacker.example.org/x":              "kratos.example.test",
		"http:attacker.example.org/x":                     "attacker.example.org",
		"/\tattacker.example.org":                         "kratos.example.test",
		"//attacker.example.org/x":                        "attacker.example.org",
		"https://attacker.example.org\\@ui.example.test/": "attacker.example.org",
	} {
		u, err := BrowserResolve(base, location)
		if err != nil || u.Hostname() != want {
			t.Errorf("%q: %v %v, want host %s", location, u, err, want)
		}
	}
}
