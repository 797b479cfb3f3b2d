package conformance

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"kratos-conformance/harness"
	"kratos-conformance/harness/client/kratosflow"
	"kratos-conformance/load"
	"kratos-conformance/reports"
)

// serveReplicas is how many serve replicas the suite scales to where it may:
// enough that a session made on one is checked on two others.
const serveReplicas = 3

// rolloutReplicas is how many serve replicas roll in REPLICA-002: the
// RollingUpdate default (25% surge, 25% unavailable) rolls 2 replicas one
// surge pod at a time, like 3; a 2-CPU kind node has no room for the fourth
// pod of 3 (the guide's pod asks 350m), so a rollout of 3 would wait forever.
const rolloutReplicas = 2

var _ = Describe("Serve replicas (Kubernetes: replicaCount, HPA, RollingUpdate)", Label(labelFaults), Serial, Ordered, func() {
	BeforeAll(func(ctx SpecContext) {
		scaler, ok := suite.Stack.(harness.ServeScaler)
		if !ok || !suite.Config.Faults {
			return // the deployment's own replicas, read-only
		}
		Expect(scaler.ScaleServe(ctx, serveReplicas)).To(Succeed())
		// The suite's deployments run one serve replica.
		DeferCleanup(func(ctx SpecContext) { Expect(scaler.ScaleServe(ctx, 1)).To(Succeed()) }, NodeTimeout(suite.Intervals.StackUp))
	}, NodeTimeout(suite.Intervals.StackUp))

	It("accepts a token and a cookie session made on any serve replica on every replica, as the same identity, and ends a session logged out on one on all", Label(req("REPLICA-001")), func(ctx SpecContext) {
		replicas := replicaEndpoints(ctx)
		AddReportEntry("serve replicas", len(replicas))
		type session struct {
			token, identity string
			browser         *kratosflow.Agent
		}
		var made []session
		for i, ep := range replicas {
			native, err := kratosflow.NewNative(ep, suite.Intervals.HTTPRequest, kratosflow.WithRecorder(suite.Exchanges))
			Expect(err).NotTo(HaveOccurred())
			u := register(ctx, fmt.Sprintf("replica-%d", i), native)
			made = append(made, session{token: u.Registration.Result.GetSessionToken(), identity: u.Registration.Result.Identity.Id})
			browser, err := kratosflow.NewBrowser(ep, suite.Intervals.HTTPRequest, kratosflow.WithRecorder(suite.Exchanges))
			Expect(err).NotTo(HaveOccurred())
			b := register(ctx, fmt.Sprintf("replica-%d-browser", i), browser)
			made = append(made, session{identity: b.Registration.Result.Identity.Id, browser: browser})
		}
		for i, s := range made {
			for j, ep := range replicas {
				var who string
				if s.browser != nil {
					b, err := kratosflow.NewBrowser(ep, suite.Intervals.HTTPRequest, kratosflow.WithRecorder(suite.Exchanges))
					Expect(err).NotTo(HaveOccurred())
					b.Jar.SetCookies(ep.KratosPublic, s.browser.Jar.Cookies(ep.KratosPublic))
					got, _, err := b.Whoami(ctx, "")
					Expect(err).NotTo(HaveOccurred(), "the cookie session made on replica %d is refused by replica %d: %s", i/2, j, bodyOf(err))
					who = got.Identity.Id
				} else {
					a, err := kratosflow.NewNative(ep, suite.Intervals.HTTPRequest, kratosflow.WithRecorder(suite.Exchanges))
					Expect(err).NotTo(HaveOccurred())
					got, _, err := a.Whoami(ctx, s.token)
					Expect(err).NotTo(HaveOccurred(), "the token session made on replica %d is refused by replica %d: %s", i/2, j, bodyOf(err))
					who = got.Identity.Id
				}
				Expect(who).To(Equal(s.identity), "replica %d answers for another identity", j)
			}
		}

		By("logging the first token session out on the last replica: every replica refuses the token afterwards")
		last, err := kratosflow.NewNative(replicas[len(replicas)-1], suite.Intervals.HTTPRequest, kratosflow.WithRecorder(suite.Exchanges))
		Expect(err).NotTo(HaveOccurred())
		resp, err := last.Logout(ctx, made[0].token)
		Expect(err).NotTo(HaveOccurred())
		Expect(statusOf(resp)).To(Equal(http.StatusNoContent))
		for j, ep := range replicas {
			a, err := kratosflow.NewNative(ep, suite.Intervals.HTTPRequest, kratosflow.WithRecorder(suite.Exchanges))
			Expect(err).NotTo(HaveOccurred())
			_, resp, _ := a.Whoami(ctx, made[0].token)
			Expect(statusOf(resp)).To(Equal(http.StatusUnauthorized), "replica %d still accepts a token logged out on replica %d", j, len(replicas)-1)
		}
	})

	// Cookie sessions: whoami must open them with the cookie secret, so old and
	// new pods that disagree on secrets refuse them, which tokens would not show.
	It("refuses no valid session during a rolling restart of serve under whoami load, and drops no more than its budget", Label(req("REPLICA-002")), func(ctx SpecContext) {
		if !suite.Config.Faults {
			Skip("N/A: an opt-in scenario, not asked for (-kc.faults; make faults-kind runs it)")
		}
		scaler := stackCan[harness.ServeScaler]("cannot roll serve (Kubernetes providers that deploy can)")
		pop := &load.Population{}
		for range 5 {
			u := registerBrowserUser(ctx, "rollout")
			pop.Cookies = append(pop.Cookies, load.Session{IdentityID: u.Registration.Result.Identity.Id, SessionID: u.Registration.Result.Session.Id, Cookie: sessionCookieName() + "=" + sessionCookie(u.Agent)})
		}
		Expect(scaler.ScaleServe(ctx, rolloutReplicas)).To(Succeed())
		rec := recordFault(reports.Fault{Name: "rolling restart of serve under whoami load", Component: string(harness.ComponentKratos), Figures: map[string]float64{"replicas": rolloutReplicas}})
		client, err := suite.Endpoints.HTTPClient(nil, suite.Intervals.HTTPRequest)
		Expect(err).NotTo(HaveOccurred())
		iv := suite.Intervals
		fr, err := load.RunFault(ctx, load.FaultPlan{
			Name: "rolling restart of serve", Report: "load-rollout", Rate: faultLoadRate,
			Scenario: load.WhoamiCookie(suite.Endpoints.KratosPublic, pop, suite.Config.SLOWhoami),
			// The restart is the fault: it lasts until the rollout is done.
			At: iv.FaultHold, After: 2 * iv.FaultHold, Max: 4*iv.FaultHold + iv.Rollout,
			Inject:  scaler.RestartServe,
			Recover: func(context.Context) error { return nil },
			Limits:  load.Limits{MaxWorkers: uint64(faultLoadRate*iv.HTTPRequest.Seconds()) + 16, Timeout: iv.HTTPRequest, Client: client},
		}, suite.Run.Dir)
		if fr != nil { // the timeline is the evidence, also of a rollout that did not finish
			Expect(fr.Write(suite.Run.Dir)).To(Succeed())
		}
		Expect(err).NotTo(HaveOccurred())
		answered := map[string]uint64{} // answers other than the session: a refusal, a 5xx, another identity
		var dropped uint64
		for kind, n := range fr.ErrorKinds {
			if strings.HasPrefix(kind, "transport: ") {
				dropped += n
			} else {
				answered[kind] = n
			}
		}
		budget := suite.Config.RolloutDropBudget
		rec.Figures["requests"], rec.Figures["dropped_in_transport"], rec.Figures["drop_budget"] = float64(fr.Requests), float64(dropped), budget
		rec.Figures["restart_began_s"], rec.Figures["rollout_done_s"] = fr.InjectedAt, fr.RecoveredAt
		rec.Figures["first_error_s"], rec.Figures["last_error_s"] = fr.FirstError, fr.LastError
		rec.Figures["errors_after_rollout"] = float64(fr.ErrorsAfterRecovery)
		window := time.Duration((fr.RecoveredAt - fr.InjectedAt) * float64(time.Second)).Round(100 * time.Millisecond)
		rec.Findings = append(rec.Findings, fmt.Sprintf("rollout of %d replicas took %s; per-second timeline in load-rollout.html; errors by kind: %v", rolloutReplicas, window, fr.ErrorKinds))
		if dropped > 0 {
			rec.Findings = append(rec.Findings, fmt.Sprintf("FINDING: %d of %d whoami calls were dropped in transport while old pods stopped "+
				"(a pod leaves its Service's endpoints while it already closes connections; a preStop delay longer than the endpoints' propagation, "+
				"within terminationGracePeriodSeconds, lets it drain)", dropped, fr.Requests))
		}

		for i := 1; i < len(fr.Timeline); i++ {
			Expect(fr.Timeline[i].Second-fr.Timeline[i-1].Second).To(Equal(1), "the generator sent nothing between seconds %d and %d", fr.Timeline[i-1].Second, fr.Timeline[i].Second)
		}
		Expect(float64(fr.Requests)).To(BeNumerically(">=", 0.9*faultLoadRate*(fr.RecoveredAt+2*iv.FaultHold.Seconds())), "the generator did not keep its rate")
		Expect(answered).To(BeEmpty(), "during the rolling restart (%s) serve answered valid cookie sessions with something else than the session: per second in load-rollout.html", window)
		Expect(float64(dropped)).To(BeNumerically("<=", budget*float64(fr.Requests)),
			"the rolling restart (%s) dropped %d of %d whoami calls in transport, over the budget of %.1f%% (-kc.rollout-drop-budget): clients saw the outage (a Recreate strategy, no readiness gating, or pods that close before leaving the Service); per second in load-rollout.html",
			window, dropped, fr.Requests, budget*100)
		app := newNative()
		for _, s := range pop.Cookies {
			who, _, err := app.WhoamiCookie(ctx, s.Cookie)
			Expect(err).NotTo(HaveOccurred(), "a cookie session made before the rolling restart: %s", bodyOf(err))
			Expect(who.Identity.Id).To(Equal(s.IdentityID))
		}
	})
})

// replicaEndpoints reaches each serve replica on its own, or skips the spec
// when the deployment runs fewer than two or the provider cannot tell them apart.
func replicaEndpoints(ctx context.Context) []harness.Endpoints {
	GinkgoHelper()
	r := stackCan[harness.Replicas]("cannot reach serve replicas one by one (Kubernetes providers can)")
	eps, closeAll, err := r.ReplicaEndpoints(ctx)
	DeferCleanup(closeAll)
	Expect(err).NotTo(HaveOccurred())
	if len(eps) < 2 {
		Skip(fmt.Sprintf("N/A: %d serve replica(s) reachable one by one; -kc.faults lets a provider that deploys scale to %d", len(eps), serveReplicas))
	}
	return eps
}
