package conformance

import (
	"context"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ory "github.com/ory/kratos-client-go"

	"kratos-conformance/harness/client/kratosflow"
)

var _ = Describe("Second factor (TOTP), as the guide enables it", Label(labelMFA, labelAPI), func() {
	It("enrols TOTP in settings, and a login with aal=aal2 and the code raises the same session to aal2", Label(req("MFA-001")), func(ctx SpecContext) {
		skipUnlessEnabled("selfservice.methods.totp.enabled", "TOTP")
		u := enrolTOTP(ctx)

		By("a password login gives an aal1 session")
		login, err := newNative().Login(ctx, u.Identifier, u.Password)
		Expect(err).NotTo(HaveOccurred())
		token := login.Result.GetSessionToken()
		Expect(login.Result.Session.GetAuthenticatorAssuranceLevel()).To(Equal(ory.AUTHENTICATORASSURANCELEVEL_AAL1))

		By("the second factor: a wrong code is refused, the right one upgrades the session")
		flow, err := u.Agent.InitLogin(ctx, kratosflow.AAL2(), kratosflow.SessionToken(token))
		Expect(err).NotTo(HaveOccurred())
		wrong, err := u.Agent.SubmitTOTP(ctx, flow.Flow.Id, wrongTOTP(u.secret), kratosflow.SessionToken(token))
		Expect(statusOf(wrong.Response)).To(Equal(http.StatusBadRequest), bodyOf(err))
		Expect(flowMessages(err)).To(ContainElement(kratosflow.MsgTOTPWrong))
		code, err := kratosflow.TOTPCode(u.secret, time.Now())
		Expect(err).NotTo(HaveOccurred())
		done, err := u.Agent.SubmitTOTP(ctx, flow.Flow.Id, code, kratosflow.SessionToken(token))
		Expect(err).NotTo(HaveOccurred())
		Expect(done.Result.Session.Id).To(Equal(login.Result.Session.Id), "the second factor raises the session it was asked for")

		By("whoami shows aal2 and both methods")
		who, _, err := u.Agent.Whoami(ctx, token)
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(who.GetAuthenticatorAssuranceLevel()).To(Equal(ory.AUTHENTICATORASSURANCELEVEL_AAL2))
		Expect(who.AuthenticationMethods).To(ContainElements(HaveField("Method", HaveValue(Equal("password"))), HaveField("Method", HaveValue(Equal("totp")))))
	})

	It("holds an aal1 session of a TOTP user to the guide's required_aal: whoami answers (aal1), settings asks for the second factor (highest_available)", Label(req("MFA-002")), func(ctx SpecContext) {
		skipUnlessEnabled("selfservice.methods.totp.enabled", "TOTP")
		u := enrolTOTP(ctx)
		login, err := newNative().Login(ctx, u.Identifier, u.Password)
		Expect(err).NotTo(HaveOccurred())
		token := login.Result.GetSessionToken()

		By("whoami, which the guide opens to aal1 sessions (session.whoami.required_aal: " + guideWhoamiAAL + ")")
		_, resp, err := u.Agent.Whoami(ctx, token)
		expectAALGate(guideWhoamiAAL, resp, err)

		By("settings, which the guide holds to the highest factor (selfservice.flows.settings.required_aal: " + guideSettingsAAL + ")")
		settings, err := u.Agent.InitSettings(ctx, kratosflow.SessionToken(token))
		expectAALGate(guideSettingsAAL, settings.Response, err)
	})
})

// totpUser is an identity with password and TOTP set up.
type totpUser struct {
	user
	secret string
}

// enrolTOTP registers through the API flow and links TOTP in a settings flow,
// reading the secret the way an authenticator app's user types it in.
func enrolTOTP(ctx context.Context) totpUser {
	GinkgoHelper()
	u := totpUser{user: registerNativeUser(ctx, "totp")}
	token := u.Registration.Result.GetSessionToken()
	flow, err := u.Agent.InitSettings(ctx, kratosflow.SessionToken(token))
	Expect(err).NotTo(HaveOccurred())
	u.secret, err = kratosflow.TextValue(flow.Flow.Ui, "totp_secret_key")
	Expect(err).NotTo(HaveOccurred(), "the settings flow offers no TOTP secret; is selfservice.methods.totp enabled?")
	code, err := kratosflow.TOTPCode(u.secret, time.Now())
	Expect(err).NotTo(HaveOccurred())
	done, _, err := u.Agent.SubmitSettings(ctx, flow.Flow.Id, kratosflow.SettingsTOTPBody(code, nil), kratosflow.SessionToken(token))
	Expect(err).NotTo(HaveOccurred())
	Expect(done.State).To(Equal("success"))
	return u
}

// wrongTOTP is a code for an hour ago: well formed, never valid now.
func wrongTOTP(secret string) string {
	GinkgoHelper()
	code, err := kratosflow.TOTPCode(secret, time.Now().Add(-time.Hour))
	Expect(err).NotTo(HaveOccurred())
	return code
}

// The guide's configs.yaml: whoami serves aal1 sessions, settings wants the
// highest factor an identity has. The requirement is the guide's; a
// deployment that differs fails MFA-002 (or lists it as an expected failure).
const (
	guideWhoamiAAL   = "aal1"
	guideSettingsAAL = "highest_available"
)

// expectAALGate checks what an aal1 session of an identity with a second factor gets.
func expectAALGate(required string, resp *http.Response, err error) {
	GinkgoHelper()
	if required == "aal1" {
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(statusOf(resp)).To(Equal(http.StatusOK))
		return
	}
	Expect(statusOf(resp)).To(Equal(http.StatusForbidden), bodyOf(err))
	Expect(kratosflow.ErrorID(err)).To(Equal("session_aal2_required"))
}
