package conformance

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ory "github.com/ory/kratos-client-go"

	"kratos-conformance/harness"
	"kratos-conformance/harness/client/mail"
	"kratos-conformance/reports"
)

// The guide runs `courier watch` beside serve. Both must work on the same
// Kratos network (the oldest row of `networks`), or the courier never sees the
// mail serve queues. Evidence is live: a queued message leaves the queue, and,
// with a Postgres DSN, the networks table has one row.
var _ = Describe("The courier", Label(labelChecklist, labelMail), func() {
	It("runs beside serve: a mail serve queues is picked up within the mail wait", Label(req("CL-COURIER-001")), func(ctx SpecContext) {
		expectQueuedMailPickedUp(ctx)
	})

	It("works on serve's network: Kratos' networks table has exactly one row (without a Postgres DSN: queued mail is picked up)", Label(req("CL-COURIER-002")), func(ctx SpecContext) {
		if suite.Endpoints.PostgresDSN == "" {
			By("no Postgres DSN (target file: postgres_dsn): judging by a queued mail being picked up")
			expectQueuedMailPickedUp(ctx)
			return
		}
		networks, err := harness.KratosNetworks(ctx, suite.Endpoints.PostgresDSN)
		Expect(err).NotTo(HaveOccurred())
		Expect(networks).To(HaveLen(1), "Kratos' networks table has %d rows (%s): serve and the courier may each work on their own, "+
			"and mail queued on one is never sent by the other (they were started at the same instant on a fresh database?)",
			len(networks), strings.Join(networks, ", "))
	})
})

// expectQueuedMailPickedUp registers a user and waits until the courier takes
// its verification mail out of `queued`; on timeout the courier's record says why.
func expectQueuedMailPickedUp(ctx context.Context) {
	GinkgoHelper()
	requireMail()
	u := registerNativeUser(ctx, "courier-alive")
	courier := mail.NewCourier(newAdmin())
	Eventually(func(g Gomega) {
		msgs, err := courier.Messages(ctx, u.Email)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(msgs).NotTo(BeEmpty())
		g.Expect(msgs[0].Status != mail.StatusQueued || msgs[0].SendCount > 0).To(BeTrue(), "still queued, never tried")
	}).WithTimeout(suite.Intervals.MailArrival).WithPolling(suite.Intervals.Poll).WithContext(ctx).Should(Succeed(),
		func() string { return courier.Diagnose(context.WithoutCancel(ctx), u.Email, courier) })
}

var _ = Describe("Serve and courier start order", Label(labelRace), Serial, func() {
	It("loses no mail when the courier starts after serve is ready; starting both at the same instant, as the guide's pod does, is measured", Label(req("RACE-001")), func(ctx SpecContext) {
		if suite.Config.Race <= 0 {
			Skip("N/A: an opt-in scenario, not asked for (-kc.race=N; make race runs it)")
		}
		faults, ok := suite.Stack.(harness.Faults)
		if !ok || suite.Endpoints.PostgresDSN == "" {
			Skip("N/A: the " + suite.Config.Provider + " provider cannot restart serve and the courier on a database the suite may wipe")
		}
		requireMail()
		rec := recordFault(reports.Fault{Name: "serve and courier started on a fresh database", Component: string(harness.ComponentCourier), Figures: map[string]float64{}})
		DeferCleanup(func(ctx SpecContext) {
			By("leaving serve and the courier running, in the safe order")
			for _, c := range []harness.Component{harness.ComponentKratos, harness.ComponentCourier} {
				if err := faults.Start(ctx, c); err != nil && !strings.Contains(err.Error(), "is running") {
					Fail("restoring " + string(c) + ": " + err.Error())
				}
			}
		}, NodeTimeout(suite.Intervals.StackUp))

		together := raceStarts(ctx, faults, suite.Config.Race, true)
		afterServe := raceStarts(ctx, faults, suite.Config.Race, false)
		rec.Figures["starts_each_order"] = float64(suite.Config.Race)
		rec.Figures["together_split_networks"] = float64(together.split)
		rec.Figures["together_mails_lost"] = float64(together.lost)
		rec.Figures["after_serve_split_networks"] = float64(afterServe.split)
		rec.Figures["after_serve_mails_lost"] = float64(afterServe.lost)
		finding := fmt.Sprintf("serve and the courier started at the same instant on a fresh database (the guide's pod): %d of %d starts split the network, %d lost their mail",
			together.split, suite.Config.Race, together.lost)
		if together.lost > 0 {
			finding = "FINDING: " + finding + "; remedy: start the courier only once serve is ready (a courier Deployment or StatefulSet, " +
				"or a startup probe/wait on serve's /health/ready before `courier watch`), so serve's network row exists when the courier looks"
		} else {
			finding += " (the race is real but narrow: each process reads `networks` and inserts a row when it is empty; none of these starts hit the window)"
		}
		rec.Findings = append(rec.Findings, finding,
			fmt.Sprintf("courier started after serve was ready: %d of %d starts lost mail", afterServe.lost, suite.Config.Race))

		Expect(together.unexplained).To(BeEmpty(), "mail lost without a second network: the race does not explain it")
		Expect(afterServe.lost).To(BeZero(), "mail was lost although the courier started after serve: %v", afterServe.unexplained)
	})
})

