package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ory "github.com/ory/kratos-client-go"

	"kratos-conformance/fixtures"
	"kratos-conformance/harness/client/kratosflow"
	"kratos-conformance/harness/client/mail"
	"kratos-conformance/harness/identityschema"
)

var _ = Describe("Account recovery by code", Label(labelRecovery, labelBrowser, labelMail), func() {
	It("recovers an account with the mailed code and sets a new password, after which only the new one works", Label(req("REC-001")), func(ctx SpecContext) {
		skipUnlessEnabled("selfservice.flows.recovery.enabled", "recovery")
		address := requireRecoveryMail()
		u := registerBrowserUser(ctx, "recovery")
		to := fmt.Sprint(identityschema.Value(u.Traits, address))

		By("asking a fresh browser's recovery flow for the address and reading the mailed code")
		browser := newBrowser()
		flow, code := askRecoveryCode(ctx, browser, to)

		By("submitting the code: Kratos hands over to a privileged settings flow")
		settingsID, resp, err := submitRecoveryCode(ctx, browser, flow.Id, code)
		Expect(settingsID).NotTo(BeEmpty(), "no settings flow after the code (status %d): %s", statusOf(resp), bodyOf(err))

		By("setting a new password in that settings flow")
		settings, err := browser.GetSettingsFlow(ctx, settingsID)
		Expect(err).NotTo(HaveOccurred())
		newPassword := fixtures.NewPassword()
		done, resp, err := browser.SubmitSettings(ctx, settingsID, kratosflow.SettingsPasswordBody(newPassword, settings.CSRF))
		Expect(err).NotTo(HaveOccurred())
		Expect(statusOf(resp)).To(Equal(http.StatusOK))
		Expect(done.State).To(Equal("success"))

		By("logging in: the old password fails, the new one works")
		_, err = newNative().Login(ctx, u.Identifier, u.Password)
		Expect(err).To(HaveOccurred(), "the old password must no longer work")
		Expect(flowMessages(err)).To(ContainElement(kratosflow.MsgInvalidCredentials))
		login, err := newNative().Login(ctx, u.Identifier, newPassword)
		Expect(err).NotTo(HaveOccurred())
		Expect(login.Result.Session.Identity.Id).To(Equal(u.Registration.Result.Identity.Id))
	})
})

// askRecoveryCode starts a recovery flow in browser for the address to and
// reads the code mailed for it, found by recipient and Kratos' template type
// (the template's text is the operator's).
func askRecoveryCode(ctx context.Context, browser *kratosflow.Agent, to string) (*ory.RecoveryFlow, string) {
	GinkgoHelper()
	sent, _, err := browser.StartRecovery(ctx, to)
	Expect(err).NotTo(HaveOccurred())
	Expect(sent.State).To(Equal("sent_email"))
	return sent, codeFrom(waitForMails(ctx, to, mail.TypeRecoveryCode, 1)[0])
}

// submitRecoveryCode submits code on the recovery flow with the flow's
// current CSRF token (Kratos renews it when a code succeeds) and returns the
// privileged settings flow the code leads to, "" when it leads nowhere.
func submitRecoveryCode(ctx context.Context, browser *kratosflow.Agent, flowID, code string) (string, *http.Response, error) {
	GinkgoHelper()
	flow, err := browser.GetRecoveryFlow(ctx, flowID)
	Expect(err).NotTo(HaveOccurred())
	csrf, err := kratosflow.CSRFToken(flow.Flow.Ui)
	Expect(err).NotTo(HaveOccurred())
	res, resp, err := browser.SubmitRecovery(ctx, flowID, kratosflow.RecoveryCodeBody(code, &csrf))
	return settingsFlowFromRecovery(res, err), resp, err
}

// settingsFlowFromRecovery finds the settings flow a recovery code leads to:
// in continue_with (continue-with transitions on) or in the 422
// browser_location_change_required error's redirect_browser_to (Kratos' default).
func settingsFlowFromRecovery(res *ory.RecoveryFlow, err error) string {
	if err == nil && res != nil {
		for _, c := range res.ContinueWith {
			if c.ContinueWithSettingsUi != nil {
				return c.ContinueWithSettingsUi.Flow.Id
			}
		}
		return ""
	}
	var body struct {
		RedirectBrowserTo string `json:"redirect_browser_to"`
	}
	if json.Unmarshal(kratosflow.ErrorBody(err), &body) != nil {
		return ""
	}
	u, perr := url.Parse(body.RedirectBrowserTo)
	if perr != nil {
		return ""
	}
	return u.Query().Get("flow")
}
