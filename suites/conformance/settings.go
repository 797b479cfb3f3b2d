package conformance

import (
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ory "github.com/ory/kratos-client-go"

	"kratos-conformance/fixtures"
	"kratos-conformance/harness/client/kratosflow"
	"kratos-conformance/harness/client/mail"
	"kratos-conformance/harness/identityschema"
)

var _ = Describe("Account settings", Label(labelSettings), func() {
	It("changes the verified email trait in an API settings flow: the new address is mailed a code and, where it is the identifier, is the login identifier from then on", Label(req("SET-001"), labelAPI, labelMail), func(ctx SpecContext) {
		requireMail()
		address, _ := suite.Schema.VerifiedEmail()
		u := registerNativeUser(ctx, "settings-trait")
		token := u.Registration.Result.GetSessionToken()

		By("submitting the profile method with a new address in " + address.Path)
		flow, err := u.Agent.InitSettings(ctx, kratosflow.SessionToken(token))
		Expect(err).NotTo(HaveOccurred())
		newEmail := newEmail("settings-trait-new")
		done, resp, err := u.Agent.SubmitSettings(ctx, flow.Flow.Id,
			kratosflow.SettingsProfileBody(identityschema.With(u.Traits, address.Path, newEmail), nil), kratosflow.SessionToken(token))
		Expect(err).NotTo(HaveOccurred())
		Expect(statusOf(resp)).To(Equal(http.StatusOK))
		Expect(done.State).To(Equal("success"))

		By("whoami shows the new, unverified address")
		who, _, err := u.Agent.Whoami(ctx, token)
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(identityschema.Value(who.Identity.Traits, address.Path)).To(Equal(newEmail))
		Expect(who.Identity.VerifiableAddresses).To(ConsistOf(And(HaveField("Value", newEmail), HaveField("Verified", false))))

		By("the new address gets a verification mail")
		waitForMails(ctx, newEmail, mail.TypeVerificationCode, 1)

		newIdentifier := u.Identifier
		if address.PasswordIdentifier {
			By("logging in: the old address is unknown now")
			_, err = newNative().Login(ctx, u.Identifier, u.Password)
			Expect(flowMessages(err)).To(ContainElement(kratosflow.MsgInvalidCredentials))
			newIdentifier = newEmail
		}
		By("logging in with the identifier " + newIdentifier + " works")
		login, err := newNative().Login(ctx, newIdentifier, u.Password)
		Expect(err).NotTo(HaveOccurred())
		Expect(login.Result.Session.Identity.Id).To(Equal(u.Registration.Result.Identity.Id))
	})

	It("changes the password in a browser settings flow: the old password then fails, the new one works, the session lives on", Label(req("SET-002"), labelBrowser), func(ctx SpecContext) {
		u := registerBrowserUser(ctx, "settings-password")
		newPassword := changePassword(ctx, u.Agent)

		_, err := newNative().Login(ctx, u.Identifier, u.Password)
		Expect(flowMessages(err)).To(ContainElement(kratosflow.MsgInvalidCredentials), "the old password must no longer work")
		_, err = newNative().Login(ctx, u.Identifier, newPassword)
		Expect(err).NotTo(HaveOccurred())
		_, resp, err := u.Agent.Whoami(ctx, "")
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(statusOf(resp)).To(Equal(http.StatusOK))
	})

	It("asks for re-authentication (403 session_refresh_required) once the session is older than privileged_session_max_age, and accepts the change after a refresh login", Label(req("SET-003"), labelBrowser, labelLifespan), func(ctx SpecContext) {
		maxAge := privilegedSessionMaxAge()
		skipUnlessWaitable(maxAge, "selfservice.flows.settings.privileged_session_max_age")
		u := registerBrowserUser(ctx, "settings-privileged")
		By("waiting out the privileged window (" + maxAge.String() + ")")
		waitPast(ctx, u.RegisteredAt.Add(maxAge)) // authenticated before the answer arrived, on any clock

		By("a password change is refused and the browser is sent to a refresh login")
		flow, err := u.Agent.InitSettings(ctx)
		Expect(err).NotTo(HaveOccurred())
		_, resp, err := submitPassword(ctx, u.Agent, flow.Flow, fixtures.NewPassword())
		Expect(statusOf(resp)).To(Equal(http.StatusForbidden), bodyOf(err))
		Expect(kratosflow.ErrorID(err)).To(Equal("session_refresh_required"))
		Expect(bodyOf(err)).To(ContainSubstring("refresh=true"))

		By("after logging in again with refresh=true the change goes through")
		_, err = u.Agent.Login(ctx, u.Identifier, u.Password, kratosflow.Refresh())
		Expect(err).NotTo(HaveOccurred())
		changePassword(ctx, u.Agent)
	})
})

// changePassword sets a new password through a fresh browser settings flow and returns it.
func changePassword(ctx SpecContext, browser *kratosflow.Agent) string {
	GinkgoHelper()
	flow, err := browser.InitSettings(ctx)
	Expect(err).NotTo(HaveOccurred())
	password := fixtures.NewPassword()
	done, resp, err := submitPassword(ctx, browser, flow.Flow, password)
	Expect(err).NotTo(HaveOccurred(), bodyOf(err))
	Expect(statusOf(resp)).To(Equal(http.StatusOK))
	Expect(done.State).To(Equal("success"))
	return password
}

// submitPassword submits a new password on a browser settings flow with the flow's csrf_token.
func submitPassword(ctx SpecContext, browser *kratosflow.Agent, flow *ory.SettingsFlow, password string) (*ory.SettingsFlow, *http.Response, error) {
	GinkgoHelper()
	csrf, err := kratosflow.CSRFToken(flow.Ui)
	Expect(err).NotTo(HaveOccurred())
	return browser.SubmitSettings(ctx, flow.Id, kratosflow.SettingsPasswordBody(password, &csrf))
}

// privilegedSessionMaxAge reads the window from the live config; unknown
// makes the requirement N/A, since no API shows it.
func privilegedSessionMaxAge() time.Duration {
	GinkgoHelper()
	c := liveConfig()
	if c == nil {
		Skip("N/A: privileged_session_max_age is not visible through the API and the deployment's config is unknown (kratos_config in the target file, or -kc.kratos-config)")
	}
	v, known := c.Value("selfservice.flows.settings.privileged_session_max_age")
	if !known {
		v = "1h" // Kratos' default
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	Expect(err).NotTo(HaveOccurred(), "privileged_session_max_age %q", v)
	return d
}
