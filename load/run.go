package load

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"kratos-conformance/harness"
	"kratos-conformance/harness/client/kratosflow"
	"kratos-conformance/harness/client/mail"
)

// Input is one load stage against a deployment.
type Input struct {
	Endpoints   harness.Endpoints
	Intervals   harness.Intervals
	SchemaID    string      // the identity schema seeded identities use
	NewIdentity NewIdentity // their traits, from that schema
	// SessionCookie is the deployment's session cookie name (session.cookie.name).
	SessionCookie string
	Profile       Profile
	SLOWhoami     time.Duration
	SLOLogin      time.Duration
	// SampleHash is a password hash the deployment made; the seeded hash copies its algorithm and parameters.
	SampleHash string
	// SameMachine: the generator runs where Kratos does (local providers), so
	// the hash bound measured here bounds Kratos too; else it is only reported.
	SameMachine bool
	CPU         CPUMeter // the components' CPU; nil: the generator only
	OutDir      string   // plots go here
	MaxWorkers  uint64   // requests in flight at most
	Timeout     time.Duration
	Progress    func(string)
	// Inbox is where the deployment's mail arrives (Mailpit, or the
	// courier's table); nil: mails under load are not followed.
	Inbox mail.Inbox
	// VerificationMail: a registration mails a verification code (the schema
	// verifies an address and the verification flow is enabled).
	VerificationMail bool
	// RecoveryMail: the schema recovers by that same address and recovery
	// by code is enabled, so a recovery request mails a code there.
	RecoveryMail bool
	// Soak, when set, holds the workload's mix after its search (-kc.soak).
	Soak *SoakPlan
	// Remote: whoami's and alive's steps run on generator pods (-kc.load-generators); login stays in this process.
	Remote *RemoteGenerators
	// Sweep, when set, measures the workload again at each count of serve replicas (-kc.load-replicas).
	Sweep *ReplicaSweep
	label string // prefixes each step's files: a sweep's are apart from the first count's
}

func (in Input) validate() error {
	var errs []error
	if in.Endpoints.KratosPublic == nil || in.Endpoints.KratosAdmin == nil {
		errs = append(errs, errors.New("load.Input.Endpoints needs the Kratos public and admin URLs"))
	}
	if in.SLOWhoami <= 0 || in.SLOLogin <= 0 {
		errs = append(errs, errors.New("load.Input.SLOWhoami and SLOLogin must be positive"))
	}
	if in.MaxWorkers == 0 || in.Timeout <= 0 {
		errs = append(errs, errors.New("load.Input.MaxWorkers and Timeout must be positive: every attack is bounded"))
	}
	if in.OutDir == "" {
		errs = append(errs, errors.New("load.Input.OutDir is empty"))
	}
	if in.Sweep != nil {
		errs = append(errs, in.Sweep.validate())
	}
	return errors.Join(errs...)
}

// Result is everything the load stage measured.
type Result struct {
	Profile string `json:"profile"`
	// Workload identifies the workload's content (Profile.Hash), for kcdiff.
	Workload  string     `json:"workload_sha256"`
	StartedAt time.Time  `json:"started_at"`
	Seconds   float64    `json:"seconds"`
	Seed      SeedFigure `json:"seed"`
	Bounds    Bounds     `json:"bounds"`
	Scenarios []Capacity `json:"scenarios"`
	// Ratios make the figures comparable across machines:
	// login_max_over_hash_bound (same machine only) and whoami_token_max_over_wrk.
	Ratios map[string]float64 `json:"ratios,omitempty"`
	// GeneratorShareAtWhoamiMax is the generator's share of the machine's CPU
	// at whoami-token's highest passing step.
	GeneratorShareAtWhoamiMax float64  `json:"generator_cpu_share_at_whoami_max"`
	SLOFailures               []string `json:"slo_failures,omitempty"`
	// WrongAnswers counts answers, warm-ups included, with another user's data or none.
	WrongAnswers uint64 `json:"wrong_answers"`
	Interrupted  bool   `json:"interrupted,omitempty"`
	// SideBySide: the scenarios ran in one window together (Profile.SideBySide).
	SideBySide bool `json:"side_by_side,omitempty"`
	// Mix is the workload's mix of flows at a searched total rate; nil: none.
	Mix *MixCapacity `json:"mix,omitempty"`
	// Soak is the mix held for -kc.soak, window by window; nil: none.
	Soak *SoakResult `json:"soak,omitempty"`
	// Generators is how many generator pods sent whoami's steps (each step lists them); 0: this process.
	Generators int `json:"generators,omitempty"`
	// Sweep is the workload measured again at each count of serve replicas; nil: not swept.
	Sweep []SweepStep `json:"replica_sweep,omitempty"`
}

