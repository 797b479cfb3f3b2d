package load

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// MixPlan runs several flows at once, at a total rate split by weight, as
// an application's users do. With search on, the total rate is searched:
// the mix's capacity is the highest total at which every flow meets its own
// SLO and gates in the same window.
type MixPlan struct {
	Rate    float64 `yaml:"rate"`     // the first total rate (without search: the only one)
	MaxRate float64 `yaml:"max_rate"` // the search's ceiling
	// MinRate is the floor the mix must sustain; 0: Rate.
	MinRate float64            `yaml:"min_rate"`
	Flows   map[string]MixFlow `yaml:"flows"`
	// Target, when given, is sized from the measured mix (Sizing).
	Target *Target `yaml:"target"`
}

// MixFlow is one flow's share of the mix and what its answers must meet.
type MixFlow struct {
	Weight     float64       `yaml:"weight"`  // percent of the total rate; the flows' weights sum to 100
	SLO        time.Duration `yaml:"slo_p99"` // 0: the suite's flag for the flow's kind
	MinSuccess float64       `yaml:"min_success"`
}

// Floor is the total rate the mix must sustain for the stage to pass.
func (m MixPlan) Floor() float64 { return cmp.Or(m.MinRate, m.Rate) }

// minFlowAnswers is the fewest requests a flow gets in a mix's window: fewer
// cannot be judged (a flow at 0.06/s sent none in 10 s and "failed").
const minFlowAnswers = 10

// minTotal is the lowest total at which every flow still gets its answers.
func (m MixPlan) minTotal(window time.Duration) float64 {
	var least float64
	for _, f := range m.Flows {
		if f.Weight > 0 {
			least = max(least, minFlowAnswers/(f.Weight/100*window.Seconds()))
		}
	}
	return least
}

// validate names every field a mix cannot run with.
func (m MixPlan) validate(search bool, window time.Duration) error {
	var errs []error
	if m.Rate <= 0 || search && m.MaxRate < m.Rate {
		errs = append(errs, errors.New("mix: rate must be positive, and max_rate at least rate when search is on"))
	}
	if m.MinRate < 0 || search && m.MinRate > m.MaxRate {
		errs = append(errs, errors.New("mix: min_rate must not be negative nor above max_rate"))
	}
	if len(m.Flows) == 0 {
		errs = append(errs, fmt.Errorf("mix: no flows; known: %s", kindNames()))
	}
	var sum float64
	for name, f := range m.Flows {
		if !slices.ContainsFunc(Kinds, func(k Kind) bool { return k.Name == name }) {
			errs = append(errs, fmt.Errorf("mix: flow %q is unknown; known: %s", name, kindNames()))
		}
		if f.Weight <= 0 {
			errs = append(errs, fmt.Errorf("mix: flow %s: weight must be positive", name))
		}
		if f.SLO < 0 || f.MinSuccess < 0 || f.MinSuccess > 1 || f.MinSuccess != 0 && f.MinSuccess < minAllowedSuccess {
			errs = append(errs, fmt.Errorf("mix: flow %s: slo_p99 must not be negative, min_success 0 (the default) or within %.2f..1", name, minAllowedSuccess))
		}
		sum += f.Weight
	}
	if m.Target != nil {
		errs = append(errs, m.Target.validate())
	}
	for name, f := range m.Flows {
		if n := m.Rate * f.Weight / 100 * window.Seconds(); f.Weight > 0 && n < minFlowAnswers {
			errs = append(errs, fmt.Errorf("mix: flow %s gets %.1f requests a window at the first rate (rate x weight%% x window): raise rate or its weight to give it %d", name, n, minFlowAnswers))
		}
	}
	if len(m.Flows) > 0 && math.Abs(sum-100) > 0.01 {
		errs = append(errs, fmt.Errorf("mix: the flows' weights sum to %g, not 100", sum))
	}
	return errors.Join(errs...)
}

// MixCapacity is what the mix sustained.
type MixCapacity struct {
	Weights     map[string]float64 `json:"weights"`
	MaxTotalRPS float64            `json:"max_sustainable_total_rps"` // highest passing total; 0 if none passed
	Steps       []MixStep          `json:"steps"`
	Complete    bool               `json:"complete"`
	LimitedBy   *Limit             `json:"limited_by,omitempty"`
	// Sizing scales the measured mix to the workload's target; SizingError
	// says why it could not be.
	Sizing      *Sizing `json:"sizing,omitempty"`
	SizingError string  `json:"sizing_error,omitempty"`
}

