package conformance

import (
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("Browser logout as the guide walks it", Label(labelGuide, labelBrowser, labelLogout), func() {
	It("ends the session through the logout URL, after which whoami answers 401", Label(req("GUIDE-LOGOUT-001")), func(ctx SpecContext) {
		u := registerBrowserUser(ctx, "logout")
		_, resp, err := u.Agent.Whoami(ctx, "")
		Expect(err).NotTo(HaveOccurred(), "the registration session must be live before logout")
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		old := sessionCookie(u.Agent)
		Expect(old).NotTo(BeEmpty(), "the jar holds no ory_kratos_session after registration")

		By("asking logout/browser with the session cookie for logout_url and logout_token")
		flow, resp, err := u.Agent.InitLogout(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(flow.LogoutToken).NotTo(BeEmpty())
		Expect(flow.LogoutUrl).To(HavePrefix(suite.Endpoints.KratosPublic.JoinPath("self-service", "logout").String() + "?token="))

		By("following logout_url: Kratos redirects to the configured return URL")
		resp, err = u.Agent.FollowLogout(ctx, flow.LogoutUrl)
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.StatusCode).To(Equal(http.StatusSeeOther))

		By("calling whoami with the same cookie jar: 401")
		_, resp, err = u.Agent.Whoami(ctx, "")
		Expect(err).To(HaveOccurred())
		Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized))

		By("replaying the old session cookie by hand: 401, the session is revoked, not only forgotten")
		_, resp, err = newNative().WhoamiCookie(ctx, sessionCookieName()+"="+old)
		Expect(err).To(HaveOccurred())
		Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized))
	})
})
