package conformance

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ory "github.com/ory/kratos-client-go"

	"kratos-conformance/fixtures"
	"kratos-conformance/harness"
	"kratos-conformance/harness/checks"
	"kratos-conformance/harness/client/kratosflow"
)

// cookieSpecs are the security rules on cookies and CSRF.
func cookieSpecs() {
	It("sets every cookie of every browser flow Secure, HttpOnly, with the configured SameSite (never None), domain and path, and no session cookie outlives its session", Label(req("SEC-COOKIE-001"), labelBrowser), func(ctx SpecContext) {
		type setCookie struct {
			c  *http.Cookie
			at time.Time
			on string
		}
		var (
			mu  sync.Mutex
			all []setCookie
		)
		record := kratosflow.WithResponses(func(resp *http.Response) {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range resp.Cookies() {
				all = append(all, setCookie{c: c, at: time.Now(), on: resp.Request.Method + " " + resp.Request.URL.Path})
			}
		})
		By("registration, login, settings and logout in browsers")
		u := register(ctx, "cookies", newBrowser(record))
		b := newBrowser(record)
		_, err := b.Login(ctx, u.Identifier, u.Password)
		Expect(err).NotTo(HaveOccurred())
		who, _, err := b.Whoami(ctx, "")
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		changePassword(ctx, b)
		_, err = b.Logout(ctx, "")
		Expect(err).NotTo(HaveOccurred())

		sessionRule, csrfRule := cookieRules()
		mu.Lock()
		defer mu.Unlock()
		var problems []string
		names := map[string]bool{}
		session := sessionCookieName() // parses the config: once, not per cookie
		for _, sc := range all {
			rule := csrfRule
			if sc.c.Name == session {
				rule = sessionRule
				rule.Until = *who.ExpiresAt
			}
			names[sc.c.Name] = true
			for _, p := range checks.CookieProblems(sc.c, rule, sc.at) {
				problems = append(problems, fmt.Sprintf("%s set on %s: %s", sc.c.Name, sc.on, p))
			}
		}
		Expect(names).To(HaveKey(session), "no flow set the session cookie")
		Expect(problems).To(BeEmpty())
	})
	It("refuses browser submits of login, settings, recovery and verification without the CSRF cookie or with another browser's token (403 security_csrf_violation)", Label(req("SEC-CSRF-001"), labelBrowser, labelNegative), func(ctx SpecContext) {
		u := registerBrowserUser(ctx, "csrf-flows")
		type attempt struct {
			flow string
			// signedIn: the flow is the signed-in victim's own (settings), so the
			// victim is u's browser and the attacker a signed-in browser too.
			signedIn bool
			init     func(a *kratosflow.Agent) (flowID, csrf string, err error)
			submit   func(a *kratosflow.Agent, flowID, csrf string) (*http.Response, error)
		}
		attempts := []attempt{{
			flow: "login",
			init: func(a *kratosflow.Agent) (string, string, error) {
				f, err := a.InitLogin(ctx)
				return flowAndCSRF(f.Flow, err)
			},
			submit: func(a *kratosflow.Agent, flowID, csrf string) (*http.Response, error) {
				r, err := a.SubmitLogin(ctx, flowID, u.Identifier, u.Password, &csrf)
				return r.Response, err
			},
		}, {
			flow:     "settings (the signed-in browser)",
			signedIn: true,
			init: func(a *kratosflow.Agent) (string, string, error) {
				f, err := a.InitSettings(ctx)
				return flowAndCSRF(f.Flow, err)
			},
			submit: func(a *kratosflow.Agent, flowID, csrf string) (*http.Response, error) {
				_, resp, err := a.SubmitSettings(ctx, flowID, kratosflow.SettingsPasswordBody(fixtures.NewPassword(), &csrf))
				return resp, err
			},
		}}
		if _, ok := suite.Schema.RecoveryEmail(); ok && enabledOrUnknown("selfservice.flows.recovery.enabled") {
			attempts = append(attempts, attempt{flow: "recovery",
				init: func(a *kratosflow.Agent) (string, string, error) {
					f, err := a.InitRecovery(ctx)
					return flowAndCSRF(f.Flow, err)
				},
				submit: func(a *kratosflow.Agent, flowID, csrf string) (*http.Response, error) {
					_, resp, err := a.SubmitRecovery(ctx, flowID, kratosflow.RecoveryEmailBody(u.Email, &csrf))
					return resp, err
				}})
		}
		if u.Email != "" && enabledOrUnknown("selfservice.flows.verification.enabled") {
			attempts = append(attempts, attempt{flow: "verification",
				init: func(a *kratosflow.Agent) (string, string, error) {
					f, err := a.InitVerification(ctx)
					return flowAndCSRF(f.Flow, err)
				},
				submit: func(a *kratosflow.Agent, flowID, csrf string) (*http.Response, error) {
					_, resp, err := a.SubmitVerification(ctx, flowID, kratosflow.VerificationEmailBody(u.Email, &csrf))
					return resp, err
				}})
		}
		for _, a := range attempts {
			victim := u.Agent
			if !a.signedIn {
				victim = newBrowser()
			}
			By(a.flow + ": the victim's browser submits another browser's csrf_token")
			attacker := newBrowser()
			if a.signedIn {
				attacker = registerBrowserUser(ctx, "csrf-attacker").Agent
			}
			_, foreign, err := a.init(attacker)
			Expect(err).NotTo(HaveOccurred())
			victimFlow, _, err := a.init(victim)
			Expect(err).NotTo(HaveOccurred())
			resp, err := a.submit(victim, victimFlow, foreign)
			expectCSRFRefusal(a.flow+", foreign token", resp, err)

			if !a.signedIn { // without its cookies a browser has no session to change settings of
				By(a.flow + ": a browser without the CSRF cookie submits the flow's own token")
				ownFlow, own, err := a.init(victim)
				Expect(err).NotTo(HaveOccurred())
				resp, err = a.submit(newBrowser(), ownFlow, own)
				expectCSRFRefusal(a.flow+", no CSRF cookie", resp, err)
			}
		}
	})
	It("renews the CSRF token when a browser signs in: the token from before the login is refused afterwards", Label(req("SEC-CSRF-002"), labelBrowser, labelNegative), func(ctx SpecContext) {
		u := registerNativeUser(ctx, "csrf-rotation")
		b := newBrowser()
		flow, err := b.InitLogin(ctx)
		Expect(err).NotTo(HaveOccurred())
		before, err := kratosflow.CSRFToken(flow.Flow.Ui)
		Expect(err).NotTo(HaveOccurred())
		_, err = b.SubmitLogin(ctx, flow.Flow.Id, u.Identifier, u.Password, &before)
		Expect(err).NotTo(HaveOccurred())

		settings, err := b.InitSettings(ctx)
		Expect(err).NotTo(HaveOccurred())
		By("the signed-in browser submits settings with the token it held before the login")
		_, resp, err := b.SubmitSettings(ctx, settings.Flow.Id, kratosflow.SettingsPasswordBody(fixtures.NewPassword(), &before))
		expectCSRFRefusal("settings with the token from before the login (a token planted before sign-in would still work)", resp, err)

		By("the same submit with the settings flow's own token is accepted (the refusal was the token's)")
		now, err := kratosflow.CSRFToken(settings.Flow.Ui)
		Expect(err).NotTo(HaveOccurred())
		_, resp, err = b.SubmitSettings(ctx, settings.Flow.Id, kratosflow.SettingsPasswordBody(fixtures.NewPassword(), &now))
		Expect(err).NotTo(HaveOccurred(), "status %d: %s", statusOf(resp), bodyOf(err))
	})
}

