package conformance

import (
	"fmt"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"kratos-conformance/fixtures"
	"kratos-conformance/harness/client/kratosflow"
	"kratos-conformance/harness/identityschema"
)

// mfaSpecs are the security rules on guessing a factor: TOTP codes,
// recovery codes and passwords.
func mfaSpecs() {
	It("takes a TOTP code once: the same code on a second session is refused (ASVS 2.8.4); wrong codes are refused and their limit reported", Label(req("SEC-MFA-001"), labelMFA, labelAPI), func(ctx SpecContext) {
		skipUnlessEnabled("selfservice.methods.totp.enabled", "TOTP")
		u := enrolTOTP(ctx)
		// The next period's code: valid now (one period of skew) and never the
		// code the enrolment used, so the first login is no replay itself.
		code, err := kratosflow.TOTPCode(u.secret, time.Now().Add(30*time.Second))
		Expect(err).NotTo(HaveOccurred())
		secondFactor := func(totpCode string) (*http.Response, error) {
			login, err := newNative().Login(ctx, u.Identifier, u.Password)
			Expect(err).NotTo(HaveOccurred())
			token := login.Result.GetSessionToken()
			flow, err := u.Agent.InitLogin(ctx, kratosflow.AAL2(), kratosflow.SessionToken(token))
			Expect(err).NotTo(HaveOccurred())
			done, err := u.Agent.SubmitTOTP(ctx, flow.Flow.Id, totpCode, kratosflow.SessionToken(token))
			return done.Response, err
		}
		By("the first use of the code raises a session to aal2")
		_, err = secondFactor(code)
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))

		By(fmt.Sprintf("%d wrong codes on one flow are refused, then the right code is tried", totpWrongAttempts))
		login, err := newNative().Login(ctx, u.Identifier, u.Password)
		Expect(err).NotTo(HaveOccurred())
		token := login.Result.GetSessionToken()
		flow, err := u.Agent.InitLogin(ctx, kratosflow.AAL2(), kratosflow.SessionToken(token))
		Expect(err).NotTo(HaveOccurred())
		submit := func(c string) (*http.Response, error) {
			done, err := u.Agent.SubmitTOTP(ctx, flow.Flow.Id, c, kratosflow.SessionToken(token))
			return done.Response, err
		}
		for range totpWrongAttempts {
			resp, err := submit(wrongTOTP(u.secret))
			Expect(err).To(HaveOccurred(), "a wrong TOTP code was accepted")
			Expect(statusOf(resp)).To(BeNumerically("<", 500), bodyOf(err))
		}
		now, err := kratosflow.TOTPCode(u.secret, time.Now())
		Expect(err).NotTo(HaveOccurred())
		if _, err := submit(now); err == nil {
			finding("SEC-MFA-001", "2.2.1", fmt.Sprintf("after %d wrong TOTP codes on one flow the right code still passes: "+
				"nothing limits guessing the 6 digits but the flow's lifespan (limit at the edge)", totpWrongAttempts))
		}

		By("the same code on another session: refused")
		resp, err := secondFactor(code)
		Expect(err).To(HaveOccurred(), "a TOTP code already used was accepted again (status %d): TOTP codes are replayable within their window", statusOf(resp))
		Expect(flowMessages(err)).To(ContainElement(kratosflow.MsgTOTPWrong))
	})
	It("takes a recovery code once and gives a flow five tries: after five wrong codes the right one is refused too", Label(req("SEC-REC-001"), labelRecovery, labelBrowser, labelMail), func(ctx SpecContext) {
		skipUnlessEnabled("selfservice.flows.recovery.enabled", "recovery")
		address := requireRecoveryMail()

		By("five wrong codes, then the right one, on one flow")
		u := registerBrowserUser(ctx, "recovery-guess")
		b := newBrowser()
		flow, code := askRecoveryCode(ctx, b, fmt.Sprint(identityschema.Value(u.Traits, address)))
		wrong := otherCode(code)
		for i := range recoveryCodeTries {
			settingsID, resp, err := submitRecoveryCode(ctx, b, flow.Id, wrong)
			Expect(settingsID).To(BeEmpty(), "wrong code %d recovered the account", i+1)
			expectCodeRefusal(fmt.Sprintf("wrong code %d", i+1), resp, err)
		}
		settingsID, resp, err := submitRecoveryCode(ctx, b, flow.Id, code)
		Expect(settingsID).To(BeEmpty(), "after %d wrong codes the right one still recovered the account: the code can be guessed (Kratos allows %d submits per flow)", recoveryCodeTries, recoveryCodeTries)
		expectCodeRefusal("the right code after five wrong ones", resp, err)

		By("a used code, submitted again")
		v := registerBrowserUser(ctx, "recovery-reuse")
		b = newBrowser()
		flow, code = askRecoveryCode(ctx, b, fmt.Sprint(identityschema.Value(v.Traits, address)))
		settingsID, resp, err = submitRecoveryCode(ctx, b, flow.Id, code)
		Expect(settingsID).NotTo(BeEmpty(), "the mailed code recovered nothing (status %d): %s", statusOf(resp), bodyOf(err))
		settingsID, resp, err = submitRecoveryCode(ctx, b, flow.Id, code)
		Expect(settingsID).To(BeEmpty(), "a used recovery code recovered the account again")
		expectCodeRefusal("the used code again", resp, err)
	})
	It("refuses 50 wrong passwords as wrong (400 4000006) or throttles them (429), never a 5xx; reports whether anything throttled", Label(req("SEC-AUTH-001"), labelAPI, labelLogin), func(ctx SpecContext) {
		p := newPerson("wrong-passwords")
		importWithCheapHash(ctx, p)
		app := newNative()
		throttled := 0
		for range wrongPasswordAttempts {
			login, err := app.Login(ctx, p.Identifier, fixtures.NewPassword())
			Expect(err).To(HaveOccurred(), "a wrong password logged in")
			switch statusOf(login.Response) {
			case http.StatusTooManyRequests:
				throttled++
			default:
				Expect(flowMessages(err)).To(ContainElement(kratosflow.MsgInvalidCredentials), bodyOf(err))
			}
		}
		_, err := app.Login(ctx, p.Identifier, p.Password)
		if throttled == 0 && err == nil {
			finding("SEC-AUTH-001", "2.2.1", fmt.Sprintf("%d wrong passwords in a row were all answered, and the right one then logged in: "+
				"nothing throttles password guessing (Kratos leaves it to the edge)", wrongPasswordAttempts))
		} else {
			AddReportEntry("SEC-AUTH-001", fmt.Sprintf("%d of %d wrong passwords throttled (429); the right one afterwards: %v", throttled, wrongPasswordAttempts, err))
		}
	})
}

// expectCodeRefusal fails unless a refused code was answered without a 5xx
// and for the code's sake, not by the CSRF check (which would refuse any code).
func expectCodeRefusal(what string, resp *http.Response, err error) {
	GinkgoHelper()
	Expect(statusOf(resp)).To(BeNumerically("<", 500), "%s: %s", what, bodyOf(err))
	Expect(kratosflow.ErrorID(err)).NotTo(Equal("security_csrf_violation"), "%s: refused by the CSRF check, so the code itself was not judged", what)
}

// otherCode is a code of code's length and digits that is not code.
func otherCode(code string) string {
	b := []byte(code)
	for i, c := range b {
		if c >= '0' && c <= '9' {
			b[i] = '0' + (c-'0'+1)%10
		}
	}
	return string(b)
}
