package conformance

import (
	"net/http"
	"net/url"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ory "github.com/ory/kratos-client-go"

	"kratos-conformance/fixtures"
	"kratos-conformance/harness/kratosflow"
)

var _ = Describe("Browser registration as the guide walks it", Label(labelGuide, labelBrowser, labelRegistration), func() {
	It("creates an active identity with an aal1 session, a secure cookie on the shared domain and a verification flow", Label(req("GUIDE-REG-001")), func(ctx SpecContext) {
		agent := newBrowser()
		email, password := fixtures.NewEmail("registration"), fixtures.NewPassword()

		By("initialising the flow with Accept: application/json")
		flow, resp, err := agent.API.FrontendAPI.CreateBrowserRegistrationFlow(ctx).Execute()
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(flow.Type).To(Equal("browser"))
		Expect(flow.Ui.Action).To(Equal(ep.KratosPublic.JoinPath("self-service", "registration").String() + "?flow=" + flow.Id))
		Expect(kratosflow.InputNames(flow.Ui)).To(ConsistOf("csrf_token", "traits.email", "password", "method"),
			"the guide's one-step form; Kratos >= v1.3 serves a two-step form unless selfservice.flows.registration.enable_legacy_one_step is true")
		csrfCookie := false
		for _, c := range resp.Cookies() {
			csrfCookie = csrfCookie || strings.HasPrefix(c.Name, "csrf_token")
		}
		Expect(csrfCookie).To(BeTrue(), "the flow must set the CSRF cookie")

		By("submitting traits.email, password, method=password and the csrf_token")
		csrf, err := kratosflow.CSRFToken(flow.Ui)
		Expect(err).NotTo(HaveOccurred())
		body := ory.UpdateRegistrationFlowWithPasswordMethodAsUpdateRegistrationFlowBody(&ory.UpdateRegistrationFlowWithPasswordMethod{
			Method: "password", Password: password, Traits: map[string]interface{}{"email": email}, CsrfToken: &csrf,
		})
		res, resp, err := agent.API.FrontendAPI.UpdateRegistrationFlow(ctx).Flow(flow.Id).UpdateRegistrationFlowBody(body).Execute()
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(resp.StatusCode).To(Equal(http.StatusOK))

		By("reading an active aal1 session made by the password method (the session hook)")
		Expect(res.Session).NotTo(BeNil(), "no session: is the registration 'session' hook configured?")
		Expect(res.Session.GetActive()).To(BeTrue())
		Expect(res.Session.GetAuthenticatorAssuranceLevel()).To(Equal(ory.AUTHENTICATORASSURANCELEVEL_AAL1))
		Expect(res.Session.AuthenticationMethods).To(ContainElement(HaveField("Method", HaveValue(Equal("password")))))

		By("reading the identity: active, the address pending verification with status sent, a recovery address")
		id := res.Identity
		Expect(id.GetState()).To(Equal("active"))
		Expect(id.Traits).To(HaveKeyWithValue("email", email))
		Expect(id.VerifiableAddresses).To(ConsistOf(And(
			HaveField("Value", email), HaveField("Verified", false), HaveField("Status", "sent"), HaveField("Via", "email"))))
		Expect(id.RecoveryAddresses).To(ConsistOf(HaveField("Value", email)))
		Expect(res.Session.Identity.Id).To(Equal(id.Id))

		By("finding show_verification_ui in continue_with by its action")
		flowID, ok := kratosflow.VerificationFlowID(res.ContinueWith)
		Expect(ok).To(BeTrue(), "continue_with has no show_verification_ui item: %v", kratosflow.ContinueWithActions(res.ContinueWith))
		Expect(flowID).NotTo(BeEmpty())

		By("checking the session cookie: HttpOnly, Secure, SameSite=Lax, on the cookie domain")
		c := cookieNamed(resp, "ory_kratos_session")
		Expect(c).NotTo(BeNil(), "no ory_kratos_session Set-Cookie")
		Expect(c.HttpOnly).To(BeTrue(), "HttpOnly")
		Expect(c.Secure).To(BeTrue(), "Secure")
		Expect(c.SameSite).To(Equal(http.SameSiteLaxMode))
		Expect(c.Domain).To(Equal(strings.TrimPrefix(ep.CookieDomain, ".")), "Domain")
	})

	It("redirects a browser posting the HTML form to the verification UI with its flow (show_verification_ui hook)", Label(req("GUIDE-REG-002")), func(ctx SpecContext) {
		agent := newBrowser()
		flow, _, err := agent.API.FrontendAPI.CreateBrowserRegistrationFlow(ctx).Execute()
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		csrf, err := kratosflow.CSRFToken(flow.Ui)
		Expect(err).NotTo(HaveOccurred())

		By("posting the form as a browser does: form-encoded, Accept: text/html")
		email := fixtures.NewEmail("registration-form")
		resp, err := agent.SubmitHTMLForm(ctx, flow.Ui.Action, url.Values{
			"csrf_token": {csrf}, "traits.email": {email}, "password": {fixtures.NewPassword()}, "method": {"password"},
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.StatusCode).To(Equal(http.StatusSeeOther))
		Expect(cookieNamed(resp, "ory_kratos_session")).NotTo(BeNil(), "the session hook sets the cookie on the redirect too")

		By("finding the verification UI and a live verification flow in the Location")
		location, err := resp.Location()
		Expect(err).NotTo(HaveOccurred())
		Expect(location.Path).To(HaveSuffix("/verification"), "without show_verification_ui Kratos sends the browser to the default return URL instead")
		if ep.UIBase != nil {
			Expect(location.Host).To(Equal(ep.UIBase.Host))
		}
		verificationID := location.Query().Get("flow")
		Expect(verificationID).NotTo(BeEmpty())
		vf, _, err := agent.API.FrontendAPI.GetVerificationFlow(ctx).Id(verificationID).Execute()
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(vf.State).To(Equal("sent_email"))
	})
})
