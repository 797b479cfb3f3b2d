package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"kratos-conformance/harness"
	"kratos-conformance/load"
	"kratos-conformance/reports"
)

var _ = AfterSuite(func(sc SpecContext) {
	if suite.Config.Load == "off" || suite.Endpoints.KratosPublic == nil || interrupted.Load() {
		return // interrupted: the LOAD rows stay NOT RUN and the verdict says the run was interrupted
	}
	// The stage's bound depends on -kc.soak, read after the node was declared.
	ctx, cancel := context.WithTimeout(sc, loadStageTimeout*time.Duration(max(1, len(suite.Config.LoadReplicas)))+suite.Config.Soak)
	defer cancel()
	profile := *suite.Workload
	var groups load.CPUMeter
	switch s := suite.Stack.(type) {
	case harness.ProcessGroups:
		pgs := load.CPUGroups{}
		for name, pgid := range s.ProcessGroups() {
			pgs[string(name)] = pgid // every component, so the shares explain the machine
		}
		groups = pgs
	case harness.PodCPU:
		groups = load.PodCPU{Read: s.PodCPUSeconds, WithGenerator: !borrowed()}
	}
	var remote *load.RemoteGenerators
	if lg, ok := suite.Stack.(harness.LoadGenerators); ok && suite.Config.LoadGenerators > 0 {
		ep, err := lg.GeneratorEndpoints(ctx)
		Expect(err).NotTo(HaveOccurred())
		remote = &load.RemoteGenerators{Count: suite.Config.LoadGenerators, Run: lg.RunGenerators, Endpoints: ep}
	}
	var sweep *load.ReplicaSweep
	if sc, ok := suite.Stack.(harness.ServeScaler); ok && len(suite.Config.LoadReplicas) > 0 {
		sweep = &load.ReplicaSweep{Counts: suite.Config.LoadReplicas, Scale: sc.ScaleServe}
	}
	if after := suite.Config.LoadAfter; after != "" {
		fmt.Fprintf(os.Stdout, "load: waiting for the other stack on this machine to finish (%s)\n", after)
		timed("load-wait", func() {
			Eventually(ctx, func() error { _, err := os.Stat(after); return err }).WithTimeout(suite.Intervals.LoadAfter).WithPolling(suite.Intervals.Poll).
				Should(Succeed(), "the other stack sharing this machine did not finish within the load-after interval (-kc.intervals=load-after=...); no load was measured beside it")
		})
	}
	var (
		pop *load.Population
		err error
	)
	timed("load", func() {
		suite.LoadResult, pop, err = load.Run(ctx, load.Input{
			Endpoints: suite.Endpoints, Intervals: suite.Intervals, Profile: profile, SessionCookie: sessionCookieName(), SLOWhoami: suite.Config.SLOWhoami, SLOLogin: suite.Config.SLOLogin,
			SchemaID: suite.Schema.ID, NewIdentity: func(i int) (map[string]any, string, string, error) {
				id, err := suite.Schema.NewIdentity(fmt.Sprintf("load-%d", i), suite.Config.MailDomain())
				return id.Traits, id.Identifier, id.Email, err
			},
			Inbox: mailReader().Inbox, VerificationMail: verificationMailed(), RecoveryMail: recoveryMailed(),
			SampleHash: suite.SampleHash, SameMachine: !borrowed(),
			CPU: groups, OutDir: suite.Run.Dir, MaxWorkers: 256, Timeout: suite.Intervals.HTTPRequest,
			Progress: func(line string) { fmt.Fprintln(os.Stdout, line) }, Remote: remote, Soak: soakPlan(), Sweep: sweep,
		})
	})
	// Written even when interrupted or failed: a partial report beats none.
	if suite.LoadResult != nil {
		Expect(suite.LoadResult.Write(suite.Run.Dir)).To(Succeed())
		pushLoadFigures(ctx)
	}
	if pop != nil && borrowed() {
		// A live deployment keeps what we seed unless we remove it.
		Expect(pop.Cleanup(ctx, suite.Endpoints, suite.Intervals)).To(Succeed())
	}
	Expect(err).NotTo(HaveOccurred())
	Expect(suite.LoadResult.SLOFailures).To(BeEmpty(), "load SLOs: %s", strings.Join(suite.LoadResult.SLOFailures, "; "))
})

