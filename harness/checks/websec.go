package checks

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// SessionTokenPattern is Kratos' session token: ory_st_ and 32 characters
// drawn from [A-Za-z0-9] by a CSPRNG (session/session.go, randx.AlphaNum).
var SessionTokenPattern = regexp.MustCompile(`^ory_st_[A-Za-z0-9]{32}$`)

// minSymbolsPerPosition is how many of the 62 symbols every position of the
// random part must show over TokenSample tokens: uniform draws show about 62
// (the chance of fewer than 50 is below 1e-12); a counter, a timestamp or a
// small alphabet shows far fewer.
const (
	TokenSample           = 1000
	minSymbolsPerPosition = 50
)

// TokenProblems judges a sample of session tokens: each in the format, none
// repeated, no prefix shared by all beyond ory_st_, and every position of the
// random part spread over the alphabet.
func TokenProblems(tokens []string) []string {
	var problems []string
	seen := map[string]bool{}
	for _, t := range tokens {
		if !SessionTokenPattern.MatchString(t) {
			problems = append(problems, fmt.Sprintf("token %q is not ory_st_ + 32 alphanumerics", mask(t)))
		}
		if seen[t] {
			problems = append(problems, fmt.Sprintf("token %q issued twice", mask(t)))
		}
		seen[t] = true
	}
	if len(problems) > 0 || len(tokens) < 2 {
		return problems
	}
	const format = "ory_st_"
	common := tokens[0]
	for _, t := range tokens[1:] {
		for !strings.HasPrefix(t, common) {
			common = common[:len(common)-1]
		}
	}
	if len(common) > len(format) {
		problems = append(problems, fmt.Sprintf("all %d tokens share the prefix %q", len(tokens), common))
	}
	if len(tokens) >= TokenSample {
		for pos := len(format); pos < len(format)+32; pos++ {
			symbols := map[byte]bool{}
			for _, t := range tokens {
				symbols[t[pos]] = true
			}
			if len(symbols) < minSymbolsPerPosition {
				problems = append(problems, fmt.Sprintf("position %d of the random part shows %d of 62 symbols over %d tokens (uniform: about 62)",
					pos-len(format), len(symbols), len(tokens)))
			}
		}
	}
	return problems
}

func mask(token string) string {
	if len(token) > 12 {
		return token[:12] + "…"
	}
	return token
}

// Readable reports which of secrets appear in a cookie's value as sent, or
// in any base64 decoding of it or of its |-separated parts (gorilla's
// securecookie: date|value|mac): a sealed cookie shows none.
func Readable(value string, secrets []string) []string {
	texts := []string{value}
	for _, part := range append([]string{value}, strings.Split(value, "|")...) {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(part); err == nil {
				texts = append(texts, string(b))
				for _, inner := range strings.Split(string(b), "|") {
					if b2, err := enc.DecodeString(inner); err == nil {
						texts = append(texts, string(b2))
					}
				}
			}
		}
	}
	var found []string
	for _, s := range secrets {
		for _, t := range texts {
			if s != "" && strings.Contains(t, s) {
				found = append(found, s)
				break
			}
		}
	}
	return found
}

// CookieRule is what a cookie Kratos sets must carry.
type CookieRule struct {
	Domain   string        // without the leading dot; "" when the config sets none
	Path     string        // "/" when the config sets none
	SameSite http.SameSite // the configured mode
	// Until bounds Max-Age/Expires: a session cookie must not outlive its
	// session. Zero for cookies that hold no session.
	Until time.Time
}

// CookieProblems judges one Set-Cookie against rule (ASVS 4.0.3 3.4.1-3.4.5,
// Kratos' cookie settings). A deletion (Max-Age < 0) is judged only for
// Secure, domain and path: it carries nothing.
func CookieProblems(c *http.Cookie, rule CookieRule, now time.Time) []string {
	var p []string
	if !c.Secure {
		p = append(p, "no Secure")
	}
	if !c.HttpOnly {
		p = append(p, "no HttpOnly")
	}
	// Host-only (no Domain) is stricter than the shared domain: allowed.
	if d := strings.TrimPrefix(c.Domain, "."); d != "" && d != rule.Domain {
		p = append(p, fmt.Sprintf("Domain %q, configured %q", c.Domain, rule.Domain))
	}
	if want := cmp.Or(rule.Path, "/"); cmp.Or(c.Path, "/") != want {
		p = append(p, fmt.Sprintf("Path %q, configured %q", c.Path, want))
	}
	if c.MaxAge < 0 {
		return p
	}
	switch {
	case c.SameSite == http.SameSiteNoneMode:
		p = append(p, "SameSite=None (ASVS 3.4.3)")
	case c.SameSite != rule.SameSite:
		p = append(p, fmt.Sprintf("SameSite %s, configured %s", sameSiteName(c.SameSite), sameSiteName(rule.SameSite)))
	}
	if !rule.Until.IsZero() {
		// Max-Age counts whole seconds from when the answer was made: one second of slack.
		if c.MaxAge > 0 && now.Add(time.Duration(c.MaxAge)*time.Second).After(rule.Until.Add(time.Second)) {
			p = append(p, fmt.Sprintf("Max-Age %d s outlives the session (expires %s)", c.MaxAge, rule.Until.UTC().Format(time.RFC3339)))
		}
		if !c.Expires.IsZero() && c.Expires.After(rule.Until.Add(time.Second)) {
			p = append(p, fmt.Sprintf("Expires %s outlives the session (expires %s)", c.Expires.UTC().Format(time.RFC3339), rule.Until.UTC().Format(time.RFC3339)))
		}
	}
	return p
}

