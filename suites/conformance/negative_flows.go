package conformance

import (
	"fmt"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ory "github.com/ory/kratos-client-go"

	"kratos-conformance/harness/client/kratosflow"
	"kratos-conformance/harness/client/mail"
	"kratos-conformance/harness/identityschema"
)

var _ = Describe("Refusing misuse of flows and sessions", Label(labelNegative), func() {
	It("refuses a logout without a token (400) and with another session's token (403)", Label(req("NEG-OUT-001")), func(ctx SpecContext) {
		alice := registerBrowserUser(ctx, "logout-alice")
		bob := registerBrowserUser(ctx, "logout-bob")
		bobFlow, _, err := bob.Agent.InitLogout(ctx)
		Expect(err).NotTo(HaveOccurred())

		// The submits stay bare kratos-client-go calls: the spec sends a
		// logout without its token, and with another session's.
		By("logging out with no token")
		resp, err := alice.Agent.API.FrontendAPI.UpdateLogoutFlow(ctx).Execute()
		Expect(err).To(HaveOccurred())
		Expect(statusOf(resp)).To(Equal(http.StatusBadRequest))

		By("logging Alice out with Bob's token")
		resp, err = alice.Agent.API.FrontendAPI.UpdateLogoutFlow(ctx).Token(bobFlow.LogoutToken).Execute()
		Expect(err).To(HaveOccurred())
		Expect(statusOf(resp)).To(Equal(http.StatusForbidden))

		By("both sessions are still alive")
		for _, u := range []user{alice, bob} {
			_, resp, err := u.Agent.Whoami(ctx, "")
			Expect(err).NotTo(HaveOccurred(), bodyOf(err))
			Expect(statusOf(resp)).To(Equal(http.StatusOK))
		}
	})

	It("refuses another user's settings flow with 403 security_identity_mismatch", Label(req("NEG-SET-001")), func(ctx SpecContext) {
		alice := registerBrowserUser(ctx, "settings-alice")
		bob := registerBrowserUser(ctx, "settings-bob")
		flow, err := alice.Agent.InitSettings(ctx)
		Expect(err).NotTo(HaveOccurred())
		shown, err := bob.Agent.GetSettingsFlow(ctx, flow.Flow.Id)
		Expect(err).To(HaveOccurred())
		Expect(statusOf(shown.Response)).To(Equal(http.StatusForbidden))
		Expect(kratosflow.ErrorID(err)).To(Equal("security_identity_mismatch"))
	})

	// Kratos v1.3.1 counts code submits per flow; past five it replaces the
	// flow (410 self_service_flow_replaced with use_flow_id), so the mailed
	// code cannot be brute-forced on that flow.
	It("replaces a verification flow after five wrong codes, and the right code no longer passes on it", Label(req("NEG-VER-002"), labelMail), func(ctx SpecContext) {
		requireMail()
		u := registerBrowserUser(ctx, "brute-force")
		flowID, csrf := registrationVerification(ctx, u)
		submit := func(code string) (*ory.VerificationFlow, *http.Response, error) {
			return u.Agent.SubmitVerification(ctx, flowID, kratosflow.VerificationCodeBody(code, &csrf))
		}
		By("five wrong codes: each refused with 4070006")
		for i := 0; i < 5; i++ {
			res, _, err := submit(fmt.Sprintf("00000%d", i))
			Expect(err).NotTo(HaveOccurred(), bodyOf(err))
			Expect(kratosflow.MessageIDs(res.Ui)).To(ContainElement(kratosflow.MsgVerificationBad))
		}
		By("the sixth submit, with the right code: the flow is gone")
		_, resp, err := submit(verificationCode(ctx, u.Email))
		Expect(err).To(HaveOccurred(), "the right code must not pass after five wrong ones")
		Expect(statusOf(resp)).To(Equal(http.StatusGone))
		Expect(kratosflow.ErrorID(err)).To(Equal("self_service_flow_replaced"))
		who, _, err := u.Agent.Whoami(ctx, "")
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(who.Identity.VerifiableAddresses).To(ConsistOf(HaveField("Verified", false)))
	})

	It("refuses a verification code that was already used, on a new flow: 200 with 4070006, the flow stays sent_email", Label(req("NEG-VER-003"), labelMail), func(ctx SpecContext) {
		requireMail()
		u := registerBrowserUser(ctx, "used-code")
		flowID, ok := kratosflow.VerificationFlowID(u.Registration.Result.ContinueWith)
		Expect(ok).To(BeTrue())
		code := verificationCode(ctx, u.Email)
		// submitCode answers flow with the code and the csrf_token the flow shows.
		submitCode := func(flow *ory.VerificationFlow) *ory.VerificationFlow {
			GinkgoHelper()
			csrf, _ := kratosflow.CSRFToken(flow.Ui)
			res, _, err := u.Agent.SubmitVerification(ctx, flow.Id, kratosflow.VerificationCodeBody(code, &csrf))
			Expect(err).NotTo(HaveOccurred())
			return res
		}
		By("using the code once")
		first, err := u.Agent.GetVerificationFlow(ctx, flowID)
		Expect(err).NotTo(HaveOccurred())
		Expect(submitCode(first.Flow).State).To(Equal("passed_challenge"))

		By("asking a new flow to mail the address again, and answering it with the used code")
		second, _, err := u.Agent.StartVerification(ctx, u.Email)
		Expect(err).NotTo(HaveOccurred())
		Expect(second.State).To(Equal("sent_email"))
		res := submitCode(second)
		Expect(res.State).To(Equal("sent_email"))
		Expect(kratosflow.MessageIDs(res.Ui)).To(ContainElement(kratosflow.MsgVerificationBad))
	})

	It("answers recovery for an unknown address like a known one and mails no code to it", Label(req("NEG-REC-001"), labelMail), func(ctx SpecContext) {
		skipUnlessEnabled("selfservice.flows.recovery.enabled", "recovery")
		address := requireRecoveryMail()
		known := registerBrowserUser(ctx, "recovery-known")
		knownAddress := fmt.Sprint(identityschema.Value(known.Traits, address))
		unknown := newEmail("recovery-unknown")

		submit := func(email string) *ory.RecoveryFlow {
			res, _, err := newBrowser().StartRecovery(ctx, email)
			Expect(err).NotTo(HaveOccurred())
			return res
		}
		By("asking recovery for the unknown address, then for the known one")
		forUnknown := submit(unknown)
		forKnown := submit(knownAddress)
		Expect(forUnknown.State).To(Equal(forKnown.State))
		Expect(forUnknown.GetState()).To(Equal("sent_email"))
		Expect(kratosflow.MessageIDs(forUnknown.Ui)).To(Equal(kratosflow.MessageIDs(forKnown.Ui)))
		Expect(kratosflow.MessageIDs(forUnknown.Ui)).To(ContainElement(kratosflow.MsgRecoveryEmailSent))

		By("the known address gets its code; the unknown one none (Kratos queues a recovery mail while it answers the request)")
		waitForMails(ctx, knownAddress, mail.TypeRecoveryCode, 1)
		records, err := mail.NewCourier(newAdmin()).Messages(ctx, unknown)
		Expect(err).NotTo(HaveOccurred())
		Expect(records).NotTo(ContainElement(HaveField("TemplateType", mail.TypeRecoveryCode)), "recovery must not mail a code to an address no identity has")
		if len(records) > 0 {
			AddReportEntry("unknown recipient notified", fmt.Sprintf("%d mail(s) of type %s (selfservice.flows.recovery.notify_unknown_recipients)", len(records), records[0].TemplateType))
		}
	})

	It("ends a session the admin revokes", Label(req("NEG-SES-006"), labelAdmin), func(ctx SpecContext) {
		u := registerNativeUser(ctx, "revoke")
		app, reg := u.Agent, u.Registration
		resp, err := newAdmin().IdentityAPI.DisableSession(ctx, reg.Result.Session.Id).Execute()
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(statusOf(resp)).To(Equal(http.StatusNoContent))
		_, resp, err = app.Whoami(ctx, reg.Result.GetSessionToken())
		Expect(err).To(HaveOccurred())
		Expect(statusOf(resp)).To(Equal(http.StatusUnauthorized))
	})
})