// tlsSpecs is the security rule on the TLS the cookies travel over.
func tlsSpecs() {
	It("refuses TLS 1.0 and 1.1 on the public listener (ASVS 9.1.3); HSTS is reported for external targets", Label(req("SEC-TLS-001")), func(ctx SpecContext) {
		public := suite.Endpoints.KratosPublic
		if public.Scheme != "https" {
			Skip("N/A: the public API is served over plain http here (" + public.String() + "); CL-TLS-001 judges that")
		}
		roots := x509.NewCertPool()
		if len(suite.Endpoints.CAPEM) > 0 {
			roots.AppendCertsFromPEM(suite.Endpoints.CAPEM)
		} else if sys, err := x509.SystemCertPool(); err == nil {
			roots = sys
		}
		addr := suite.Endpoints.DialAddr(harness.HostPort(public))
		dial := func(ctx context.Context) (net.Conn, error) { return (&net.Dialer{}).DialContext(ctx, "tcp", addr) }
		accepted, err := checks.LegacyTLS(ctx, dial, public.Hostname(), roots)
		Expect(err).NotTo(HaveOccurred())
		Expect(accepted).To(BeEmpty(), "the public listener at %s completes handshakes with %v", addr, accepted)
		if borrowed() {
			_, resp, _ := newNative().Whoami(ctx, "")
			if hsts := resp.Header.Get("Strict-Transport-Security"); hsts == "" {
				warn("SEC-TLS-001: the public API sends no Strict-Transport-Security header (ASVS 14.4.5; set it at the edge)")
			}
		}
	})
}

// cookieRules are what the session cookie and the other cookies (CSRF,
// continuity) must carry: the config's session.cookie.* and cookies.* as
// Kratos reads them, falling back to the shared cookie domain when the config
// is unknown.
func cookieRules() (session, other checks.CookieRule) {
	domain := strings.TrimPrefix(suite.Endpoints.CookieDomain, ".")
	other = checks.CookieRule{Domain: domain, Path: "/", SameSite: http.SameSiteLaxMode}
	c := liveConfig()
	if c == nil {
		return other, other
	}
	value := func(paths ...string) string {
		for _, p := range paths {
			if v, ok := c.Value(p); ok {
				return v
			}
		}
		return ""
	}
	other = checks.CookieRule{Domain: strings.TrimPrefix(value("cookies.domain"), "."), Path: value("cookies.path"),
		SameSite: checks.SameSiteMode(value("cookies.same_site"))}
	session = checks.CookieRule{Domain: strings.TrimPrefix(value("session.cookie.domain", "cookies.domain"), "."),
		Path: value("session.cookie.path", "cookies.path"), SameSite: checks.SameSiteMode(value("session.cookie.same_site", "cookies.same_site"))}
	return session, other
}

// flowAndCSRF is a started flow's id and the csrf_token its UI shows.
func flowAndCSRF[F interface {
	GetId() string
	GetUi() ory.UiContainer
}](f F, err error) (string, string, error) {
	if err != nil {
		return "", "", err
	}
	csrf, err := kratosflow.CSRFToken(f.GetUi())
	return f.GetId(), csrf, err
}

func expectCSRFRefusal(what string, resp *http.Response, err error) {
	GinkgoHelper()
	Expect(err).To(HaveOccurred(), "%s: accepted (status %d)", what, statusOf(resp))
	Expect(statusOf(resp)).To(Equal(http.StatusForbidden), "%s: %s", what, bodyOf(err))
	Expect(kratosflow.ErrorID(err)).To(Equal("security_csrf_violation"), what)
}