func sameSiteName(s http.SameSite) string {
	return map[http.SameSite]string{http.SameSiteDefaultMode: "unset", http.SameSiteLaxMode: "Lax", http.SameSiteStrictMode: "Strict", http.SameSiteNoneMode: "None"}[s]
}

// SameSiteMode reads a configured same_site value ("" when unset: Kratos' Lax).
func SameSiteMode(v string) http.SameSite {
	switch v {
	case "Strict":
		return http.SameSiteStrictMode
	case "None":
		return http.SameSiteNoneMode
	}
	return http.SameSiteLaxMode
}

// NotCacheable reports whether an answer to method stays out of every cache
// (ASVS 4.0.3 8.2.1): Cache-Control no-store, or private with no-cache; or,
// for a POST, no explicit freshness at all, since a cache may store a POST's
// answer only when it has some (RFC 9110 9.3.3, RFC 9111 3).
func NotCacheable(method string, h http.Header) bool {
	d := map[string]bool{}
	for _, part := range strings.Split(strings.ToLower(h.Get("Cache-Control")), ",") {
		name, _, _ := strings.Cut(strings.TrimSpace(part), "=")
		d[name] = true
	}
	if d["no-store"] || (d["private"] && d["no-cache"]) {
		return true
	}
	fresh := d["max-age"] || d["s-maxage"] || d["public"] || h.Get("Expires") != ""
	return method == http.MethodPost && !fresh
}

// LegacyTLS lists the TLS versions below 1.2 a server completes a handshake
// with (ASVS 4.0.3 9.1.3: only TLS 1.2 and 1.3). A server that refuses TLS
// 1.2 as well cannot be judged: that is an error, not a pass.
func LegacyTLS(ctx context.Context, dial func(context.Context) (net.Conn, error), serverName string, roots *x509.CertPool) ([]string, error) {
	handshake := func(version uint16) error {
		raw, err := dial(ctx)
		if err != nil {
			return err
		}
		defer raw.Close()
		c := tls.Client(raw, &tls.Config{ServerName: serverName, RootCAs: roots, MinVersion: version, MaxVersion: version})
		return c.HandshakeContext(ctx)
	}
	if err := handshake(tls.VersionTLS12); err != nil {
		return nil, fmt.Errorf("a TLS 1.2 handshake with %s failed, so a refusal of older versions proves nothing: %w", serverName, err)
	}
	var accepted []string
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		if handshake(v) == nil {
			accepted = append(accepted, tls.VersionName(v))
		}
	}
	return accepted, nil
}

// secretMark is the start of a secret a log must never hold, with how many
// characters of what class follow.
type secretMark struct {
	prefix string
	n      int
	class  func(byte) bool
}

// secretMarks: a Kratos session or logout token, a value of the session
// cookie (named sessionCookie), and a password the suite made
// (fixtures.NewPassword: Pw- and 24 hex digits).
func secretMarks(sessionCookie string) []secretMark {
	return []secretMark{
		{"ory_st_", 32, isAlnum},
		{"ory_lo_", 32, isAlnum},
		{sessionCookie + "=", 20, func(b byte) bool { return isAlnum(b) || b == '-' || b == '_' || b == '=' }},
		{"Pw-", 24, func(b byte) bool { return b >= '0' && b <= '9' || b >= 'a' && b <= 'f' }},
	}
}

func isAlnum(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// SecretsIn lists where text holds a session token, logout token, value of
// the cookie sessionCookie or test password, masked: "line 12: ory_st_AbCd…".
func SecretsIn(text []byte, sessionCookie string) []string {
	var found []string
	for _, m := range secretMarks(sessionCookie) {
		for rest, off := text, 0; ; {
			i := bytes.Index(rest, []byte(m.prefix))
			if i < 0 {
				break
			}
			start := off + i + len(m.prefix)
			end := start
			for end < len(text) && end-start < m.n && m.class(text[end]) {
				end++
			}
			if end-start == m.n {
				line := bytes.Count(text[:start], []byte("\n")) + 1
				found = append(found, fmt.Sprintf("line %d: %s%s…", line, m.prefix, text[start:start+4]))
			}
			off = start
			rest = text[start:]
		}
	}
	return found
}

// BrowserResolve resolves a Location against base as the URL standard (and
// so a browser) does where Go's parser differs: backslashes are slashes,
// tabs and newlines are dropped, "https:x" with an https base is a relative
// path, and "http:x" with an https base names the host x.
func BrowserResolve(base *url.URL, location string) (*url.URL, error) {
	target := strings.NewReplacer(`\`, "/", "\t", "", "\n", "", "\r", "").Replace(location)
	for _, scheme := range []string{"https:", "http:"} {
		if len(target) < len(scheme) || !strings.EqualFold(target[:len(scheme)], scheme) || strings.HasPrefix(target[len(scheme):], "//") {
			continue
		}
		rest := target[len(scheme):]
		if scheme == base.Scheme+":" {
			target = rest
		} else {
			target = scheme + "//" + strings.TrimLeft(rest, "/")
		}
		break
	}
	return base.Parse(target)
}
