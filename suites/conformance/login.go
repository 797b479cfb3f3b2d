package conformance

import (
	"net/http"

	"kratos-conformance/harness/client/kratosflow"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ory "github.com/ory/kratos-client-go"
)

var _ = Describe("Browser login and whoami as the guide walks them", Label(labelGuide, labelBrowser, labelLogin), func() {
	DescribeTable("a fresh browser logs in with identifier and password and whoami returns the same identity",
		func(ctx SpecContext, refresh bool) {
			u := registerBrowserUser(ctx, "login")
			browser := newBrowser() // a second browser: no session cookie from registration

			By("walking the login flow with identifier and password")
			var opts []kratosflow.FlowOption
			if refresh {
				opts = append(opts, kratosflow.Refresh())
			}
			login, err := browser.Login(ctx, u.Identifier, u.Password, opts...)
			Expect(err).NotTo(HaveOccurred())
			Expect(login.Response.StatusCode).To(Equal(http.StatusOK))
			session := login.Result.Session
			Expect(session.GetActive()).To(BeTrue())
			Expect(session.GetAuthenticatorAssuranceLevel()).To(Equal(ory.AUTHENTICATORASSURANCELEVEL_AAL1))
			expectTraits(session.Identity.Traits, u.Traits)
			Expect(cookieNamed(login.Response, sessionCookieName())).NotTo(BeNil())
			Expect(login.Result.SessionToken).To(BeNil(), "a browser login must not hand out a session token")

			By("calling whoami with the session cookie")
			who, resp, err := browser.Whoami(ctx, "")
			Expect(err).NotTo(HaveOccurred(), bodyOf(err))
			Expect(resp.StatusCode).To(Equal(http.StatusOK))
			Expect(who.Id).To(Equal(session.Id))
			Expect(who.Identity.Id).To(Equal(u.Registration.Result.Identity.Id))
			if u.Email != "" {
				Expect(who.Identity.VerifiableAddresses).To(ConsistOf(HaveField("Value", u.Email)))
			}
			Expect(resp.Header.Get("X-Kratos-Authenticated-Identity-Id")).To(Equal(who.Identity.Id))
		},
		Entry("plain login flow", Label(req("GUIDE-LOGIN-001")), false),
		Entry("login flow with refresh=true, as the guide inits it", Label(req("GUIDE-LOGIN-002")), true),
	)
})
