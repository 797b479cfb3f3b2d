package conformance

import (
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"kratos-conformance/harness/client/kratosflow"
	"kratos-conformance/harness/client/mail"
)

var _ = Describe("Email verification as the guide walks it", Label(labelGuide, labelBrowser, labelVerification, labelMail), func() {
	It("verifies the address with the code the courier mailed", Label(req("GUIDE-VER-001")), func(ctx SpecContext) {
		requireMail()
		u := registerBrowserUser(ctx, "verification")
		flowID, ok := kratosflow.VerificationFlowID(u.Registration.Result.ContinueWith)
		Expect(ok).To(BeTrue(), "registration gave no show_verification_ui")

		By("waiting for the verification mail to the address, found by recipient and Kratos' template type")
		mails := waitForMails(ctx, u.Email, mail.TypeVerificationCode, 1)
		code := codeFrom(mails[0])
		if suite.Endpoints.MailpitAPI != nil {
			By("the courier's own record agrees: one message to the address, status sent")
			records, err := mail.NewCourier(newAdmin()).Messages(ctx, u.Email)
			Expect(err).NotTo(HaveOccurred())
			Expect(records).To(ConsistOf(And(HaveField("Status", mail.StatusSent), HaveField("TemplateType", mail.TypeVerificationCode))))
		}

		By("reading the verification flow: state sent_email with message 1080003")
		shown, err := u.Agent.GetVerificationFlow(ctx, flowID)
		Expect(err).NotTo(HaveOccurred())
		flow, resp := shown.Flow, shown.Response
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(flow.State).To(Equal("sent_email"))
		Expect(kratosflow.MessageIDs(flow.Ui)).To(ContainElement(kratosflow.MsgVerificationEmailSent))

		By("submitting the mailed code with the csrf_token")
		csrf, err := kratosflow.CSRFToken(flow.Ui)
		Expect(err).NotTo(HaveOccurred())
		done, resp, err := u.Agent.SubmitVerification(ctx, flowID, kratosflow.VerificationCodeBody(code, &csrf))
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(done.State).To(Equal("passed_challenge"))
		Expect(kratosflow.MessageIDs(done.Ui)).To(ContainElement(kratosflow.MsgVerificationSuccess))

		By("seeing the address verified and completed in the session")
		session, _, err := u.Agent.Whoami(ctx, "")
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(session.Identity.VerifiableAddresses).To(ConsistOf(And(
			HaveField("Value", u.Email), HaveField("Verified", true), HaveField("Status", "completed"))))

		By("finding no second mail: the courier sent the code once")
		again, err := mailReader().Received(ctx, u.Email)
		Expect(err).NotTo(HaveOccurred())
		Expect(again).To(HaveLen(1))
	})
})
