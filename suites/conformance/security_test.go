package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ory "github.com/ory/kratos-client-go"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"kratos-conformance/fixtures"
	"kratos-conformance/harness"
	"kratos-conformance/harness/checks"
	"kratos-conformance/harness/client/kratosflow"
	"kratos-conformance/harness/identityschema"
	"kratos-conformance/reports"
)

// tokenLoginWorkers is how many API logins run at once to collect the token
// sample; the attempt counts are the (ASVS 2.2.1 names no number).
const (
	tokenLoginWorkers     = 8
	totpWrongAttempts     = 10
	wrongPasswordAttempts = 50
	// recoveryCodeTries is the submits Kratos allows a recovery flow
	// (persistence/sql/persister_code.go: more than 5 are refused).
	recoveryCodeTries = 5
)

var _ = Describe("Security rules an auditor checks first (OWASP ASVS 4.0.3)", Label(labelSecurity), func() {
	It("issues session tokens of ory_st_ and 32 random alphanumerics: 1,000 logins, no repeat, no shared prefix, every position spread", Label(req("SEC-SES-001"), labelAPI), func(ctx SpecContext) {
		p := newPerson("tokens")
		importWithCheapHash(ctx, p)
		By(fmt.Sprintf("logging in %d times through the API flow", checks.TokenSample))
		tokens := make([]string, checks.TokenSample)
		errs := make([]error, checks.TokenSample)
		next := make(chan int)
		var wg sync.WaitGroup
		for range tokenLoginWorkers {
			wg.Go(func() {
				app := newNative()
				for i := range next {
					login, err := app.Login(ctx, p.Identifier, p.Password)
					if errs[i] = err; err == nil {
						tokens[i] = login.Result.GetSessionToken()
					}
				}
			})
		}
		for i := range tokens {
			next <- i
		}
		close(next)
		wg.Wait()
		for _, err := range errs {
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(checks.TokenProblems(tokens)).To(BeEmpty())
	})

	It("seals the session cookie: neither it nor any base64 decoding of it shows the identity, the session or the identifier", Label(req("SEC-SES-002"), labelBrowser), func(ctx SpecContext) {
		u := registerBrowserUser(ctx, "cookie-sealed")
		who, _, err := u.Agent.Whoami(ctx, "")
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		cookie := sessionCookie(u.Agent)
		Expect(cookie).NotTo(BeEmpty())
		Expect(checks.Readable(cookie, []string{who.Identity.Id, who.Id, u.Identifier, u.Email})).To(BeEmpty(),
			"the ory_kratos_session cookie carries readable identity data")
	})

	It("lists only the caller's sessions and refuses to revoke another user's session, which lives on", Label(req("SEC-SES-003"), labelAPI), func(ctx SpecContext) {
		alice, bob := registerNativeUser(ctx, "sessions-alice"), registerNativeUser(ctx, "sessions-bob")
		aliceToken, bobToken := alice.Registration.Result.GetSessionToken(), bob.Registration.Result.GetSessionToken()
		bobSession := bob.Registration.Result.Session.Id
		// A second session of alice's, so her list has something beside the current one.
		_, err := newNative().Login(ctx, alice.Identifier, alice.Password)
		Expect(err).NotTo(HaveOccurred())

		By("GET /sessions with alice's token lists only alice's sessions")
		list, _, err := alice.Agent.MySessions(ctx, aliceToken)
		Expect(err).NotTo(HaveOccurred())
		Expect(list).NotTo(BeEmpty(), "alice's other session is not listed")
		for _, s := range list {
			Expect(s.Identity.Id).To(Equal(alice.Registration.Result.Identity.Id), "GET /sessions lists another identity's session %s", s.Id)
		}

		By("DELETE /sessions/{bob's session} with alice's token changes nothing and is refused")
		resp, deleteErr := alice.Agent.RevokeMySession(ctx, bobSession, aliceToken)
		status := statusOf(resp)
		_, resp, err = bob.Agent.Whoami(ctx, bobToken)
		Expect(err).NotTo(HaveOccurred(), "bob's session died after alice's DELETE (answered %d): %s", status, bodyOf(err))
		Expect(statusOf(resp)).To(Equal(http.StatusOK))
		Expect(deleteErr).To(HaveOccurred(), "DELETE of another user's session answered %d instead of a refusal (bob's session is untouched)", status)
		Expect(status).To(And(BeNumerically(">=", 400), BeNumerically("<", 500)), "DELETE of another user's session answered %d instead of a refusal", status)
	})

	It("ends an API session on logout server-side: the token answers 401 afterwards", Label(req("SEC-SES-004"), labelAPI, labelLogout), func(ctx SpecContext) {
		u := registerNativeUser(ctx, "logout-api")
		token := u.Registration.Result.GetSessionToken()
		resp, err := u.Agent.Logout(ctx, token)
		Expect(err).NotTo(HaveOccurred())
		Expect(statusOf(resp)).To(Equal(http.StatusNoContent))
		_, resp, err = newNative().Whoami(ctx, token)
		Expect(err).To(HaveOccurred())
		Expect(statusOf(resp)).To(Equal(http.StatusUnauthorized))
	})

	It("keeps every answer carrying session data out of caches (Cache-Control no-store, or private and no-cache; a POST's answer may instead carry no freshness)", Label(req("SEC-SES-005"), labelAPI, labelBrowser), func(ctx SpecContext) {
		// Every answer is kept and judged: the API registration's carries the
		// session token, the browser registration's to the same path does not.
		type answer struct {
			path   string // "METHOD /path"
			header http.Header
		}
		var mu sync.Mutex
		var seen []answer
		record := kratosflow.WithResponses(func(resp *http.Response) {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, answer{resp.Request.Method + " " + resp.Request.URL.Path, resp.Header.Clone()})
		})
		app := newNative(record)
		u := register(ctx, "no-store", app)
		token := u.Registration.Result.GetSessionToken()
		_, err := app.Login(ctx, u.Identifier, u.Password)
		Expect(err).NotTo(HaveOccurred())
		_, _, err = app.Whoami(ctx, token)
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		_, _, err = app.MySessions(ctx, token)
		Expect(err).NotTo(HaveOccurred())
		_, err = app.InitSettings(ctx, kratosflow.SessionToken(token))
		Expect(err).NotTo(HaveOccurred())
		browser := register(ctx, "no-store-browser", newBrowser(record))
		_, _, err = browser.Agent.Whoami(ctx, "")
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))

		mu.Lock()
		defer mu.Unlock()
		var cacheable []string
		for _, path := range []string{"POST /self-service/registration", "POST /self-service/login", "GET /sessions/whoami", "GET /sessions", "GET /self-service/settings/api"} {
			judged := 0
			for i, a := range seen {
				if a.path != path {
					continue
				}
				judged++
				method, _, _ := strings.Cut(path, " ")
				if !checks.NotCacheable(method, a.header) {
					cacheable = append(cacheable, fmt.Sprintf("%s (answer %d of the spec): Cache-Control %q, Expires %q", path, i+1, a.header.Get("Cache-Control"), a.header.Get("Expires")))
				} else if a.header.Get("Cache-Control") == "" {
					AddReportEntry(fmt.Sprintf("SEC-SES-005 %s (answer %d)", path, i+1), "no Cache-Control: not storable only because a cache stores a POST's answer just with explicit freshness (RFC 9111)")
				}
			}
			Expect(judged).NotTo(BeZero(), "no answer to %s was seen", path)
		}
		Expect(cacheable).To(BeEmpty(), "answers with session data a cache may keep")
	})

	It("revokes a user's other sessions on a password change when the deployment's hooks say so, and reports what survives when they do not", Label(req("SEC-SES-006"), labelBrowser, labelSettings), func(ctx SpecContext) {
		c := liveConfig()
		if c == nil {
			Skip("N/A: the deployment's config is unknown, so whether it revokes sessions on a password change cannot be told from a finding")
		}
		revokes := slices.Contains(c.Hooks("selfservice.flows.settings.after.hooks"), "revoke_active_sessions") ||
			slices.Contains(c.Hooks("selfservice.flows.settings.after.password.hooks"), "revoke_active_sessions")
		u := registerBrowserUser(ctx, "revoke-on-password")
		other, err := newNative().Login(ctx, u.Identifier, u.Password)
		Expect(err).NotTo(HaveOccurred())
		changePassword(ctx, u.Agent)
		_, resp, _ := newNative().Whoami(ctx, other.Result.GetSessionToken())
		survived := statusOf(resp) == http.StatusOK
		if revokes {
			Expect(survived).To(BeFalse(), "revoke_active_sessions is configured, yet the other session passes whoami after the password change")
			return
		}
		if survived {
			finding("SEC-SES-006", "3.3.3", "a session made before a password change passes whoami after it "+
				"(no revoke_active_sessions hook on settings)")
		}
		// The changing session itself lives on either way (SET-002).
	})

	It("revokes a user's other sessions when recovery completes if the deployment's hooks say so, and reports what survives when they do not", Label(req("SEC-SES-007"), labelRecovery, labelBrowser, labelMail), func(ctx SpecContext) {
		skipUnlessEnabled("selfservice.flows.recovery.enabled", "recovery")
		address := requireRecoveryMail()
		c := liveConfig()
		if c == nil {
			Skip("N/A: the deployment's config is unknown, so whether recovery should revoke sessions cannot be told from a finding")
		}
		revokes := slices.Contains(c.Hooks("selfservice.flows.recovery.after.hooks"), "revoke_active_sessions")
		u := registerBrowserUser(ctx, "revoke-on-recovery")
		other, err := newNative().Login(ctx, u.Identifier, u.Password)
		Expect(err).NotTo(HaveOccurred())

		By("recovering the account in a fresh browser")
		b := newBrowser()
		flow, code := askRecoveryCode(ctx, b, fmt.Sprint(identityschema.Value(u.Traits, address)))
		settingsID, resp, err := submitRecoveryCode(ctx, b, flow.Id, code)
		Expect(settingsID).NotTo(BeEmpty(), "the mailed code recovered nothing (status %d): %s", statusOf(resp), bodyOf(err))

		_, resp, _ = newNative().Whoami(ctx, other.Result.GetSessionToken())
		tokenLives := statusOf(resp) == http.StatusOK
		_, resp, _ = u.Agent.Whoami(ctx, "")
		cookieLives := statusOf(resp) == http.StatusOK
		AddReportEntry("SEC-SES-007", fmt.Sprintf("after recovery: the token session passes whoami: %v, the cookie session: %v", tokenLives, cookieLives))
		if revokes {
			Expect(tokenLives || cookieLives).To(BeFalse(), "revoke_active_sessions is a recovery hook, yet a session made before the recovery passes whoami after it (token: %v, cookie: %v)", tokenLives, cookieLives)
			return
		}
		if tokenLives || cookieLives {
			finding("SEC-SES-007", "3.3.3", "sessions made before an account recovery pass whoami after it "+
				"(no revoke_active_sessions hook on recovery; whoever held the account keeps it)")
		}
	})

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

	It("folds the case of login identifiers: registered as User@, it logs in as user@, and user@ cannot register again", Label(req("SEC-INPUT-001"), labelAPI, labelRegistration), func(ctx SpecContext) {
		ids := suite.Schema.PasswordIdentifiers()
		if len(ids) == 0 {
			Skip("N/A: " + suite.Schema.Describe() + "; no trait is a password identifier")
		}
		p := newPerson("Case")
		upper := strings.ToUpper(p.Identifier[:1]) + p.Identifier[1:]
		lower := strings.ToLower(p.Identifier)
		if upper == lower {
			Skip("N/A: the schema's identifier " + p.Identifier + " has no letters to fold")
		}
		By("registering " + upper)
		reg, err := newNative().Register(ctx, identityschema.With(p.Traits, ids[0].Path, upper), p.Password)
		if err != nil && statusOf(reg.Response) == http.StatusBadRequest && slices.Contains(flowMessages(err), kratosflow.MsgBlocked) {
			Skip("N/A: the identity schema refuses an identifier with capitals (" + upper + ")")
		}
		Expect(err).NotTo(HaveOccurred())
		By("logging in as " + lower)
		login, err := newNative().Login(ctx, lower, p.Password)
		Expect(err).NotTo(HaveOccurred(), "registered as %s, the login as %s failed", upper, lower)
		Expect(login.Result.Session.Identity.Id).To(Equal(reg.Result.Identity.Id))
		By("registering " + lower + " again: a duplicate")
		_, err = newNative().Register(ctx, identityschema.With(p.Traits, ids[0].Path, lower), p.Password)
		Expect(err).To(HaveOccurred(), "%s registered beside %s: two accounts differ only by case", lower, upper)
		Expect(flowMessages(err)).To(ContainElement(kratosflow.MsgDuplicate))
	})

	It("answers malformed input with a 4xx, never a 5xx: a NUL byte, broken JSON, a wrong content type, a 10 MiB body", Label(req("SEC-INPUT-002"), labelAPI, labelNegative), func(ctx SpecContext) {
		app := newNative()
		newFlow := func() string {
			f, err := app.InitLogin(ctx)
			Expect(err).NotTo(HaveOccurred())
			return f.Flow.Id
		}
		submit := func(contentType string, body io.Reader) (int, []byte, error) {
			u := suite.Endpoints.KratosPublic.JoinPath("self-service", "login")
			u.RawQuery = "flow=" + newFlow()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), body)
			Expect(err).NotTo(HaveOccurred())
			req.Header.Set("Content-Type", contentType)
			req.Header.Set("Accept", "application/json")
			resp, err := app.HTTP.Do(req)
			if err != nil {
				return 0, nil, err
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			return resp.StatusCode, b, nil
		}
		nul, _ := json.Marshal(map[string]string{"method": "password", "identifier": "kc\x00nul@" + suite.Config.MailDomain(), "password": fixtures.NewPassword()})
		for name, in := range map[string]struct {
			contentType string
			body        []byte
		}{
			"a NUL byte in the identifier": {"application/json", nul},
			"broken JSON":                  {"application/json", []byte(`{"method":"password","identifier":`)},
			"a wrong content type":         {"text/plain", []byte("method=password&identifier=x&password=y")},
		} {
			status, body, err := submit(in.contentType, bytes.NewReader(in.body))
			Expect(err).NotTo(HaveOccurred(), name)
			Expect(status).To(And(BeNumerically(">=", 400), BeNumerically("<", 500)), "%s: answered %d: %s", name, status, body)
			Expect(kratosShape(body)).To(BeTrue(), "%s: the answer is not Kratos' error or flow JSON: %s", name, body)
		}
		if suite.Endpoints.PublicForwarded {
			// Kratos cuts the connection off; through a port-forward that ends
			// the forward for every request in flight. INCLUSTER-001 sends it.
			AddReportEntry("SEC-INPUT-002 10 MiB body", "not sent: the public API is reached through a port-forward here")
			return
		}
		By("a 10 MiB JSON body: refused with a 4xx or cut off, never a 5xx")
		big := bytes.NewReader(append(append([]byte(`{"method":"password","identifier":"x","password":"`), bytes.Repeat([]byte("a"), 10<<20)...), []byte(`"}`)...))
		status, body, err := submit("application/json", big)
		if err != nil {
			AddReportEntry("SEC-INPUT-002 10 MiB body", "the connection was cut before an answer: "+err.Error())
			return
		}
		Expect(status).To(And(BeNumerically(">=", 400), BeNumerically("<", 500)), "a 10 MiB body answered %d: %.200s", status, body)
		AddReportEntry("SEC-INPUT-002 10 MiB body", fmt.Sprintf("refused with %d (Kratos' shape: %v)", status, kratosShape(body)))
	})

	It("keeps full-width and look-alike (homoglyph) variants of an identifier apart from it: refused, or a separate account, never a way into the original", Label(req("SEC-INPUT-003"), labelAPI, labelRegistration), func(ctx SpecContext) {
		ids := suite.Schema.PasswordIdentifiers()
		if len(ids) == 0 {
			Skip("N/A: " + suite.Schema.Describe() + "; no trait is a password identifier")
		}
		u := registerNativeUser(ctx, "glyph")
		variants := map[string]string{"full-width": fullWidth(u.Identifier), "homoglyph": homoglyph(u.Identifier)}
		for _, kind := range slices.Sorted(maps.Keys(variants)) {
			variant := variants[kind]
			if variant == "" {
				AddReportEntry("SEC-INPUT-003 "+kind, "no letter of "+u.Identifier+" has such a variant")
				continue
			}
			remember(variant)
			By(kind + ": registering " + variant + " beside " + u.Identifier)
			p := newPerson("glyph-variant")
			reg, err := newNative().Register(ctx, identityschema.With(p.Traits, ids[0].Path, variant), p.Password)
			Expect(statusOf(reg.Response)).To(BeNumerically("<", 500), "%s: %s", variant, bodyOf(err))
			folded := err != nil && slices.Contains(flowMessages(err), kratosflow.MsgDuplicate)
			switch {
			case err == nil:
				Expect(reg.Result.Identity.Id).NotTo(Equal(u.Registration.Result.Identity.Id))
				AddReportEntry("SEC-INPUT-003 "+kind, variant+" is a separate account")
				finding("SEC-INPUT-003", "5.1.3", fmt.Sprintf("the %s variant %s registered as an account separate from %s: "+
					"an identifier that looks the same can impersonate another user (the schema's format does not refuse it)", kind, variant, u.Identifier))
			case folded:
				AddReportEntry("SEC-INPUT-003 "+kind, variant+" is refused as the same identifier as "+u.Identifier)
			default:
				AddReportEntry("SEC-INPUT-003 "+kind, fmt.Sprintf("%s is refused (%d, messages %v)", variant, statusOf(reg.Response), flowMessages(err)))
			}
			By(kind + ": logging in as " + variant + " with the original's password")
			login, err := newNative().Login(ctx, variant, u.Password)
			if err == nil {
				Expect(folded).To(BeTrue(), "%s logged into %s's account, though registration did not treat them as one identifier", variant, u.Identifier)
				Expect(login.Result.Session.Identity.Id).To(Equal(u.Registration.Result.Identity.Id))
			}
		}
	})

	It("never lets a password that differs only past its 72nd byte log in (bcrypt's limit): a multibyte password over 72 bytes is refused or kept whole", Label(req("SEC-INPUT-004"), labelAPI, labelRegistration), func(ctx SpecContext) {
		p := newPerson("long-password")
		// 70 bytes, then a 3-byte rune across byte 72: fewer than 72 characters,
		// so a limit counted in characters lets it through to bcrypt.
		base := p.Password + strings.Repeat("é", (70-len(p.Password))/2)
		base += strings.Repeat("x", 70-len(base)) + "€"
		first, second := base+"A", base+"B"
		reg, err := newNative().Register(ctx, p.Traits, first)
		if err != nil {
			Expect(statusOf(reg.Response)).To(Equal(http.StatusBadRequest), "a %d-byte password: %s", len(first), bodyOf(err))
			AddReportEntry("SEC-INPUT-004", fmt.Sprintf("a %d-byte, %d-character password is refused (messages %v)", len(first), utf8.RuneCountInString(first), flowMessages(err)))
			return
		}
		By("the password differing only in its last byte must not log in")
		_, err = newNative().Login(ctx, p.Identifier, second)
		Expect(err).To(HaveOccurred(), "a password differing from the registered one only after byte 72 logged in (truncated by bcrypt)")
		Expect(flowMessages(err)).To(ContainElement(kratosflow.MsgInvalidCredentials))
		login, err := newNative().Login(ctx, p.Identifier, first)
		Expect(err).NotTo(HaveOccurred())
		Expect(login.Result.Session.Identity.Id).To(Equal(reg.Result.Identity.Id))
		AddReportEntry("SEC-INPUT-004", fmt.Sprintf("a %d-byte password is kept whole", len(first)))
	})

	It("never returns credentials, hashes, metadata_admin or the TOTP secret in whoami, login, registration or settings answers", Label(req("SEC-EXPOSE-001"), labelAPI), func(ctx SpecContext) {
		marker := "kc-admin-only-" + strings.ToLower(rand.Text())
		u := registerNativeUser(ctx, "exposure")
		token := u.Registration.Result.GetSessionToken()
		admin := newAdmin()
		_, _, err := admin.IdentityAPI.PatchIdentity(ctx, u.Registration.Result.Identity.Id).JsonPatch([]ory.JsonPatch{
			{Op: "add", Path: "/metadata_admin", Value: map[string]any{"note": marker}}}).Execute()
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		forbidden := []string{marker, u.Password, "hashed_password", "$2a$", "$2b$", "$argon2"}
		answers := map[string][]byte{"registration": rawRegistration(ctx)}
		answers["login"] = rawLogin(ctx, u.Identifier, u.Password)
		answers["whoami"] = rawGet(ctx, "sessions/whoami", token)
		answers["settings flow"] = rawGet(ctx, "self-service/settings/api", token)
		if enabled, _ := liveConfigEnabled("selfservice.methods.totp.enabled"); enabled {
			t := enrolTOTP(ctx)
			forbidden = append(forbidden, t.secret)
			tToken := t.Registration.Result.GetSessionToken()
			answers["whoami after TOTP enrolment"] = rawGet(ctx, "sessions/whoami", tToken)
			answers["settings flow after TOTP enrolment"] = rawGet(ctx, "self-service/settings/api", tToken)
		}
		for what, body := range answers {
			for _, f := range forbidden {
				Expect(string(body)).NotTo(ContainSubstring(f), "the %s answer contains %q", what, f)
			}
		}
	})

	It("takes a TOTP code once: the same code on a second session is refused (ASVS 2.8.4); wrong codes are refused and their limit reported", Label(req("SEC-MFA-001"), labelMFA, labelAPI), func(ctx SpecContext) {
		skipUnlessEnabled("selfservice.methods.totp.enabled", "TOTP")
		u := enrolTOTP(ctx)
		// The next period's code: valid now (one period of skew) and never the
		// code the enrolment used, so the first login is no replay itself.
		code, err := kratosflow.TOTPCode(u.secret, time.Now().Add(30*time.Second))
		Expect(err).NotTo(HaveOccurred())
		secondFactor := func(totpCode string) (*http.Response, error) {
			login, err := newNative().Login(ctx, u.Identifier, u.Password)
			Expect(err).NotTo(HaveOccurred())
			token := login.Result.GetSessionToken()
			flow, err := u.Agent.InitLogin(ctx, kratosflow.AAL2(), kratosflow.SessionToken(token))
			Expect(err).NotTo(HaveOccurred())
			done, err := u.Agent.SubmitTOTP(ctx, flow.Flow.Id, totpCode, kratosflow.SessionToken(token))
			return done.Response, err
		}
		By("the first use of the code raises a session to aal2")
		_, err = secondFactor(code)
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))

		By(fmt.Sprintf("%d wrong codes on one flow are refused, then the right code is tried", totpWrongAttempts))
		login, err := newNative().Login(ctx, u.Identifier, u.Password)
		Expect(err).NotTo(HaveOccurred())
		token := login.Result.GetSessionToken()
		flow, err := u.Agent.InitLogin(ctx, kratosflow.AAL2(), kratosflow.SessionToken(token))
		Expect(err).NotTo(HaveOccurred())
		submit := func(c string) (*http.Response, error) {
			done, err := u.Agent.SubmitTOTP(ctx, flow.Flow.Id, c, kratosflow.SessionToken(token))
			return done.Response, err
		}
		for range totpWrongAttempts {
			resp, err := submit(wrongTOTP(u.secret))
			Expect(err).To(HaveOccurred(), "a wrong TOTP code was accepted")
			Expect(statusOf(resp)).To(BeNumerically("<", 500), bodyOf(err))
		}
		now, err := kratosflow.TOTPCode(u.secret, time.Now())
		Expect(err).NotTo(HaveOccurred())
		if _, err := submit(now); err == nil {
			finding("SEC-MFA-001", "2.2.1", fmt.Sprintf("after %d wrong TOTP codes on one flow the right code still passes: "+
				"nothing limits guessing the 6 digits but the flow's lifespan (limit at the edge)", totpWrongAttempts))
		}

		By("the same code on another session: refused")
		resp, err := secondFactor(code)
		Expect(err).To(HaveOccurred(), "a TOTP code already used was accepted again (status %d): TOTP codes are replayable within their window", statusOf(resp))
		Expect(flowMessages(err)).To(ContainElement(kratosflow.MsgTOTPWrong))
	})

	It("takes a recovery code once and gives a flow five tries: after five wrong codes the right one is refused too", Label(req("SEC-REC-001"), labelRecovery, labelBrowser, labelMail), func(ctx SpecContext) {
		skipUnlessEnabled("selfservice.flows.recovery.enabled", "recovery")
		address := requireRecoveryMail()

		By("five wrong codes, then the right one, on one flow")
		u := registerBrowserUser(ctx, "recovery-guess")
		b := newBrowser()
		flow, code := askRecoveryCode(ctx, b, fmt.Sprint(identityschema.Value(u.Traits, address)))
		wrong := otherCode(code)
		for i := range recoveryCodeTries {
			settingsID, resp, err := submitRecoveryCode(ctx, b, flow.Id, wrong)
			Expect(settingsID).To(BeEmpty(), "wrong code %d recovered the account", i+1)
			expectCodeRefusal(fmt.Sprintf("wrong code %d", i+1), resp, err)
		}
		settingsID, resp, err := submitRecoveryCode(ctx, b, flow.Id, code)
		Expect(settingsID).To(BeEmpty(), "after %d wrong codes the right one still recovered the account: the code can be guessed (Kratos allows %d submits per flow)", recoveryCodeTries, recoveryCodeTries)
		expectCodeRefusal("the right code after five wrong ones", resp, err)

		By("a used code, submitted again")
		v := registerBrowserUser(ctx, "recovery-reuse")
		b = newBrowser()
		flow, code = askRecoveryCode(ctx, b, fmt.Sprint(identityschema.Value(v.Traits, address)))
		settingsID, resp, err = submitRecoveryCode(ctx, b, flow.Id, code)
		Expect(settingsID).NotTo(BeEmpty(), "the mailed code recovered nothing (status %d): %s", statusOf(resp), bodyOf(err))
		settingsID, resp, err = submitRecoveryCode(ctx, b, flow.Id, code)
		Expect(settingsID).To(BeEmpty(), "a used recovery code recovered the account again")
		expectCodeRefusal("the used code again", resp, err)
	})

	It("refuses 50 wrong passwords as wrong (400 4000006) or throttles them (429), never a 5xx; reports whether anything throttled", Label(req("SEC-AUTH-001"), labelAPI, labelLogin), func(ctx SpecContext) {
		p := newPerson("wrong-passwords")
		importWithCheapHash(ctx, p)
		app := newNative()
		throttled := 0
		for range wrongPasswordAttempts {
			login, err := app.Login(ctx, p.Identifier, fixtures.NewPassword())
			Expect(err).To(HaveOccurred(), "a wrong password logged in")
			switch statusOf(login.Response) {
			case http.StatusTooManyRequests:
				throttled++
			default:
				Expect(flowMessages(err)).To(ContainElement(kratosflow.MsgInvalidCredentials), bodyOf(err))
			}
		}
		_, err := app.Login(ctx, p.Identifier, p.Password)
		if throttled == 0 && err == nil {
			finding("SEC-AUTH-001", "2.2.1", fmt.Sprintf("%d wrong passwords in a row were all answered, and the right one then logged in: "+
				"nothing throttles password guessing (Kratos leaves it to the edge)", wrongPasswordAttempts))
		} else {
			AddReportEntry("SEC-AUTH-001", fmt.Sprintf("%d of %d wrong passwords throttled (429); the right one afterwards: %v", throttled, wrongPasswordAttempts, err))
		}
	})

	It("refuses return_to off the cookie domain on registration, settings, recovery, verification and login (with encoded and backslash variants), and logout never redirects there", Label(req("SEC-REDIR-001"), labelBrowser, labelNegative), func(ctx SpecContext) {
		u := registerBrowserUser(ctx, "redirects")
		type initFlow func(a *kratosflow.Agent, target string) (returnTo string, resp *http.Response, err error)
		// Every flow refuses an absolute return_to off the domain at once.
		flows := map[string]initFlow{
			"login": func(a *kratosflow.Agent, t string) (string, *http.Response, error) {
				f, err := a.InitLogin(ctx, kratosflow.ReturnTo(t))
				return f.Flow.GetReturnTo(), f.Response, err
			},
			"registration": func(a *kratosflow.Agent, t string) (string, *http.Response, error) {
				f, err := a.InitRegistration(ctx, kratosflow.ReturnTo(t))
				return f.Flow.GetReturnTo(), f.Response, err
			},
			"settings": func(_ *kratosflow.Agent, t string) (string, *http.Response, error) {
				f, err := u.Agent.InitSettings(ctx, kratosflow.ReturnTo(t))
				return f.Flow.GetReturnTo(), f.Response, err
			},
		}
		if _, ok := suite.Schema.RecoveryEmail(); ok && enabledOrUnknown("selfservice.flows.recovery.enabled") {
			flows["recovery"] = func(a *kratosflow.Agent, t string) (string, *http.Response, error) {
				f, err := a.InitRecovery(ctx, kratosflow.ReturnTo(t))
				return f.Flow.GetReturnTo(), f.Response, err
			}
		}
		if u.Email != "" && enabledOrUnknown("selfservice.flows.verification.enabled") {
			flows["verification"] = func(a *kratosflow.Agent, t string) (string, *http.Response, error) {
				f, err := a.InitVerification(ctx, kratosflow.ReturnTo(t))
				return f.Flow.GetReturnTo(), f.Response, err
			}
		}
		off := offDomain("/return", "allowed_return_urls", "selfservice.allowed_return_urls")
		var opened []string
		for _, name := range slices.Sorted(maps.Keys(flows)) {
			By(name + ": " + fmt.Sprint(len(off)) + " targets off the domain")
			for _, target := range off {
				stored, resp, err := flows[name](newBrowser(), target)
				if err == nil || statusOf(resp) >= 500 {
					opened = append(opened, fmt.Sprintf("%s return_to=%s: answered %d (kept as %q), not refused", name, target, statusOf(resp), stored))
				}
			}
		}
		// Spellings parsers disagree on may be taken as a path on the domain:
		// where Kratos then really redirects a browser is what counts.
		targets := append(off, redirectVariants()...)
		By("login with each return_to, spelled " + fmt.Sprint(len(redirectVariants())) + " more ways: refused, or the browser is sent on the domain")
		for _, target := range redirectVariants() {
			b := newBrowser()
			flow, err := b.InitLogin(ctx, kratosflow.ReturnTo(target))
			if err != nil {
				if status := statusOf(flow.Response); status >= 500 || status < 400 {
					opened = append(opened, fmt.Sprintf("login return_to=%q: answered %d", target, status))
				}
				continue
			}
			csrf, err := kratosflow.CSRFToken(flow.Flow.Ui)
			Expect(err).NotTo(HaveOccurred())
			resp, err := b.SubmitHTMLForm(ctx, flow.Flow.Ui.Action, url.Values{"csrf_token": {csrf}, "method": {"password"}, "identifier": {u.Identifier}, "password": {u.Password}})
			Expect(err).NotTo(HaveOccurred())
			if loc := resp.Header.Get("Location"); offTheDomain(loc) {
				opened = append(opened, fmt.Sprintf("login return_to=%q: redirected to %q", target, loc))
			}
		}
		By("logout with each return_to: the redirect never leaves the domain")
		for _, target := range targets {
			b := newBrowser()
			_, err := b.Login(ctx, u.Identifier, u.Password)
			Expect(err).NotTo(HaveOccurred())
			flow, resp, err := b.InitLogout(ctx, kratosflow.ReturnTo(target))
			if err != nil {
				Expect(statusOf(resp)).To(And(BeNumerically(">=", 400), BeNumerically("<", 500)), "logout return_to=%s: %s", target, bodyOf(err))
				continue
			}
			resp, err = b.FollowLogout(ctx, flow.LogoutUrl)
			Expect(err).NotTo(HaveOccurred())
			if loc := resp.Header.Get("Location"); offTheDomain(loc) {
				opened = append(opened, fmt.Sprintf("logout return_to=%s: redirected to %q", target, loc))
			}
		}
		Expect(opened).To(BeEmpty(), "return_to off the shared cookie domain not refused, or followed")
	})

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
				suite.Warnings = append(suite.Warnings, "SEC-TLS-001: the public API sends no Strict-Transport-Security header (ASVS 14.4.5; set it at the edge)")
			}
		}
	})
})

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