// pushLoadFigures pushes the load figures to -kc.load-push's Pushgateway and
// writes them to -kc.load-remote-write's endpoint; a refusal is a warning:
// the figures are on disk already.
func pushLoadFigures(ctx context.Context) {
	client := &http.Client{Timeout: suite.Intervals.HTTPRequest}
	if suite.Config.LoadPush != "" {
		gateway, _ := url.Parse(suite.Config.LoadPush) // checked at start-up
		if err := load.Push(ctx, client, gateway, suite.Run.ID, suite.LoadResult); err != nil {
			warn("the load figures were not pushed (-kc.load-push): " + err.Error() + "; they are in metrics.prom")
		} else {
			fmt.Fprintf(os.Stdout, "load: figures pushed to %s (job kratos_conformance, run %s)\n", gateway.Redacted(), suite.Run.ID)
		}
	}
	if suite.Config.LoadRemoteWrite != "" {
		endpoint, _ := url.Parse(suite.Config.LoadRemoteWrite) // checked at start-up
		if err := load.RemoteWrite(ctx, client, endpoint, suite.Run.ID, time.Now(), suite.LoadResult); err != nil {
			warn("the load figures were not written (-kc.load-remote-write): " + err.Error() + "; they are in metrics.prom")
		} else {
			fmt.Fprintf(os.Stdout, "load: figures written to %s (job kratos_conformance, run %s)\n", endpoint.Redacted(), suite.Run.ID)
		}
	}
}

// loadStageTimeout bounds the whole load stage, once per count of a
// replica sweep, but the soak (which is bounded by -kc.soak); the capacity
// profile, every scenario searched, took 17 minutes here.
const loadStageTimeout = 30 * time.Minute

// soakPlan is -kc.soak's plan; nil: no soak.
func soakPlan() *load.SoakPlan {
	c := suite.Config
	if c.Soak == 0 {
		return nil
	}
	return &load.SoakPlan{Duration: c.Soak, Window: c.SoakWindow, Fraction: c.SoakFraction}
}

// reqLoadCorrect is the load stage's own row: every answer under load is the
// asked user's. Each scenario's row is its load.Kind's Requirement.
const reqLoadCorrect = "LOAD-001"

// addLoadRequirements folds the load stage into the verdict matrix.
func addLoadRequirements(s *reports.Summary) {
	ids := []string{reqLoadCorrect}
	for _, k := range load.Kinds {
		ids = append(ids, k.Requirement)
	}
	if suite.Config.Load == "off" {
		for _, id := range ids {
			s.AddRequirement(id, reports.NA, "load stage", "the load stage is off (-kc.load=smoke; make certify runs it)")
		}
		return
	}
	if suite.LoadResult == nil {
		return // it never ran: the rows stay NOT RUN, the AfterSuite failure says why
	}
	status := reports.Pass
	if suite.LoadResult.WrongAnswers > 0 || len(suite.LoadResult.Scenarios) == 0 && suite.LoadResult.Mix == nil {
		status = reports.Fail
	}
	s.AddRequirement(reqLoadCorrect, status, "load stage: every answer is the asked user's", "")
	workload := suite.Workload
	for _, k := range load.Kinds {
		if mixed := workload.Mix != nil && workload.Mix.Flows[k.Name].Weight > 0; mixed {
			if _, planned := workload.Scenarios[k.Name]; !planned {
				addMixRequirement(s, k, workload.Mix)
				continue
			}
		}
		if _, planned := workload.Scenarios[k.Name]; !planned {
			s.AddRequirement(k.Requirement, reports.NA, "load stage: "+k.Name, "the workload "+workload.Name+" does not run "+k.Name)
			continue
		}
		c, ok := scenarioResult(k.Name)
		if !ok || len(c.Steps) == 0 {
			continue // interrupted before it, or its first step could not run: NOT RUN, the AfterSuite failure says why
		}
		status, reason := reports.Pass, ""
		if floor := workload.Scenarios[k.Name].Floor(); c.MaxSustainableRPS < floor {
			status, reason = reports.Fail, fmt.Sprintf("sustained %.1f/s, below the workload's floor of %.1f/s", c.MaxSustainableRPS, floor)
		}
		s.AddRequirement(k.Requirement, status, "load stage: "+k.Name, reason)
	}
}