// SeedFigure is how the population was made.
type SeedFigure struct {
	Identities     int     `json:"identities"`
	TokenSessions  int     `json:"token_sessions"`
	CookieSessions int     `json:"cookie_sessions"`
	Seconds        float64 `json:"seconds"`
}

// Run seeds, measures the bounds, then attacks each scenario. On error or
// interruption it returns what it has so far, so a partial report can be written.
func Run(ctx context.Context, in Input) (*Result, *Population, error) {
	res := &Result{Profile: in.Profile.Name, StartedAt: time.Now(), Ratios: map[string]float64{}, SideBySide: in.Profile.SideBySide, Workload: in.Profile.Hash()}
	if in.Remote != nil {
		res.Generators = in.Remote.Count
	}
	defer func() { res.Seconds = time.Since(res.StartedAt).Seconds(); res.Interrupted = ctx.Err() != nil }()
	if err := in.validate(); err != nil {
		return res, nil, err
	}
	p := in.Profile
	hasher, err := HasherOf(in.SampleHash)
	if err != nil {
		return res, nil, err
	}
	seedStart := time.Now()
	pop, err := Seed(ctx, SeedInput{Endpoints: in.Endpoints, Intervals: in.Intervals, SchemaID: in.SchemaID, NewIdentity: in.NewIdentity, SessionCookie: in.SessionCookie, Identities: p.Identities,
		Sessions: p.Sessions, Hasher: hasher, Concurrency: 4, Progress: in.Progress})
	if err != nil {
		return res, pop, err
	}
	if dsn := in.Endpoints.PostgresDSN; dsn != "" {
		// Bulk import leaves autovacuum and analyze to run during the first
		// attacks, which made early steps noisy; settle the tables first.
		if err := settle(ctx, dsn); err != nil {
			return res, pop, err
		}
	}
	res.Seed = SeedFigure{Identities: len(pop.Identities), TokenSessions: len(pop.Tokens), CookieSessions: len(pop.Cookies),
		Seconds: time.Since(seedStart).Seconds()}

	if res.Bounds, err = measureBounds(ctx, in, pop); err != nil {
		return res, pop, err
	}
	report(in.Progress, "load: bounds: %s %.1f compares/s (%s), generator %.0f req/s at %.0f µs CPU each, wrk whoami %.0f req/s",
		res.Bounds.Hasher, res.Bounds.HashComparesPerSec, res.Bounds.HashNote, res.Bounds.GeneratorMaxRPS, res.Bounds.GeneratorCPUMicrosPerReq, res.Bounds.WrkWhoamiRPS)

	if in.Sweep != nil {
		if err := in.Sweep.Scale(ctx, in.Sweep.Counts[0]); err != nil {
			return res, pop, fmt.Errorf("scale serve to %d replicas: %w", in.Sweep.Counts[0], err)
		}
	}
	if err := measure(ctx, in, res, pop); err != nil {
		return res, pop, err
	}
	if in.Sweep != nil && ctx.Err() == nil {
		res.Sweep, err = runSweep(ctx, in, res, pop)
		return res, pop, err
	}
	return res, pop, nil
}