// importWithCheapHash creates p through the admin API with a password hash of
// the deployment's algorithm at its cheapest parameters: Kratos compares with
// the hash's own parameters and keeps a hash its hasher understands, so each
// login costs milliseconds, not a bcrypt-12 compare.
func importWithCheapHash(ctx context.Context, p person) {
	GinkgoHelper()
	var hash string
	switch algorithm, _ := kratosflow.ParseHash(suite.SampleHash); algorithm {
	case "argon2id":
		hash = argon2idHash(p.Password, 64, 1, 1)
	default:
		b, err := bcrypt.GenerateFromPassword([]byte(p.Password), bcrypt.MinCost)
		Expect(err).NotTo(HaveOccurred())
		hash = string(b)
	}
	admin := newAdmin()
	body := ory.CreateIdentityBody{SchemaId: suite.Schema.ID, Traits: p.Traits,
		Credentials: &ory.IdentityWithCredentials{Password: &ory.IdentityWithCredentialsPassword{
			Config: &ory.IdentityWithCredentialsPasswordConfig{HashedPassword: &hash}}}}
	id, _, err := admin.IdentityAPI.CreateIdentity(ctx).CreateIdentityBody(body).Execute()
	Expect(err).NotTo(HaveOccurred(), bodyOf(err))
	DeferCleanup(func(ctx SpecContext) { _, _ = admin.IdentityAPI.DeleteIdentity(ctx, id.Id).Execute() })
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

// expectCodeRefusal fails unless a refused code was answered without a 5xx
// and for the code's sake, not by the CSRF check (which would refuse any code).
func expectCodeRefusal(what string, resp *http.Response, err error) {
	GinkgoHelper()
	Expect(statusOf(resp)).To(BeNumerically("<", 500), "%s: %s", what, bodyOf(err))
	Expect(kratosflow.ErrorID(err)).NotTo(Equal("security_csrf_violation"), "%s: refused by the CSRF check, so the code itself was not judged", what)
}

// otherCode is a code of code's length and digits that is not code.
func otherCode(code string) string {
	b := []byte(code)
	for i, c := range b {
		if c >= '0' && c <= '9' {
			b[i] = '0' + (c-'0'+1)%10
		}
	}
	return string(b)
}

// fullWidth is s with its first ASCII letter in full-width form (U+FF21..),
// "" when s has none.
func fullWidth(s string) string {
	for i, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return s[:i] + string(r+0xFEE0) + s[i+1:]
		}
	}
	return ""
}