// raceOutcome counts what N starts did.
type raceOutcome struct {
	split, lost int
	unexplained []string // losses with one network, or splits that delivered
}

// raceStarts wipes the data, starts serve and the courier (together, or the
// courier once serve is ready), registers a user and waits for its mail, n times.
func raceStarts(ctx context.Context, faults harness.Faults, n int, together bool) raceOutcome {
	GinkgoHelper()
	var out raceOutcome
	order := "the courier after serve"
	if together {
		order = "serve and the courier at the same instant"
	}
	for i := range n {
		By(fmt.Sprintf("start %d of %d: %s on a fresh database", i+1, n, order))
		for _, c := range []harness.Component{harness.ComponentCourier, harness.ComponentKratos} {
			Expect(faults.Stop(ctx, c)).To(Succeed())
		}
		Expect(harness.WipeKratosNetworks(ctx, suite.Endpoints.PostgresDSN)).To(Succeed())
		if together {
			Expect(harness.StartTogether(ctx, faults, harness.ComponentKratos, harness.ComponentCourier)).To(Succeed())
		} else {
			Expect(faults.Start(ctx, harness.ComponentKratos)).To(Succeed())
			Expect(faults.Start(ctx, harness.ComponentCourier)).To(Succeed())
		}
		networks, err := harness.KratosNetworks(ctx, suite.Endpoints.PostgresDSN)
		Expect(err).NotTo(HaveOccurred())
		u := registerNativeUser(ctx, fmt.Sprintf("race-%d", i))
		start := time.Now()
		_, err = mailReader().Wait(ctx, mail.Want{To: u.Email, Type: mail.TypeVerificationCode})
		lost := err != nil
		AddReportEntry(fmt.Sprintf("%s, start %d", order, i+1), fmt.Sprintf("networks %d, mail lost %v, waited %s", len(networks), lost, time.Since(start).Round(time.Millisecond)))
		if len(networks) > 1 {
			out.split++
		}
		if lost {
			out.lost++
		}
		if lost != (len(networks) > 1) {
			out.unexplained = append(out.unexplained, fmt.Sprintf("start %d: %d network(s), mail lost %v (%v)", i+1, len(networks), lost, err))
		}
	}
	return out
}

// queueDrain is how long one courier needs at least to take n queued mails:
// it pulls courier.worker.pull_count of them, then waits pull_wait (Kratos'
// defaults: 10 and 1s), so a burst of 200 takes 20 pulls; read from the
// deployment's config where it shows it.
func queueDrain(n int) time.Duration {
	count, wait := 10, time.Second
	if c := liveConfig(); c != nil {
		if v, ok := c.Value("courier.worker.pull_count"); ok {
			if k, err := strconv.Atoi(v); err == nil && k > 0 {
				count = k
			}
		}
		if v, ok := c.Value("courier.worker.pull_wait"); ok {
			if d, err := time.ParseDuration(v); err == nil && d > 0 {
				wait = d
			}
		}
	}
	return time.Duration((n+count-1)/count) * wait
}

