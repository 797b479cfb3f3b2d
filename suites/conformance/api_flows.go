package conformance

import (
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("API flows with X-Session-Token, as native apps and servers use them", Label(labelAPI, labelLogin, labelLogout), func() {
	It("registers, logs in, calls whoami with the token and logs out, after which the token answers 401", Label(req("GUIDE-API-001")), func(ctx SpecContext) {
		app := newNative()
		p := newPerson("api")

		By("registering through the API flow: a session token instead of a cookie")
		reg, err := app.Register(ctx, p.Traits, p.Password)
		Expect(err).NotTo(HaveOccurred())
		Expect(reg.Response.StatusCode).To(Equal(http.StatusOK))
		Expect(reg.Result.SessionToken).NotTo(BeNil(), "no session_token: is the registration 'session' hook configured?")
		Expect(cookieNamed(reg.Response, sessionCookieName())).To(BeNil(), "an API flow must not set a session cookie")

		By("logging in through the API flow")
		login, err := app.Login(ctx, p.Identifier, p.Password)
		Expect(err).NotTo(HaveOccurred())
		Expect(login.Response.StatusCode).To(Equal(http.StatusOK))
		token := login.Result.GetSessionToken()
		Expect(token).NotTo(BeEmpty())
		Expect(token).NotTo(Equal(reg.Result.GetSessionToken()), "every login issues a new token")
		Expect(login.Result.Session.Identity.Id).To(Equal(reg.Result.Identity.Id))

		By("calling whoami with X-Session-Token")
		who, resp, err := app.Whoami(ctx, token)
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(who.Id).To(Equal(login.Result.Session.Id))
		expectTraits(who.Identity.Traits, p.Traits)
		Expect(resp.Header.Get("X-Kratos-Authenticated-Identity-Id")).To(Equal(who.Identity.Id))

		By("logging out with the token: 204")
		resp, err = app.Logout(ctx, token)
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.StatusCode).To(Equal(http.StatusNoContent))

		By("calling whoami with the revoked token: 401; the registration's token still works")
		_, resp, err = app.Whoami(ctx, token)
		Expect(err).To(HaveOccurred())
		Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized))
		_, resp, err = app.Whoami(ctx, reg.Result.GetSessionToken())
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
	})
})