// homoglyph is s with its first letter that has a Cyrillic twin replaced by
// it (Latin a, c, e, o, p, x look the same), "" when s has none.
func homoglyph(s string) string {
	twins := map[rune]rune{'a': 'а', 'c': 'с', 'e': 'е', 'o': 'о', 'p': 'р', 'x': 'х'}
	for i, r := range s {
		if t, ok := twins[r]; ok {
			return s[:i] + string(t) + s[i+1:]
		}
	}
	return ""
}

// enabledOrUnknown is true unless the deployment's config switches path off.
func enabledOrUnknown(path string) bool {
	enabled, known := liveConfigEnabled(path)
	return enabled || !known
}

func liveConfigEnabled(path string) (enabled, known bool) {
	if c := liveConfig(); c != nil {
		return c.Enabled(path)
	}
	return false, false
}

// kratosShape is true for Kratos' JSON answers: an error object, or a flow
// (its ui carrying the messages).
func kratosShape(body []byte) bool {
	var doc struct {
		Error *struct {
			Code int `json:"code"`
		} `json:"error"`
		UI *struct{} `json:"ui"`
	}
	return json.Unmarshal(body, &doc) == nil && (doc.Error != nil && doc.Error.Code >= 400 || doc.UI != nil)
}

// rawGet is the body of a public GET with a session token, as sent.
func rawGet(ctx context.Context, path, token string) []byte {
	GinkgoHelper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, suite.Endpoints.KratosPublic.JoinPath(path).String(), nil)
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("X-Session-Token", token)
	req.Header.Set("Accept", "application/json")
	return rawDo(req, http.StatusOK)
}

