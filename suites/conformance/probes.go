package conformance

import (
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"kratos-conformance/harness"
	"kratos-conformance/reports"
)

var _ = Describe("Supervision of serve (the kubelet's restart policy and probes)", Label(labelFaults), Serial, func() {
	It("restarts serve in its pod when it dies, and the sessions made before pass whoami again", Label(req("PROBE-001")), func(ctx SpecContext) {
		sup, rec := startSupervised("serve killed inside its pod")
		native := registerNativeUser(ctx, "probe-kill")
		token := native.Registration.Result.GetSessionToken()
		browser := registerBrowserUser(ctx, "probe-kill-cookie")
		before, err := sup.Restarts(ctx, harness.ComponentKratos)
		Expect(err).NotTo(HaveOccurred())

		By("SIGKILL to serve's process, where it runs")
		killed := time.Now()
		Expect(sup.Signal(ctx, harness.ComponentKratos, syscall.SIGKILL)).To(Succeed())
		Eventually(sup.Restarts).WithArguments(ctx, harness.ComponentKratos).WithTimeout(suite.Intervals.KratosReady).WithPolling(suite.Intervals.Poll).
			Should(BeNumerically(">", before), "serve died and its pod did not restart it")
		rec.Figures["restarted_after_s"] = time.Since(killed).Seconds()
		expectWhoamiBack(ctx, native.Agent, token, "the token session made before the kill")
		rec.Figures["whoami_ok_after_kill_s"] = time.Since(killed).Seconds()
		expectCookieSession(ctx, browser)
		rec.Findings = append(rec.Findings, "serve restarted in place by its pod; token and cookie sessions made before still pass whoami")
	})

	It("takes a hung serve out of its Service by readiness and restarts it by liveness within the stated bound (hung-restart, 2 minutes); sessions survive", Label(req("PROBE-002")), func(ctx SpecContext) {
		sup, rec := startSupervised("serve hung (SIGSTOP) inside its pod")
		probe, ok, err := sup.Liveness(ctx, harness.ComponentKratos)
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeTrue(), "serve has no liveness probe: a hung serve is never restarted")
		native := registerNativeUser(ctx, "probe-hang")
		token := native.Registration.Result.GetSessionToken()
		before, err := sup.Restarts(ctx, harness.ComponentKratos)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			_ = sup.Signal(ctx, harness.ComponentKratos, syscall.SIGCONT) // a hung serve the kubelet never killed must not outlive the spec
		}, NodeTimeout(suite.Intervals.HTTPRequest))

		By("SIGSTOP to serve: it holds its sockets and answers nothing")
		hung := time.Now()
		Expect(sup.Signal(ctx, harness.ComponentKratos, syscall.SIGSTOP)).To(Succeed())
		Eventually(sup.Ready).WithArguments(ctx, harness.ComponentKratos).WithTimeout(suite.Intervals.FaultDetect).WithPolling(suite.Intervals.Poll).
			Should(BeFalse(), "a hung serve stays ready: its Service keeps sending it traffic")
		rec.Figures["not_ready_after_s"] = time.Since(hung).Seconds()

		// The bound is the suite's, stated in the report (interval
		// hung-restart), never the deployed probe's: a liveness probe with
		// failureThreshold 30 every 60 s would bound itself at half an hour.
		bound := suite.Intervals.HungRestart
		rec.Figures["restart_bound_s"] = bound.Seconds()
		rec.Figures["deployed_probe_bound_s"] = (probe.RestartBound() + probe.Period).Seconds()
		Eventually(sup.Restarts).WithArguments(ctx, harness.ComponentKratos).WithTimeout(bound).WithPolling(suite.Intervals.Poll).
			Should(BeNumerically(">", before), "a hung serve was not restarted within the stated bound %s (-kc.intervals=hung-restart=...); the deployed probe allows %s (%+v)",
				bound, probe.RestartBound()+probe.Period, probe)
		rec.Figures["restarted_after_s"] = time.Since(hung).Seconds()
		expectWhoamiBack(ctx, native.Agent, token, "the session made before the hang")
		rec.Figures["whoami_ok_after_hang_s"] = time.Since(hung).Seconds()
		rec.Findings = append(rec.Findings, "readiness took the hung serve out of its Service, liveness restarted it; the session made before passes whoami")
	})
})

// startSupervised skips unless faults were asked for and a supervisor (the
// kubelet) runs Kratos, and opens the scenario's record.
func startSupervised(name string) (harness.Supervised, *reports.Fault) {
	GinkgoHelper()
	if !suite.Config.Faults {
		Skip("N/A: an opt-in scenario, not asked for (-kc.faults; make faults runs it)")
	}
	sup := stackCan[harness.Supervised]("runs Kratos without a supervisor that restarts it (restart policy, probes)")
	rec := recordFault(reports.Fault{Name: name, Component: string(harness.ComponentKratos), Figures: map[string]float64{}})
	return sup, rec
}
