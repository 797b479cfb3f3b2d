package conformance

import (
	"context"
	"fmt"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"kratos-conformance/harness/client/kratosflow"
	"kratos-conformance/harness/identityschema"
)

var _ = Describe("Expired flows", Label(labelNegative, labelLifespan), func() {
	It("answers a submit on an expired login flow with 410 self_service_flow_expired and a replacement flow that works", Label(req("EXP-001"), labelAPI, labelLogin), func(ctx SpecContext) {
		u := registerNativeUser(ctx, "expired-login")
		app := newNative()
		started, err := app.InitLogin(ctx)
		issuedBy := time.Now()
		Expect(err).NotTo(HaveOccurred())
		flow := started.Flow
		lifespan := flow.ExpiresAt.Sub(flow.IssuedAt)
		skipUnlessWaitable(lifespan, "the login flow's lifespan")

		waitForGone(ctx, lifespan, issuedBy, func() (*http.Response, error) {
			f, err := app.GetLoginFlow(ctx, flow.Id)
			return f.Response, err
		})
		expired, err := app.SubmitLogin(ctx, flow.Id, u.Identifier, u.Password, nil)
		replacement := expectExpired(expired.Response, err)
		next, err := app.GetLoginFlow(ctx, replacement)
		Expect(err).NotTo(HaveOccurred())
		Expect(kratosflow.MessageIDs(next.Flow.Ui)).To(ContainElement(kratosflow.MsgLoginFlowExpired))
		done, err := app.SubmitLogin(ctx, replacement, u.Identifier, u.Password, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(done.Result.GetSessionToken()).NotTo(BeEmpty())
	})

	It("answers a submit on an expired registration flow with 410 self_service_flow_expired and creates no identity", Label(req("EXP-002"), labelAPI, labelRegistration), func(ctx SpecContext) {
		app := newNative()
		started, err := app.InitRegistration(ctx)
		issuedBy := time.Now()
		Expect(err).NotTo(HaveOccurred())
		flow := started.Flow
		lifespan := flow.ExpiresAt.Sub(flow.IssuedAt)
		skipUnlessWaitable(lifespan, "the registration flow's lifespan")

		waitForGone(ctx, lifespan, issuedBy, func() (*http.Response, error) {
			f, err := app.GetRegistrationFlow(ctx, flow.Id)
			return f.Response, err
		})
		p := newPerson("expired-registration")
		reg, err := app.SubmitRegistration(ctx, flow.Id, p.Traits, p.Password, nil)
		replacement := expectExpired(reg.Response, err)
		next, err := app.GetRegistrationFlow(ctx, replacement)
		Expect(err).NotTo(HaveOccurred())
		Expect(kratosflow.MessageIDs(next.Flow.Ui)).To(ContainElement(kratosflow.MsgRegistrationFlowExpired))
		found, _, err := newAdmin().IdentityAPI.ListIdentities(ctx).CredentialsIdentifier(p.Identifier).Execute()
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(found).To(BeEmpty(), "an expired flow must not create the identity")
	})

	It("answers a submit on an expired settings flow with 410 self_service_flow_expired and leaves the traits alone", Label(req("EXP-003"), labelAPI, labelSettings), func(ctx SpecContext) {
		u := registerNativeUser(ctx, "expired-settings")
		app := u.Agent
		token := u.Registration.Result.GetSessionToken()
		started, err := app.InitSettings(ctx, kratosflow.SessionToken(token))
		issuedBy := time.Now()
		Expect(err).NotTo(HaveOccurred())
		flow := started.Flow
		lifespan := flow.ExpiresAt.Sub(flow.IssuedAt)
		skipUnlessWaitable(lifespan, "the settings flow's lifespan")

		waitForGone(ctx, lifespan, issuedBy, func() (*http.Response, error) {
			f, err := app.GetSettingsFlow(ctx, flow.Id, kratosflow.SessionToken(token))
			return f.Response, err
		})
		_, resp, err := app.SubmitSettings(ctx, flow.Id, kratosflow.SettingsProfileBody(newPerson("expired-settings-new").Traits, nil), kratosflow.SessionToken(token))
		replacement := expectExpired(resp, err)
		next, err := app.GetSettingsFlow(ctx, replacement, kratosflow.SessionToken(token))
		Expect(err).NotTo(HaveOccurred())
		Expect(kratosflow.MessageIDs(next.Flow.Ui)).To(ContainElement(kratosflow.MsgSettingsFlowExpired))
		who, _, err := app.Whoami(ctx, token)
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		expectTraits(who.Identity.Traits, u.Traits)
	})

	It("ends a session at session.lifespan: whoami with its token answers 401 from then on", Label(req("EXP-005"), labelAPI), func(ctx SpecContext) {
		u := registerNativeUser(ctx, "expired-session")
		app, reg := u.Agent, u.Registration
		session := reg.Result.Session
		Expect(session).NotTo(BeNil(), "registration gave no session (is the session hook on?)")
		lifespan := session.GetExpiresAt().Sub(session.GetAuthenticatedAt())
		skipUnlessWaitable(lifespan, "session.lifespan")

		By("polling whoami by token (a token whoami never extends a session) until it expires")
		token := reg.Result.GetSessionToken()
		expectExpiry(ctx, "the session", lifespan, u.RegisteredAt, http.StatusUnauthorized, func() int {
			_, resp, _ := app.Whoami(ctx, token)
			return statusOf(resp)
		})
	})

	// Verification answers expiry unlike the other flows: the flow GET is a
	// 410 without an error id, and a submit is a 303 to a replacement flow.
	It("does not verify with a code submitted on an expired verification flow, and points to a replacement flow saying so", Label(req("EXP-004"), labelBrowser, labelVerification, labelMail), func(ctx SpecContext) {
		requireMail()
		u := registerBrowserUser(ctx, "expired-verification")
		flowID, ok := kratosflow.VerificationFlowID(u.Registration.Result.ContinueWith)
		Expect(ok).To(BeTrue(), "registration gave no show_verification_ui")
		shown, err := u.Agent.GetVerificationFlow(ctx, flowID)
		Expect(err).NotTo(HaveOccurred())
		flow := shown.Flow
		lifespan := flow.ExpiresAt.Sub(flow.GetIssuedAt())
		skipUnlessWaitable(lifespan, "the verification flow's lifespan")
		code := verificationCode(ctx, u.Email)

		waitForGone(ctx, lifespan, u.RegisteredAt, func() (*http.Response, error) {
			f, err := u.Agent.GetVerificationFlow(ctx, flowID)
			return f.Response, err
		})
		csrf, _ := kratosflow.CSRFToken(flow.Ui)
		_, resp, err := u.Agent.SubmitVerification(ctx, flowID, kratosflow.VerificationCodeBody(code, &csrf))
		Expect(err).To(HaveOccurred(), "a code on an expired flow must not pass")
		Expect(statusOf(resp)).To(Equal(http.StatusSeeOther))
		next, err := flowIDFromLocation(resp)
		Expect(err).NotTo(HaveOccurred())
		replaced, err := u.Agent.GetVerificationFlow(ctx, next)
		Expect(err).NotTo(HaveOccurred())
		Expect(kratosflow.MessageIDs(replaced.Flow.Ui)).To(ContainElement(kratosflow.MsgVerificationFlowExpired))
		who, _, err := u.Agent.Whoami(ctx, "")
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(who.Identity.VerifiableAddresses).To(ConsistOf(HaveField("Verified", false)))
	})

	It("does not recover with a recovery code submitted after its flow expired", Label(req("EXP-006"), labelBrowser, labelRecovery, labelMail), func(ctx SpecContext) {
		skipUnlessEnabled("selfservice.flows.recovery.enabled", "recovery")
		address := requireRecoveryMail()
		u := registerBrowserUser(ctx, "expired-recovery")
		b := newBrowser()
		flow, code := askRecoveryCode(ctx, b, fmt.Sprint(identityschema.Value(u.Traits, address)))
		asked := time.Now()
		lifespan := flow.ExpiresAt.Sub(flow.GetIssuedAt())
		skipUnlessWaitable(lifespan, "the recovery flow's lifespan")

		waitForGone(ctx, lifespan, asked, func() (*http.Response, error) {
			f, err := b.GetRecoveryFlow(ctx, flow.Id)
			return f.Response, err
		})
		csrf, _ := kratosflow.CSRFToken(flow.Ui)
		res, resp, err := b.SubmitRecovery(ctx, flow.Id, kratosflow.RecoveryCodeBody(code, &csrf))
		Expect(settingsFlowFromRecovery(res, err)).To(BeEmpty(), "the code recovered the account after its flow expired")
		expectCodeRefusal("the code on the expired flow", resp, err)
		_, resp, _ = b.Whoami(ctx, "")
		Expect(statusOf(resp)).To(Equal(http.StatusUnauthorized), "the expired code gave the browser a session")
	})
})

// waitForGone polls a flow's GET until Kratos answers 410 Gone. issuedBy is
// when the answer that created the flow arrived: Kratos issued it earlier,
// so it has expired for sure by issuedBy + lifespan on this machine's clock,
// whatever Kratos' own clock says.
func waitForGone(ctx context.Context, lifespan time.Duration, issuedBy time.Time, get func() (*http.Response, error)) {
	GinkgoHelper()
	By("waiting until Kratos reports the flow gone (lifespan " + lifespan.String() + ")")
	expectExpiry(ctx, "the flow", lifespan, issuedBy, http.StatusGone, func() int {
		resp, _ := get()
		return statusOf(resp)
	})
}

// expectExpiry polls until probe answers gone. Any other answer to a probe
// sent after issuedBy + lifespan fails at once: the thing outlived its
// lifespan by more than the time measured around its creation, and a
// session living twice its lifespan cannot pass.
func expectExpiry(ctx context.Context, what string, lifespan time.Duration, issuedBy time.Time, gone int, probe func() int) {
	GinkgoHelper()
	expired := issuedBy.Add(lifespan)
	Eventually(func() int {
		sent := time.Now()
		status := probe()
		if status != gone && sent.After(expired) {
			StopTrying(fmt.Sprintf("%s answered %d to a request sent %s after its lifespan of %s had run out", what, status,
				sent.Sub(expired).Round(time.Millisecond), lifespan)).Now()
		}
		return status
	}).WithTimeout(time.Until(expired) + suite.Intervals.HTTPRequest).WithPolling(suite.Intervals.Poll).WithContext(ctx).Should(Equal(gone))
}

// expectExpired checks a 410 self_service_flow_expired answer and returns the replacement flow's id.
func expectExpired(resp *http.Response, err error) string {
	GinkgoHelper()
	Expect(err).To(HaveOccurred(), "a submit on an expired flow must be refused")
	Expect(statusOf(resp)).To(Equal(http.StatusGone), bodyOf(err))
	Expect(kratosflow.ErrorID(err)).To(Equal("self_service_flow_expired"))
	id := kratosflow.UseFlowID(err)
	Expect(id).NotTo(BeEmpty(), "410 without use_flow_id: %s", bodyOf(err))
	return id
}