var _ = Describe("Two couriers on one mail queue", Label(labelRace), Serial, func() {
	It("delivers a burst of mail with two couriers running, each mail at least once; mail sent twice is counted", Label(req("RACE-002"), labelMail), func(ctx SpecContext) {
		if suite.Config.Race <= 0 {
			Skip("N/A: an opt-in scenario, not asked for (-kc.race=N; make race runs it)")
		}
		scaler := stackCan[harness.CourierScaler]("cannot run a second courier")
		if suite.Endpoints.MailpitAPI == nil {
			Skip("N/A: a mail sent twice shows only in the mailbox, and this target has no Mailpit")
		}
		requireMail()
		rec := recordFault(reports.Fault{Name: "two couriers, one queue, a burst of mail", Component: string(harness.ComponentCourier), Figures: map[string]float64{}})
		DeferCleanup(func(ctx SpecContext) {
			Expect(scaler.ScaleCouriers(ctx, 1)).To(Succeed(), "back to one courier")
		}, NodeTimeout(suite.Intervals.StackUp))
		By(fmt.Sprintf("one courier: a burst of %d verification mails, drained", courierBurst))
		drainBurst(ctx, rec, "one_courier", courierBurst)
		Expect(scaler.ScaleCouriers(ctx, 2)).To(Succeed())
		By(fmt.Sprintf("two couriers: another burst of %d, drained", courierBurst))
		addresses := drainBurst(ctx, rec, "two_couriers", courierBurst)
		twice, extra := 0, 0
		for _, email := range addresses {
			got, err := mailReader().Received(ctx, email)
			Expect(err).NotTo(HaveOccurred())
			if len(got) > 1 {
				twice++
				extra += len(got) - 1
			}
		}
		rec.Figures["couriers"], rec.Figures["mails"] = 2, float64(len(addresses))
		rec.Figures["mails_sent_more_than_once"], rec.Figures["extra_copies"] = float64(twice), float64(extra)
		finding := fmt.Sprintf("two couriers on one queue: %d of %d mails of a burst arrived more than once (%d extra copies)", twice, len(addresses), extra)
		if twice > 0 {
			finding = "FINDING: " + finding + "; Kratos v1.3.1 claims queued messages without a row lock: run exactly one courier"
		}
		rec.Findings = append(rec.Findings, finding, fmt.Sprintf("courier capacity: a burst of %d queued mails drained in %.1f s by one courier (%.1f mails/s), in %.1f s by two (%.1f mails/s)",
			courierBurst, rec.Figures["one_courier_drain_s"], rec.Figures["one_courier_mails_per_s"], rec.Figures["two_couriers_drain_s"], rec.Figures["two_couriers_mails_per_s"]))
	})
})

// drainBurst queues n verification mails at once (identities without a
// password: no bcrypt in the burst's way), waits until every one left the
// queue and arrived, and records the courier's capacity under label: the
// drain time from the last submit to the last arrival and the mails per
// second between the first arrival and the last (Mailpit's receipt times).
func drainBurst(ctx context.Context, rec *reports.Fault, label string, n int) []string {
	GinkgoHelper()
	admin := newAdmin()
	var addresses []string
	for i := range n {
		p := newPerson(fmt.Sprintf("burst-%s-%d", label, i))
		id, _, err := admin.IdentityAPI.CreateIdentity(ctx).CreateIdentityBody(ory.CreateIdentityBody{SchemaId: suite.Schema.ID, Traits: p.Traits}).Execute()
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		DeferCleanup(func(ctx SpecContext) { _, _ = admin.IdentityAPI.DeleteIdentity(ctx, id.Id).Execute() })
		addresses = append(addresses, p.Email)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(addresses))
	for i, email := range addresses {
		wg.Go(func() {
			app := newNative()
			_, _, err := app.StartVerification(ctx, email)
			errs[i] = err
		})
	}
	wg.Wait()
	queued := time.Now()
	Expect(errs).To(HaveEach(BeNil()))
	courier := mail.NewCourier(admin)
	var first, last time.Time
	var trips []mailTrip
	Eventually(func(g Gomega) {
		first, last, trips = time.Time{}, time.Time{}, nil
		for _, email := range addresses {
			msgs, err := courier.Messages(ctx, email)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(msgs).To(HaveEach(HaveField("Status", Not(BeElementOf(mail.StatusQueued, mail.StatusProcessing)))), email)
			got, err := mailReader().Received(ctx, email)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).NotTo(BeEmpty(), "no mail for %s", email)
			at := cmp.Or(got[0].ReceivedAt, got[0].At)
			trips = append(trips, mailTrip{queued: msgs[0].At, arrived: at})
			if first.IsZero() || at.Before(first) {
				first = at
			}
			if at.After(last) {
				last = at
			}
		}
	}).WithTimeout(suite.Intervals.MailArrival + queueDrain(n)).WithPolling(suite.Intervals.Poll).WithContext(ctx).Should(Succeed())
	rec.Figures[label+"_drain_s"] = max(last.Sub(queued).Seconds(), 0)
	if spread := last.Sub(first).Seconds(); spread > 0 {
		rec.Figures[label+"_mails_per_s"] = float64(n-1) / spread
	}
	rec.Figures[label+"_overtaken"] = float64(overtaken(trips))
	return addresses
}

// mailTrip is one mail's queue time (the courier's record) and arrival.
type mailTrip struct{ queued, arrived time.Time }

// overtaken counts the mails that arrived before one queued ahead of them:
// Kratos promises no order, so this is a figure of how far a burst is
// reordered (by two couriers, or within one courier's batch).
func overtaken(trips []mailTrip) int {
	slices.SortFunc(trips, func(a, b mailTrip) int { return a.queued.Compare(b.queued) })
	var n int
	var latest time.Time
	for _, t := range trips {
		if t.arrived.Before(latest) {
			n++
		}
		latest = maxTime(latest, t.arrived)
	}
	return n
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// courierBurst is how many mails RACE-002 queues at once.
const courierBurst = 200
