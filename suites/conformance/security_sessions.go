package conformance

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"kratos-conformance/harness/checks"
	"kratos-conformance/harness/client/kratosflow"
	"kratos-conformance/harness/identityschema"
)

// sessionSpecs are the security rules on sessions: tokens, the sealed cookie,
// listing and revoking, logout, caching and what survives a password change
// or a recovery.
func sessionSpecs() {
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
}
