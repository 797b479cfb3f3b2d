package conformance

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"kratos-conformance/internal/wait"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ory "github.com/ory/kratos-client-go"

	"kratos-conformance/harness"
	"kratos-conformance/harness/client/kratosflow"
	"kratos-conformance/harness/client/mail"
	"kratos-conformance/load"
	"kratos-conformance/reports"
)

var _ = Describe("Faults", Label(labelFaults), Serial, func() {
	It("rides out a Postgres restart: readiness drops and returns without restarting Kratos, sessions survive, an in-flight flow completes", Label(req("FAULT-PG-001")), func(ctx SpecContext) {
		faults, rec := startFault(ctx, "Postgres restarted", harness.ComponentPostgres)
		u := registerNativeUser(ctx, "fault-pg")
		app := u.Agent
		token := u.Registration.Result.GetSessionToken()
		inFlight, err := newNative().InitLogin(ctx)
		Expect(err).NotTo(HaveOccurred())
		kratosPID := componentPID(harness.ComponentKratos)
		kratosReady := readinessProbe()

		By("stopping Postgres: Kratos' readiness must say so")
		stopped := time.Now()
		Expect(faults.Stop(ctx, harness.ComponentPostgres)).To(Succeed())
		Eventually(kratosReady).WithArguments(ctx).WithTimeout(suite.Intervals.FaultDetect).WithPolling(suite.Intervals.Poll).Should(BeFalse(),
			"/admin/health/ready still answers 200 with the database gone")
		rec.Figures["not_ready_after_stop_s"] = time.Since(stopped).Seconds()
		_, resp, _ := app.Whoami(ctx, token)
		Expect(statusOf(resp)).NotTo(Equal(http.StatusOK), "a session cannot be vouched for without its store")
		if statusOf(resp) == http.StatusUnauthorized {
			rec.Findings = append(rec.Findings, "FINDING: whoami answers 401 (not 5xx) for a valid session while Postgres is down: "+
				"UIs and gateways that treat 401 as 'logged out' sign users out during a database outage")
		} else {
			rec.Findings = append(rec.Findings, fmt.Sprintf("whoami during the outage answered %d", statusOf(resp)))
		}

		By("starting Postgres again: Kratos recovers on its own")
		restarted := time.Now()
		Expect(faults.Start(ctx, harness.ComponentPostgres)).To(Succeed())
		Eventually(kratosReady).WithArguments(ctx).WithTimeout(suite.Intervals.KratosReady).WithPolling(suite.Intervals.Poll).Should(BeTrue())
		rec.Figures["ready_after_postgres_start_s"] = time.Since(restarted).Seconds()
		expectWhoamiBack(ctx, app, token, "the session made before the outage")
		rec.Figures["whoami_ok_after_postgres_start_s"] = time.Since(restarted).Seconds()
		if kratosPID != 0 {
			Expect(componentPID(harness.ComponentKratos)).To(Equal(kratosPID), "Kratos serve was restarted")
			rec.Findings = append(rec.Findings, "Kratos serve kept running (same pid) and reconnected by itself")
		}

		By("the login flow made before the outage still completes")
		done, err := app.SubmitLogin(ctx, inFlight.Flow.Id, u.Identifier, u.Password, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(done.Result.GetSessionToken()).NotTo(BeEmpty())
		rec.Findings = append(rec.Findings, "the existing session and the in-flight login flow survived")
	})

	It("keeps registering while SMTP is down, abandons the mails after its retries (reported with numbers), and delivers again once SMTP is back", Label(req("FAULT-SMTP-001"), labelMail), func(ctx SpecContext) {
		faults, rec := startFault(ctx, "SMTP (Mailpit) down during registrations", harness.ComponentMailpit)
		requireMail()
		admin := newAdmin()
		By("stopping Mailpit and registering three users")
		Expect(faults.Stop(ctx, harness.ComponentMailpit)).To(Succeed())
		var lost []string
		firstQueued := time.Now()
		for i := range 3 {
			p := newPerson(fmt.Sprintf("fault-smtp-%d", i))
			_, err := newNative().Register(ctx, p.Traits, p.Password)
			Expect(err).NotTo(HaveOccurred(), "registration must not depend on SMTP")
			lost = append(lost, p.Email)
		}

		By("watching the courier give up on each mail")
		var abandoned []ory.Message
		Eventually(func(g Gomega) {
			abandoned = nil
			for _, email := range lost {
				msgs, _, err := admin.CourierAPI.ListCourierMessages(ctx).Recipient(email).Execute()
				g.Expect(err).NotTo(HaveOccurred(), bodyOf(err))
				g.Expect(msgs).To(HaveLen(1))
				g.Expect(msgs[0].Status).To(Equal(ory.COURIERMESSAGESTATUS_ABANDONED))
				abandoned = append(abandoned, msgs[0])
			}
		}).WithTimeout(suite.Intervals.CourierGiveUp).WithPolling(suite.Intervals.Poll).WithContext(ctx).Should(Succeed())
		giveUp := time.Since(firstQueued) // observed, to within one poll
		var sends int64
		for _, m := range abandoned {
			sends += m.SendCount
		}
		rec.Figures["mails_queued"] = float64(len(lost))
		rec.Figures["mails_abandoned"] = float64(len(abandoned))
		rec.Figures["send_attempts_per_mail"] = float64(sends) / float64(len(abandoned))
		rec.Figures["all_abandoned_after_s"] = giveUp.Seconds()
		rec.Findings = append(rec.Findings, fmt.Sprintf("FINDING: Kratos abandoned %d of %d verification mails after %.0f send attempts each, all within %.1f s of the first registration; "+
			"an SMTP outage longer than that loses them for good (courier.message_retries: %s)",
			len(abandoned), len(lost), rec.Figures["send_attempts_per_mail"], giveUp.Seconds(), configOr("courier.message_retries", "5 (default)")))

		By("starting Mailpit again: a new registration's mail arrives, the abandoned ones never do")
		restarted := time.Now()
		Expect(faults.Start(ctx, harness.ComponentMailpit)).To(Succeed())
		after := registerNativeUser(ctx, "fault-smtp-after")
		waitForMails(ctx, after.Email, mail.TypeVerificationCode, 1)
		rec.Figures["new_mail_delivered_after_smtp_start_s"] = time.Since(restarted).Seconds()
		for _, email := range lost {
			msgs, err := mailReader().Received(ctx, email)
			Expect(err).NotTo(HaveOccurred())
			Expect(msgs).To(BeEmpty(), "an abandoned mail was delivered after all")
		}
		rec.Figures["mails_delivered_late"] = 0
	})

	It("queues mail while the courier is down and delivers all of it once the courier is back", Label(req("FAULT-COURIER-001"), labelMail), func(ctx SpecContext) {
		faults, rec := startFault(ctx, "courier down, then up", harness.ComponentCourier)
		requireMail()
		admin := newAdmin()
		Expect(faults.Stop(ctx, harness.ComponentCourier)).To(Succeed())
		var queued []string
		for i := range 2 {
			p := newPerson(fmt.Sprintf("fault-courier-%d", i))
			_, err := newNative().Register(ctx, p.Traits, p.Password)
			Expect(err).NotTo(HaveOccurred())
			email := p.Email
			msgs, _, err := admin.CourierAPI.ListCourierMessages(ctx).Recipient(email).Execute()
			Expect(err).NotTo(HaveOccurred(), bodyOf(err))
			Expect(msgs).To(ConsistOf(HaveField("Status", ory.COURIERMESSAGESTATUS_QUEUED)), "with no courier the mail waits in the queue")
			queued = append(queued, email)
		}

		restarted := time.Now()
		Expect(faults.Start(ctx, harness.ComponentCourier)).To(Succeed())
		for _, email := range queued {
			msgs := waitForMails(ctx, email, mail.TypeVerificationCode, 1)
			Expect(msgs).To(HaveLen(1))
		}
		delivered := time.Since(restarted)
		By("no duplicate follows within the settle window (several courier polls)")
		Consistently(ctx, func() (map[string]int, error) {
			count := map[string]int{}
			for _, email := range queued {
				got, err := mailReader().Received(ctx, email)
				if err != nil {
					return nil, err
				}
				count[email] = len(got)
			}
			return count, nil
		}).WithTimeout(suite.Intervals.MailSettle).WithPolling(suite.Intervals.Poll*5).Should(HaveEach(1),
			"mails per address: a queued mail was sent more than once")
		rec.Figures["mails_queued"] = float64(len(queued))
		rec.Figures["all_delivered_after_courier_start_s"] = delivered.Seconds()
		rec.Findings = append(rec.Findings, fmt.Sprintf("all %d queued mails delivered once each after the courier returned", len(queued)))
	})

	It("keeps sessions across a restart of Kratos serve, and whoami works again within a measured time", Label(req("FAULT-KRATOS-001")), func(ctx SpecContext) {
		faults, rec := startFault(ctx, "Kratos serve restarted", harness.ComponentKratos)
		u := registerNativeUser(ctx, "fault-kratos")
		app := u.Agent
		token := u.Registration.Result.GetSessionToken()
		browser := registerBrowserUser(ctx, "fault-kratos-cookie")

		Expect(faults.Stop(ctx, harness.ComponentKratos)).To(Succeed())
		_, resp, err := app.Whoami(ctx, token)
		Expect(err).To(HaveOccurred(), "whoami answered %d with Kratos stopped", statusOf(resp))

		restarted := time.Now()
		Expect(faults.Start(ctx, harness.ComponentKratos)).To(Succeed())
		expectWhoamiBack(ctx, app, token, "the session made before the restart")
		rec.Figures["whoami_ok_after_start_s"] = time.Since(restarted).Seconds()
		expectCookieSession(ctx, browser)
		rec.Findings = append(rec.Findings, "token and cookie sessions made before the restart still pass whoami")
	})

	It("shows a Postgres outage during whoami load as an error spike in the load timeline, and no errors once Postgres is back", Label(req("FAULT-LOAD-001")), func(ctx SpecContext) {
		faults, rec := startFault(ctx, "Postgres stopped under whoami load", harness.ComponentPostgres)
		pop := &load.Population{}
		for range 5 {
			reg := registerNativeUser(ctx, "fault-load").Registration
			pop.Tokens = append(pop.Tokens, load.Session{IdentityID: reg.Result.Identity.Id, SessionID: reg.Result.Session.Id, Token: reg.Result.GetSessionToken()})
		}
		client, err := suite.Endpoints.HTTPClient(nil, suite.Intervals.HTTPRequest)
		Expect(err).NotTo(HaveOccurred())
		// The calm before and the outage are each fault-hold long; recovery is
		// Kratos saying it is ready again, and the attack goes on twice
		// fault-hold after that: the window in which nothing may fail.
		kratosReady := readinessProbe()
		fr, err := load.RunFault(ctx, load.FaultPlan{
			Name: "Postgres stopped", Scenario: load.WhoamiToken(suite.Endpoints.KratosPublic, pop, suite.Config.SLOWhoami), Rate: faultLoadRate,
			At: suite.Intervals.FaultHold, Hold: suite.Intervals.FaultHold, After: 2 * suite.Intervals.FaultHold, Max: 4*suite.Intervals.FaultHold + suite.Intervals.KratosReady,
			Inject: func(ctx context.Context) error { return faults.Stop(ctx, harness.ComponentPostgres) },
			Recover: func(ctx context.Context) error {
				if err := faults.Start(ctx, harness.ComponentPostgres); err != nil {
					return err
				}
				return wait.For(ctx, wait.Input{Name: "Kratos ready after the outage", Timeout: suite.Intervals.KratosReady, Interval: suite.Intervals.Poll,
					Check: func(ctx context.Context) error {
						if !kratosReady(ctx) {
							return fmt.Errorf("/admin/health/ready not 200")
						}
						return nil
					}})
			},
			// Enough workers for every request to hang its whole timeout:
			// a deployment that keeps a dead database's pod in its Service
			// (Ory's chart: readiness on /alive) holds requests, and a
			// generator out of workers would stop sending instead.
			Limits: load.Limits{MaxWorkers: uint64(faultLoadRate*suite.Intervals.HTTPRequest.Seconds()) + 16, Timeout: suite.Intervals.HTTPRequest, Client: client},
		}, suite.Run.Dir)
		Expect(err).NotTo(HaveOccurred())
		Expect(fr.Write(suite.Run.Dir)).To(Succeed())
		rec.Figures["requests"], rec.Figures["errors"] = float64(fr.Requests), float64(fr.Errors)
		rec.Figures["injected_at_s"], rec.Figures["recovered_at_s"] = fr.InjectedAt, fr.RecoveredAt
		rec.Figures["first_error_s"], rec.Figures["last_error_s"] = fr.FirstError, fr.LastError
		rec.Figures["errors_after_recovery"] = float64(fr.ErrorsAfterRecovery)
		rec.Figures["requests_after_recovery"], rec.Figures["seconds_after_recovery"] = float64(fr.RequestsAfterRecovery), fr.SecondsAfterRecovery
		rec.Findings = append(rec.Findings, fmt.Sprintf("timeline in load-fault.html; errors by kind: %v", fr.ErrorKinds))

		Expect(fr.Errors).To(BeNumerically(">", 0), "the outage does not show in the load timeline")
		Expect(fr.FirstError).To(BeNumerically(">=", fr.InjectedAt-1), "errors before the fault: the stack was not healthy")
		Expect(fr.SecondsAfterRecovery).To(BeNumerically(">=", 0.9*(2*suite.Intervals.FaultHold).Seconds()), "the attack must go on after recovery to show it")
		Expect(fr.RequestsAfterRecovery).To(BeNumerically(">=", 0.9*faultLoadRate*(2*suite.Intervals.FaultHold).Seconds()))
		Expect(fr.ErrorsAfterRecovery).To(BeZero(), "whoami kept failing after Kratos said it was ready again")
		for i := 1; i < len(fr.Timeline); i++ {
			Expect(fr.Timeline[i].Second-fr.Timeline[i-1].Second).To(Equal(1), "the generator sent nothing between seconds %d and %d: the timeline does not show them", fr.Timeline[i-1].Second, fr.Timeline[i].Second)
		}
		slowest := slices.MaxFunc(fr.Timeline, func(a, b load.Bucket) int { return cmp.Compare(a.P99, b.P99) })
		rec.Figures["slowest_second_p99_ms"] = slowest.P99
		if slowest.P99 > float64(time.Second.Milliseconds()) {
			rec.Findings = append(rec.Findings, fmt.Sprintf("FINDING: requests were held, not refused, during the outage: p99 %.0f ms in second %d "+
				"(a serve pod that stays in its Service without its database makes clients wait instead of failing over)", slowest.P99, slowest.Second))
		}
		last := fr.Timeline[len(fr.Timeline)-1]
		Expect(last.Errors).To(BeZero())
		Expect(last.Requests).To(BeNumerically(">", 0))
	})
})

// faultLoadRate is well inside this machine's whoami capacity, so every error
// in the timeline is the fault's.
const faultLoadRate = 50

// startFault skips unless faults were asked for and the provider can inject
// them, opens the scenario's record, and makes sure whatever the spec stopped
// runs again afterwards, also when the spec failed half-way.
func startFault(ctx context.Context, name string, component harness.Component) (harness.Faults, *reports.Fault) {
	GinkgoHelper()
	if !suite.Config.Faults {
		Skip("N/A: an opt-in scenario, not asked for (-kc.faults; make faults runs it)")
	}
	faults := stackCan[harness.Faults]("cannot stop and start components")
	rec := recordFault(reports.Fault{Name: name, Component: string(component), Figures: map[string]float64{}})
	inj := &injector{Faults: faults, down: map[harness.Component]bool{}}
	DeferCleanup(func(ctx SpecContext) {
		for c := range inj.down {
			Expect(faults.Start(ctx, c)).To(Succeed(), "restoring %s after the scenario", c)
		}
	}, NodeTimeout(suite.Intervals.StackUp))
	return inj, rec
}

// injector remembers which components it stopped and has not started again.
type injector struct {
	harness.Faults
	down map[harness.Component]bool
}

func (i *injector) Stop(ctx context.Context, component harness.Component) error {
	err := i.Faults.Stop(ctx, component)
	i.down[component] = true // even on error: it may be half stopped
	return err
}

func (i *injector) Start(ctx context.Context, component harness.Component) error {
	err := i.Faults.Start(ctx, component)
	if err == nil {
		delete(i.down, component)
	}
	return err
}

// readinessProbe asks /admin/health/ready as a Kubernetes readiness probe
// would, and /health/ready through the public URL as clients reach it: on
// Kubernetes that answers only once the kubelet's probe let the pod back into
// its Service. One client for all its polls.
func readinessProbe() func(context.Context) bool {
	GinkgoHelper()
	hc, err := suite.Endpoints.HTTPClient(nil, suite.Intervals.HTTPRequest)
	Expect(err).NotTo(HaveOccurred())
	admin := wait.HTTPStatus(hc, suite.Endpoints.KratosAdmin.JoinPath("admin/health/ready").String(), http.StatusOK)
	public := wait.HTTPStatus(hc, suite.Endpoints.KratosPublic.JoinPath("health/ready").String(), http.StatusOK)
	return func(ctx context.Context) bool { return admin(ctx) == nil && public(ctx) == nil }
}

// componentPID is a local component's process group, 0 when the provider has none.
func componentPID(component harness.Component) int {
	if pg, ok := suite.Stack.(harness.ProcessGroups); ok {
		return pg.ProcessGroups()[component]
	}
	return 0
}

// expectWhoamiBack waits, up to kratos-ready, until the token session made
// before a fault passes whoami again.
func expectWhoamiBack(ctx context.Context, agent *kratosflow.Agent, token string, what string) {
	GinkgoHelper()
	Eventually(func() int { _, resp, _ := agent.Whoami(ctx, token); return statusOf(resp) }).
		WithTimeout(suite.Intervals.KratosReady).WithPolling(suite.Intervals.Poll).WithContext(ctx).Should(Equal(http.StatusOK), what)
}

// expectCookieSession checks a browser user's cookie session still passes whoami as that user.
func expectCookieSession(ctx context.Context, browser user) {
	GinkgoHelper()
	who, _, err := browser.Agent.Whoami(ctx, "")
	Expect(err).NotTo(HaveOccurred(), "the cookie session must survive: %s", bodyOf(err))
	Expect(who.Identity.Id).To(Equal(browser.Registration.Result.Identity.Id))
}