// MixStep is one total rate: every flow's step, run in the same window.
type MixStep struct {
	TotalRPS float64  `json:"total_rps"`
	Pass     bool     `json:"pass"`
	Why      []string `json:"why,omitempty"` // each failing flow's reasons, named
	Flows    []Step   `json:"flows"`
}

// mixFlow is a flow built for this run with its share.
type mixFlow struct {
	scenario *Scenario
	share    float64 // of the total, 0..1
}

// runMix searches (or, without search, runs once) the mix's total rate.
func runMix(ctx context.Context, p Profile, flows []mixFlow, base StepInput, progress func(string)) (MixCapacity, error) {
	m := *p.Mix
	mc := MixCapacity{Weights: map[string]float64{}}
	for name, f := range m.Flows {
		mc.Weights[name] = f.Weight
	}
	try := func(total float64) (bool, error) {
		s, err := runMixStep(ctx, flows, base, total)
		mc.Steps = append(mc.Steps, s)
		if err != nil {
			return false, err
		}
		report(progress, "load: mix step %d (of at most %d) %.1f/s in all: %s %v", len(mc.Steps), p.MaxSteps, total, passWord(s.Pass), s.Why)
		return s.Pass, nil
	}
	maxRate := m.MaxRate
	if !p.Search {
		maxRate = m.Rate
	}
	var err error
	mc.Complete, err = searchRates(ctx, rateSearch{First: m.Rate, Max: maxRate, Min: m.minTotal(p.Window), Precision: 0.05, MaxSteps: p.MaxSteps}, try)
	for _, s := range mc.Steps {
		if s.Pass && s.TotalRPS > mc.MaxTotalRPS {
			mc.MaxTotalRPS = s.TotalRPS
		}
	}
	return mc, err
}

// runMixStep runs every flow at its share of total in one window. Flows
// that create state ahead (login's flows) do it before any flow starts.
func runMixStep(ctx context.Context, flows []mixFlow, base StepInput, total float64) (MixStep, error) {
	ms := MixStep{TotalRPS: total, Flows: make([]Step, len(flows))}
	inputs := make([]StepInput, len(flows))
	for i, f := range flows {
		in := base
		in.Rate = total * f.share
		sc, err := f.scenario.Prepared(ctx, in.sends())
		if err != nil {
			return ms, fmt.Errorf("mix at %.1f/s: prepare %s: %w", total, f.scenario.Name, err)
		}
		in.Scenario = sc
		inputs[i] = in
	}
	errs := make([]error, len(flows))
	var wg sync.WaitGroup
	for i := range flows {
		wg.Go(func() { ms.Flows[i], errs[i] = RunStep(ctx, inputs[i]) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return ms, err
	}
	ms.Pass = true
	for _, s := range ms.Flows {
		if !s.Pass {
			ms.Pass = false
			ms.Why = append(ms.Why, s.Scenario+": "+strings.Join(s.Why, "; "))
		}
	}
	return ms, nil
}

// mixLimit reads what ran out at the mix's first failing total: the
// flows share one window, so the machine's figures are any flow's.
func mixLimit(mc MixCapacity, b Bounds, sameMachine bool) *Limit {
	c := Capacity{Scenario: "mix"}
	for _, s := range mc.Steps {
		if len(s.Flows) == 0 {
			continue
		}
		merged := s.Flows[0]
		merged.TargetRPS, merged.Pass, merged.Why = s.TotalRPS, s.Pass, s.Why
		c.Steps = append(c.Steps, merged)
	}
	if len(c.Steps) == 0 {
		return nil
	}
	l := limitOf(c.finish(), b, sameMachine, false)
	return &l
}

// FlowNames are the mix's flows, by weight (largest first).
func (mc MixCapacity) FlowNames() []string {
	names := slices.Sorted(maps.Keys(mc.Weights))
	slices.SortStableFunc(names, func(a, b string) int { return cmp.Compare(mc.Weights[b], mc.Weights[a]) })
	return names
}