// measure runs the workload's searches, then its mix, into res.
func measure(ctx context.Context, in Input, res *Result, pop *Population) error {
	p := in.Profile
	client, err := attackClient(in)
	if err != nil {
		return err
	}
	native, err := kratosflow.NewNative(in.Endpoints, in.Intervals.HTTPRequest)
	if err != nil {
		return err
	}
	type planned struct {
		kind  Kind
		input SearchInput
	}
	var plans []planned
	for _, k := range Kinds {
		plan, ok := p.Scenarios[k.Name]
		if !ok {
			continue // not in this workload
		}
		sc := k.Build(Build{In: in, Pop: pop, Native: native, SLO: cmp.Or(plan.SLO, k.DefaultSLO(in))})
		sc.MinSuccess = plan.MinSuccess
		step := StepInput{Scenario: sc, Rate: plan.Rate, Warmup: p.Warmup, Window: p.Window,
			Limits: Limits{MaxWorkers: in.MaxWorkers, Timeout: in.Timeout, Client: client}, CPU: in.CPU, PlotDir: in.OutDir, Label: in.label, Remote: in.Remote, PostgresDSN: in.Endpoints.PostgresDSN, KratosAdmin: in.Endpoints.KratosAdmin}
		maxRate := plan.MaxRate
		if !p.Search {
			maxRate = step.Rate
		}
		plans = append(plans, planned{k, SearchInput{Step: step, MaxRate: maxRate, Precision: 0.05, MaxSteps: p.MaxSteps, Progress: in.Progress}})
	}
	results := make([]Capacity, len(plans))
	errs := make([]error, len(plans))
	if p.SideBySide {
		report(in.Progress, "load: %d scenarios side by side, one step each (the stage ends within about %s)", len(plans), (p.Warmup + p.Window).Round(time.Second))
		// What a scenario creates ahead (login's flows, recovery's identities)
		// is made before any starts: made as each starts, it would load the
		// others' windows.
		for i, pl := range plans {
			step := pl.input.Step
			sc, err := step.Scenario.Prepared(ctx, step.sends())
			if err != nil {
				return fmt.Errorf("prepare %s: %w", pl.kind.Name, err)
			}
			plans[i].input.Step.Scenario = sc
		}
		var wg sync.WaitGroup
		for i, pl := range plans {
			wg.Go(func() { results[i], errs[i] = Search(ctx, pl.input) })
		}
		wg.Wait()
	} else {
		for i, pl := range plans {
			if ctx.Err() != nil {
				plans = plans[:i]
				break
			}
			// Each step is its warm-up and window plus setup: the estimate is a bound, searches often stop sooner.
			left := time.Duration((len(plans)-i)*p.MaxSteps) * (p.Warmup + p.Window)
			report(in.Progress, "load: scenario %d of %d: %s (up to %d steps; the stage ends within about %s)", i+1, len(plans), pl.kind.Name, p.MaxSteps, left.Round(time.Second))
			results[i], errs[i] = Search(ctx, pl.input)
			if errs[i] != nil {
				plans = plans[:i+1]
				break
			}
		}
	}
	for i, pl := range plans {
		c := results[i]
		if len(c.Steps) > 0 {
			l := limitOf(c, res.Bounds, in.SameMachine, pl.kind.HashPerRequest)
			c.LimitedBy = &l
			report(in.Progress, "load: %s limited by %s: %s", c.Scenario, l.Resource, l.Evidence)
		}
		res.Scenarios = append(res.Scenarios, c)
		if errs[i] != nil {
			return errs[i]
		}
		if c.MaxSustainableRPS == 0 {
			res.SLOFailures = append(res.SLOFailures, sloFailure(c))
		} else if floor := p.Scenarios[pl.kind.Name].Floor(); c.MaxSustainableRPS < floor {
			res.SLOFailures = append(res.SLOFailures, fmt.Sprintf("%s: sustained %.1f/s within the SLO, below the workload's floor of %.1f/s (min_rate, else its first rate)",
				c.Scenario, c.MaxSustainableRPS, floor))
		}
		var wrong uint64
		for _, s := range c.Steps {
			wrong += s.WrongAnswers
		}
		if wrong > 0 {
			res.WrongAnswers += wrong
			res.SLOFailures = append(res.SLOFailures, fmt.Sprintf("%s: %d answer(s) carried another user's data or none: a correctness failure, whatever the rate", c.Scenario, wrong))
		}
		if pl.kind.Ratio != nil {
			pl.kind.Ratio(c, res, in.SameMachine)
		}
	}
	if p.Mix != nil && ctx.Err() == nil {
		if err := runMixStage(ctx, in, res, mixInput{pop: pop, native: native, client: client}); err != nil {
			return err
		}
	}
	return nil
}

// mixInput is what the mix is built from, besides the stage's Input.
type mixInput struct {
	pop    *Population
	native *kratosflow.Agent
	client *http.Client
}