// addMixRequirement judges a flow the workload runs only in its mix: the
// mix passes when it sustained its floor with every flow within its SLO.
func addMixRequirement(s *reports.Summary, k load.Kind, m *load.MixPlan) {
	mc := suite.LoadResult.Mix
	if mc == nil {
		return // interrupted before the mix: NOT RUN
	}
	status, reason := reports.Pass, ""
	if mc.MaxTotalRPS < m.Floor() {
		status, reason = reports.Fail, fmt.Sprintf("the mix sustained %.1f/s in all, below the workload's floor of %.1f/s", mc.MaxTotalRPS, m.Floor())
	}
	s.AddRequirement(k.Requirement, status, "load stage: "+k.Name+" in the mix", reason)
}

func scenarioResult(name string) (load.Capacity, bool) {
	for _, c := range suite.LoadResult.Scenarios {
		if c.Scenario == name {
			return c, true
		}
	}
	return load.Capacity{}, false
}

// loadSummary is the load stage's part of summary.json and summary.md.
func loadSummary() *reports.Load {
	if suite.LoadResult == nil {
		return nil
	}
	r := suite.LoadResult
	l := &reports.Load{Profile: r.Profile, Workload: r.Workload, Seconds: r.Seconds, Ratios: r.Ratios, Failures: r.SLOFailures,
		GeneratorCPUShare: r.GeneratorShareAtWhoamiMax, Report: "load.html",
		Bounds: map[string]float64{
			"hash_compares_per_sec": r.Bounds.HashComparesPerSec, "generator_max_rps": r.Bounds.GeneratorMaxRPS,
			"generator_cpu_us_per_req": r.Bounds.GeneratorCPUMicrosPerReq, "wrk_whoami_rps": r.Bounds.WrkWhoamiRPS,
		}}
	for _, c := range r.Scenarios {
		ls := reports.LoadScenario{Name: c.Scenario, MaxSustainableRPS: c.MaxSustainableRPS,
			P99AtMaxMillis: c.P99AtMaxMillis, KneeRPS: c.KneeRPS, SLOMillis: c.SLOMillis, Steps: len(c.Steps)}
		if len(c.Steps) > 0 {
			ls.FirstRPS, ls.P99AtFirstMillis = c.Steps[0].TargetRPS, c.Steps[0].Latency.P99
		}
		if c.LimitedBy != nil {
			ls.LimitedBy = c.LimitedBy.Resource
		}
		l.Scenarios = append(l.Scenarios, ls)
	}
	if mc := r.Mix; mc != nil {
		ls := reports.LoadScenario{Name: "mix", MaxSustainableRPS: mc.MaxTotalRPS, Steps: len(mc.Steps)}
		if len(mc.Steps) > 0 {
			ls.FirstRPS = mc.Steps[0].TotalRPS
		}
		if mc.LimitedBy != nil {
			ls.LimitedBy = mc.LimitedBy.Resource
		}
		l.Scenarios = append(l.Scenarios, ls)
	}
	return l
}

// recoveryMailed: a recovery request mails a code to the address a load
// identity's NewIdentity returns (the verified one).
func recoveryMailed() bool {
	verified, ok := suite.Schema.VerifiedEmail()
	recovers, ok2 := suite.Schema.RecoveryEmail()
	enabled, known := liveConfigEnabled("selfservice.flows.recovery.enabled")
	use := configOr("selfservice.flows.recovery.use", "code") // Kratos' default
	return ok && ok2 && verified.Path == recovers.Path && enabled && known && use == "code"
}

// verificationMailed says whether a registration mails a verification code
// here: the schema verifies an address and the config (read, not assumed)
// enables the verification flow.
func verificationMailed() bool {
	_, verifies := suite.Schema.VerifiedEmail()
	enabled, known := liveConfigEnabled("selfservice.flows.verification.enabled")
	return verifies && enabled && known
}