func rawDo(req *http.Request, want int) []byte {
	GinkgoHelper()
	resp, err := newNative().HTTP.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	Expect(resp.StatusCode).To(Equal(want), "%s %s: %s", req.Method, req.URL.Path, body)
	return body
}

// rawLogin is the body of a successful API login, as sent.
func rawLogin(ctx context.Context, identifier, password string) []byte {
	GinkgoHelper()
	flow, err := newNative().InitLogin(ctx)
	Expect(err).NotTo(HaveOccurred())
	return rawSubmit(ctx, "login", flow.Flow.Id, map[string]any{"method": "password", "identifier": identifier, "password": password})
}

// rawRegistration registers another person and returns the answer, as sent.
func rawRegistration(ctx context.Context) []byte {
	GinkgoHelper()
	p := newPerson("exposure-registration")
	flow, err := newNative().InitRegistration(ctx)
	Expect(err).NotTo(HaveOccurred())
	body := rawSubmit(ctx, "registration", flow.Flow.Id, map[string]any{"method": "password", "traits": p.Traits, "password": p.Password})
	Expect(string(body)).NotTo(ContainSubstring(p.Password), "the registration answer contains the password")
	return body
}

func rawSubmit(ctx context.Context, flow, id string, body map[string]any) []byte {
	GinkgoHelper()
	b, err := json.Marshal(body)
	Expect(err).NotTo(HaveOccurred())
	u := suite.Endpoints.KratosPublic.JoinPath("self-service", flow)
	u.RawQuery = "flow=" + id
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(b))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	return rawDo(req, http.StatusOK)
}

