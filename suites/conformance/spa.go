package conformance

import (
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"kratos-conformance/harness/client/kratosflow"
)

// A single-page app on the UI domain calls Kratos' browser flows with fetch:
// JSON bodies, cookies, and an Origin header that CORS must answer.
var _ = Describe("Browser flows from a single-page app (JSON + CORS)", Label(labelSPA, labelBrowser), func() {
	It("registers, logs in and asks whoami from the UI origin, and every answer allows that origin with credentials", Label(req("SPA-001")), func(ctx SpecContext) {
		origin := requireUIOrigin()
		spa := newBrowser(kratosflow.WithHeader("Origin", origin))
		allowsOrigin := And(
			WithTransform(func(r *http.Response) string { return r.Header.Get("Access-Control-Allow-Origin") }, Equal(origin)),
			WithTransform(func(r *http.Response) string { return r.Header.Get("Access-Control-Allow-Credentials") }, Equal("true")))

		By("the preflight for a JSON submit")
		preflight, err := http.NewRequestWithContext(ctx, http.MethodOptions, suite.Endpoints.KratosPublic.JoinPath("self-service/registration").String(), nil)
		Expect(err).NotTo(HaveOccurred())
		preflight.Header.Set("Origin", origin)
		preflight.Header.Set("Access-Control-Request-Method", http.MethodPost)
		preflight.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, err := spa.HTTP.Do(preflight)
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(BeNumerically("<", 300))
		Expect(resp).To(allowsOrigin)

		By("registration: init and submit as JSON")
		p := newPerson("spa")
		flow, err := spa.InitRegistration(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(flow.Response).To(allowsOrigin)
		csrf, err := kratosflow.CSRFToken(flow.Flow.Ui)
		Expect(err).NotTo(HaveOccurred())
		reg, err := spa.SubmitRegistration(ctx, flow.Flow.Id, p.Traits, p.Password, &csrf)
		Expect(err).NotTo(HaveOccurred())
		Expect(reg.Response).To(allowsOrigin)
		Expect(cookieNamed(reg.Response, sessionCookieName())).NotTo(BeNil(), "a browser flow sets the session cookie")

		By("login in a fresh SPA session and whoami with its cookie")
		fresh := newBrowser(kratosflow.WithHeader("Origin", origin))
		login, err := fresh.Login(ctx, p.Identifier, p.Password)
		Expect(err).NotTo(HaveOccurred())
		Expect(login.Response).To(allowsOrigin)
		who, resp, err := fresh.Whoami(ctx, "")
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(resp).To(allowsOrigin)
		expectTraits(who.Identity.Traits, p.Traits)
	})

	It("does not let any origin off the shared domain read a session with credentials", Label(req("SPA-002")), func(ctx SpecContext) {
		u := registerBrowserUser(ctx, "spa-foreign")
		for _, origin := range append(offDomain("", "cors", "serve.public.cors.allowed_origins"), "null") {
			By("Origin: " + origin)
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, suite.Endpoints.KratosPublic.JoinPath("sessions", "whoami").String(), nil)
			Expect(err).NotTo(HaveOccurred())
			req.Header.Set("Origin", origin)
			resp, err := u.Agent.HTTP.Do(req)
			Expect(err).NotTo(HaveOccurred())
			resp.Body.Close()
			Expect(resp.StatusCode).To(Equal(http.StatusOK), "the session must be live for the probe to mean anything")
			Expect(resp.Header.Get("Access-Control-Allow-Origin")).NotTo(Or(Equal(origin), Equal("*")),
				"CORS opened a credentialed whoami to %s (reflected, it hands the session to that page; * opens it to every page)", origin)
		}
	})
})

// requireUIOrigin is the self-service UI's origin, which CORS must allow; the
// requirement is N/A when the target does not say where its UI lives.
func requireUIOrigin() string {
	GinkgoHelper()
	if suite.Endpoints.UIBase == nil {
		Skip("N/A: the self-service UI's origin is unknown; set ui_url in the target file (-kc.ui-url) or give the Kratos config (kratos_config)")
	}
	return suite.Endpoints.UIBase.Scheme + "://" + suite.Endpoints.UIBase.Host
}
