package conformance

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ory "github.com/ory/kratos-client-go"

	"kratos-conformance/harness/client/kratosflow"
	"kratos-conformance/harness/identityschema"
)

var _ = Describe("Browser registration as the guide walks it", Label(labelGuide, labelBrowser, labelRegistration), func() {
	It("creates an active identity with an aal1 session, a secure cookie on the shared domain and a verification flow", Label(req("GUIDE-REG-001")), func(ctx SpecContext) {
		agent := newBrowser()
		p := newPerson("registration")

		By("initialising the flow with Accept: application/json")
		started, err := agent.InitRegistration(ctx)
		Expect(err).NotTo(HaveOccurred())
		flow, resp := started.Flow, started.Response
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(flow.Type).To(Equal("browser"))
		Expect(flow.Ui.Action).To(Equal(suite.Endpoints.KratosPublic.JoinPath("self-service", "registration").String() + "?flow=" + flow.Id))
		csrfCookie := false
		for _, c := range resp.Cookies() {
			csrfCookie = csrfCookie || strings.HasPrefix(c.Name, "csrf_token")
		}
		Expect(csrfCookie).To(BeTrue(), "the flow must set the CSRF cookie")

		By("reading the form: csrf_token, method and the schema's required and identifier traits (extra traits are fine)")
		inputs := kratosflow.InputNames(flow.Ui)
		Expect(inputs).To(ContainElements("csrf_token", "method"))
		Expect(inputs).To(ContainElements(traitInputs()), "the form lacks a trait the schema requires or logs in with")
		csrf, err := kratosflow.CSRFToken(flow.Ui)
		Expect(err).NotTo(HaveOccurred())
		if !slices.Contains(inputs, "password") {
			By("two-step form (Kratos >= v1.3 without enable_legacy_one_step): the traits with method=profile first")
			flow = profileStep(ctx, agent, flow.Id, p.Traits, csrf)
			Expect(kratosflow.InputNames(flow.Ui)).To(ContainElement("password"), "the second step offers no password field")
			csrf, err = kratosflow.CSRFToken(flow.Ui)
			Expect(err).NotTo(HaveOccurred())
		}

		By("submitting the traits, password, method=password and the csrf_token")
		reg, err := agent.SubmitRegistration(ctx, flow.Id, p.Traits, p.Password, &csrf)
		Expect(err).NotTo(HaveOccurred())
		res, resp := reg.Result, reg.Response
		Expect(resp.StatusCode).To(Equal(http.StatusOK))

		By("reading an active aal1 session made by the password method (the session hook)")
		Expect(res.Session).NotTo(BeNil(), "no session: is the registration 'session' hook configured?")
		Expect(res.Session.GetActive()).To(BeTrue())
		Expect(res.Session.GetAuthenticatorAssuranceLevel()).To(Equal(ory.AUTHENTICATORASSURANCELEVEL_AAL1))
		Expect(res.Session.AuthenticationMethods).To(ContainElement(HaveField("Method", HaveValue(Equal("password")))))

		By("reading the identity: active, with the traits sent, the address pending verification with status sent, a recovery address")
		id := res.Identity
		Expect(id.GetState()).To(Equal("active"))
		expectTraits(id.Traits, p.Traits)
		Expect(res.Session.Identity.Id).To(Equal(id.Id))
		if p.Email != "" {
			Expect(id.VerifiableAddresses).To(ConsistOf(And(
				HaveField("Value", p.Email), HaveField("Verified", false), HaveField("Status", "sent"), HaveField("Via", "email"))))
		}
		if t, ok := suite.Schema.RecoveryEmail(); ok {
			Expect(id.RecoveryAddresses).To(ConsistOf(HaveField("Value", identityschema.Value(p.Traits, t.Path))))
		}

		if p.Email != "" {
			By("finding show_verification_ui in continue_with by its action")
			flowID, ok := kratosflow.VerificationFlowID(res.ContinueWith)
			Expect(ok).To(BeTrue(), "continue_with has no show_verification_ui item: %v", kratosflow.ContinueWithActions(res.ContinueWith))
			Expect(flowID).NotTo(BeEmpty())
		}

		By("checking the session cookie: HttpOnly, Secure, SameSite=Lax, on the cookie domain")
		c := cookieNamed(resp, sessionCookieName())
		Expect(c).NotTo(BeNil(), "no ory_kratos_session Set-Cookie")
		Expect(c.HttpOnly).To(BeTrue(), "HttpOnly")
		Expect(c.Secure).To(BeTrue(), "Secure")
		Expect(c.SameSite).To(Equal(http.SameSiteLaxMode))
		Expect(c.Domain).To(Equal(strings.TrimPrefix(suite.Endpoints.CookieDomain, ".")), "Domain")
	})

	It("redirects a browser posting the HTML form to the verification UI with its flow (show_verification_ui hook)", Label(req("GUIDE-REG-002")), func(ctx SpecContext) {
		requireMail()
		agent := newBrowser()
		flow, err := agent.InitRegistration(ctx)
		Expect(err).NotTo(HaveOccurred())
		csrf, err := kratosflow.CSRFToken(flow.Flow.Ui)
		Expect(err).NotTo(HaveOccurred())

		By("posting the form as a browser does: form-encoded, Accept: text/html")
		p := newPerson("registration-form")
		form := url.Values{"csrf_token": {csrf}, "password": {p.Password}, "method": {"password"}}
		for name, value := range identityschema.FormFields(p.Traits) {
			form.Set(name, value)
		}
		resp, err := agent.SubmitHTMLForm(ctx, flow.Flow.Ui.Action, form)
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.StatusCode).To(Equal(http.StatusSeeOther))
		Expect(cookieNamed(resp, sessionCookieName())).NotTo(BeNil(), "the session hook sets the cookie on the redirect too")

		By("finding the verification UI and a live verification flow in the Location")
		location, err := resp.Location()
		Expect(err).NotTo(HaveOccurred())
		if ui := configOr("selfservice.flows.verification.ui_url", ""); ui != "" {
			Expect(location.String()).To(HavePrefix(ui), "the deployment's verification UI (selfservice.flows.verification.ui_url)")
		}
		verificationID := location.Query().Get("flow")
		Expect(verificationID).NotTo(BeEmpty(), "the redirect to %s names no verification flow: without show_verification_ui Kratos sends the browser to the default return URL", location)
		vf, err := agent.GetVerificationFlow(ctx, verificationID)
		Expect(err).NotTo(HaveOccurred())
		Expect(vf.Flow.State).To(Equal("sent_email"))
	})
})