// addLogRequirement judges SEC-LOG-001 over the component logs in the run
// folder: the report comes last, once every provider wrote or collected
// them. The in-cluster run's own folder is its own run's to judge.
func addLogRequirement(s *reports.Summary) {
	const id = "SEC-LOG-001"
	if suite.Run == nil {
		return
	}
	var files int
	var leaks []string
	cookie := sessionCookieName()
	_ = filepath.WalkDir(suite.Run.Dir, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil
		case d.IsDir() && d.Name() == "in-cluster":
			return filepath.SkipDir
		case d.IsDir() || !strings.HasSuffix(d.Name(), ".log") || d.Name() == "in-cluster.log":
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		files++
		rel, _ := filepath.Rel(suite.Run.Dir, path)
		for _, f := range checks.SecretsIn(b, cookie) {
			leaks = append(leaks, rel+" "+f)
		}
		return nil
	})
	switch {
	case files == 0:
		s.AddRequirement(id, reports.NA, "component logs", "no component log in the run folder (a deployment by URL: its logs are the operator's to check)")
	case len(leaks) > 0:
		if len(leaks) > 5 {
			leaks = append(leaks[:5], fmt.Sprintf("and %d more", len(leaks)-5))
		}
		s.AddRequirement(id, reports.Fail, "component logs", "secrets in the logs: "+strings.Join(leaks, "; "))
	default:
		s.AddRequirement(id, reports.Pass, fmt.Sprintf("component logs (%d files)", files), "")
	}
}