// runMixStage builds every flow of the workload's mix, searches its total
// rate, and records the result and any failure in res.
func runMixStage(ctx context.Context, in Input, res *Result, mi mixInput) error {
	m := in.Profile.Mix
	var flows []mixFlow
	for _, k := range Kinds {
		f, ok := m.Flows[k.Name]
		if !ok {
			continue
		}
		sc := k.Build(Build{In: in, Pop: mi.pop, Native: mi.native, SLO: cmp.Or(f.SLO, k.DefaultSLO(in))})
		sc.MinSuccess = f.MinSuccess
		flows = append(flows, mixFlow{scenario: sc, share: f.Weight / 100})
	}
	base := StepInput{Warmup: in.Profile.Warmup, Window: in.Profile.Window, Limits: Limits{MaxWorkers: in.MaxWorkers, Timeout: in.Timeout, Client: mi.client},
		CPU: in.CPU, PlotDir: in.OutDir, Label: in.label + "mix-", Remote: in.Remote, PostgresDSN: in.Endpoints.PostgresDSN, KratosAdmin: in.Endpoints.KratosAdmin}
	report(in.Progress, "load: the mix of %d flows, total from %.1f/s (up to %d steps)", len(flows), m.Rate, in.Profile.MaxSteps)
	mc, err := runMix(ctx, in.Profile, flows, base, in.Progress)
	mc.LimitedBy = mixLimit(mc, res.Bounds, in.SameMachine)
	if m.Target != nil && err == nil {
		var sizeErr error
		if mc.Sizing, sizeErr = size(*m.Target, mc); sizeErr != nil {
			mc.SizingError = sizeErr.Error()
		}
	}
	res.Mix = &mc
	if err != nil {
		return err
	}
	if mc.LimitedBy != nil {
		report(in.Progress, "load: the mix is limited by %s: %s", mc.LimitedBy.Resource, mc.LimitedBy.Evidence)
	}
	if in.Soak != nil && ctx.Err() == nil {
		total := in.Soak.Fraction * cmp.Or(mc.MaxTotalRPS, m.Rate)
		report(in.Progress, "load: soak at %.1f/s (%.0f%% of the mix's max) for %s, judged every %s", total, in.Soak.Fraction*100, in.Soak.Duration, in.Soak.Window)
		res.Soak = runSoak(ctx, *in.Soak, flows, base, in.Endpoints.PostgresDSN, total, in.Progress)
		if res.Soak.Leak != "" {
			res.SLOFailures = append(res.SLOFailures, "soak: "+res.Soak.Leak)
		}
		if w := res.Soak.WrongAnswers; w > 0 {
			res.WrongAnswers += w
			res.SLOFailures = append(res.SLOFailures, fmt.Sprintf("soak: %d answer(s) carried another user's data or none", w))
		}
	}
	if mc.MaxTotalRPS < m.Floor() {
		res.SLOFailures = append(res.SLOFailures, fmt.Sprintf("mix: sustained %.1f/s in all with every flow within its SLO, below the workload's floor of %.1f/s (min_rate, else its first rate)",
			mc.MaxTotalRPS, m.Floor()))
	}
	var wrong uint64
	for _, s := range mc.Steps {
		for _, f := range s.Flows {
			wrong += f.WrongAnswers
		}
	}
	if wrong > 0 {
		res.WrongAnswers += wrong
		res.SLOFailures = append(res.SLOFailures, fmt.Sprintf("mix: %d answer(s) carried another user's data or none: a correctness failure, whatever the rate", wrong))
	}
	return nil
}

func sloFailure(c Capacity) string {
	lowest := c.Steps[0]
	for _, s := range c.Steps {
		if s.TargetRPS < lowest.TargetRPS {
			lowest = s
		}
	}
	return fmt.Sprintf("%s: no step met the SLO (p99 <= %.0f ms, success >= 99.9%%); at %.1f/s: %v",
		c.Scenario, c.SLOMillis, lowest.TargetRPS, lowest.Why)
}

func measureBounds(ctx context.Context, in Input, pop *Population) (Bounds, error) {
	var b Bounds
	var err error
	d := in.Profile.BoundFor
	b.Hasher, b.HashComparesPerSec = pop.Hasher.String(), HashBound(ctx, pop.Hasher, pop.Hash, pop.Password, d)
	b.HashNote = "all cores of this machine, which also runs Kratos"
	if !in.SameMachine {
		b.HashNote = "all cores of the generator's machine, not the deployment's: no ratio is drawn from it"
	}
	if b.GeneratorMaxRPS, b.GeneratorCPUMicrosPerReq, err = GeneratorCeiling(ctx, d, 32); err != nil {
		return b, err
	}
	addr := in.Endpoints.DialAddr(harness.HostPort(in.Endpoints.KratosPublic))
	rps, ok, err := WrkWhoami(ctx, in.Endpoints.KratosPublic, addr, pop.Tokens[0].Token, d, 32)
	switch {
	case !ok:
		b.WrkNote = "wrk not installed (Debian package wrk): no closed-loop cross-check"
	case err != nil:
		b.WrkNote = err.Error()
	default:
		b.WrkWhoamiRPS = rps
		b.WrkNote = "wrk -c 32, one session token, closed loop"
	}
	return b, nil
}

// attackClient is the deployment's client with enough idle connections for
// every worker, so load measures Kratos, not TLS handshakes.
func attackClient(in Input) (*http.Client, error) {
	c, err := in.Endpoints.HTTPClient(nil, in.Timeout)
	if err != nil {
		return nil, err
	}
	t := c.Transport.(*http.Transport).Clone()
	t.MaxIdleConns = int(in.MaxWorkers)
	t.MaxIdleConnsPerHost = int(in.MaxWorkers)
	c.Transport = t
	return c, nil
}