// traitInputs are the form fields the schema makes necessary: its required
// traits and its password identifiers (array traits render per item; skipped).
func traitInputs() []string {
	var names []string
	for _, t := range suite.Schema.Traits {
		if (t.Required || t.PasswordIdentifier) && !strings.Contains(t.Path, "[]") {
			names = append(names, "traits."+t.Path)
		}
	}
	return names
}

// profileStep submits the first step of a two-step registration; Kratos
// answers a JSON client with 400 and the flow's second step, which the spec
// reads itself: the call stays bare kratos-client-go.
func profileStep(ctx SpecContext, agent *kratosflow.Agent, flowID string, traits map[string]any, csrf string) *ory.RegistrationFlow {
	GinkgoHelper()
	_, resp, err := agent.API.FrontendAPI.UpdateRegistrationFlow(ctx).Flow(flowID).UpdateRegistrationFlowBody(
		ory.UpdateRegistrationFlowWithProfileMethodAsUpdateRegistrationFlowBody(&ory.UpdateRegistrationFlowWithProfileMethod{
			Method: "profile", Traits: traits, CsrfToken: &csrf})).Execute()
	Expect(statusOf(resp)).To(Equal(http.StatusBadRequest), "Kratos answers the profile step with the next step's flow: %s", bodyOf(err))
	var next ory.RegistrationFlow
	Expect(json.Unmarshal(kratosflow.ErrorBody(err), &next)).To(Succeed(), bodyOf(err))
	return &next
}