// redirectVariants are spellings of a foreign host that parsers disagree on:
// backslashes (browsers read them as slashes), percent-encoded slashes and
// at-signs, and a tab.
func redirectVariants() []string {
	domain := strings.TrimPrefix(suite.Endpoints.CookieDomain, ".")
	return []string{
		`/\attacker.example.org/return`, `https:/\attacker.example.org/return`, `https://attacker.example.org\@` + domain + `/return`,
		"https://attacker.example.org%2F@" + domain + "/return", "https://" + domain + "%40attacker.example.org/return",
		"https:%2F%2Fattacker.example.org/return", "/%2Fattacker.example.org/return", "/\tattacker.example.org",
	}
}

// offTheDomain is true when a browser sent to target (a Location) would land
// off the shared cookie domain, or on it over plain http.
func offTheDomain(target string) bool {
	if target == "" {
		return false
	}
	u, err := checks.BrowserResolve(suite.Endpoints.KratosPublic, target)
	if err != nil {
		return false // no browser follows what does not parse either
	}
	downgrade := suite.Endpoints.KratosPublic.Scheme == "https" && u.Scheme != "https"
	return downgrade || !checks.UnderDomain(u.Scheme+"://"+u.Host, strings.TrimPrefix(suite.Endpoints.CookieDomain, "."))
}

// argon2idHash is password hashed with argon2id (memory in KiB) in the PHC
// form Kratos imports.
func argon2idHash(password string, memory, time uint32, threads uint8) string {
	salt := []byte(rand.Text())[:16]
	key := argon2.IDKey([]byte(password), salt, time, memory, threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memory, time, threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}
