package load

import (
	"context"
	"fmt"
	"sort"

	"kratos-conformance/reports"
)

// Capacity is what one scenario sustained.
type Capacity struct {
	Scenario          string  `json:"scenario"`
	SLOMillis         float64 `json:"slo_p99_ms"`
	MaxSustainableRPS float64 `json:"max_sustainable_rps"` // highest passing rate; 0 if none passed
	P99AtMaxMillis    float64 `json:"p99_at_max_ms"`
	// KneeRPS is the lowest offered rate whose p99 is more than twice the
	// p99 of the lowest step: where latency starts to climb. 0 if none.
	KneeRPS  float64 `json:"knee_rps"`
	Steps    []Step  `json:"steps"`
	Complete bool    `json:"complete"` // false: interrupted or stopped early
	// LimitedBy is what ran out at the first failing rate, with its evidence.
	LimitedBy *Limit `json:"limited_by,omitempty"`
}

// SearchInput drives the saturation search of one scenario.
type SearchInput struct {
	Step      StepInput // Rate is the first rate to try
	MaxRate   float64   // never offer more than this
	Precision float64   // stop bisecting when (fail-pass)/pass is at most this, e.g. 0.05
	MaxSteps  int       // a hard bound on attacks
	Progress  func(string)
}

// Search grows the rate (doubling) until a step fails or MaxRate is reached,
// then bisects between the last passing and the first failing rate.
func Search(ctx context.Context, in SearchInput) (Capacity, error) {
	c := Capacity{Scenario: in.Step.Scenario.Name, SLOMillis: float64(in.Step.Scenario.SLO.Milliseconds())}
	if in.Step.Rate <= 0 || in.MaxRate < in.Step.Rate || in.Precision <= 0 || in.MaxSteps < 1 {
		return c, fmt.Errorf("load.SearchInput needs 0 < Step.Rate <= MaxRate, Precision > 0, MaxSteps >= 1; got %+v", in)
	}
	try := func(rate float64) (bool, error) {
		in.Step.Rate = rate
		s, err := RunStep(ctx, in.Step)
		if err != nil {
			return false, err
		}
		c.Steps = append(c.Steps, s)
		report(in.Progress, "load: %s step %d (of at most %d) %.1f/s: achieved %.1f/s, p99 %.1f ms, success %.2f%%, errors %v, %s %v",
			s.Scenario, len(c.Steps), in.MaxSteps, s.TargetRPS, s.AchievedRPS, s.Latency.P99, s.Success*100, s.Errors, passWord(s.Pass), s.Why)
		return s.Pass, nil
	}
	var err error
	c.Complete, err = searchRates(ctx, rateSearch{First: in.Step.Rate, Max: in.MaxRate, Precision: in.Precision, MaxSteps: in.MaxSteps}, try)
	return c.finish(), err
}

// rateSearch bounds a search over one rate: a scenario's, or a mix's total.
type rateSearch struct {
	First, Max, Precision float64
	// Min is the lowest rate worth trying (a mix's smallest flow needs
	// answers to judge); 0: an eighth of First.
	Min      float64
	MaxSteps int
}

// searchRates doubles the rate from First until try fails or Max is
// reached, looks below First if even it failed, then bisects between the
// last passing and the first failing rate. It says whether the search
// finished (not interrupted, not cut short by MaxSteps).
func searchRates(ctx context.Context, in rateSearch, try func(rate float64) (bool, error)) (bool, error) {
	steps := 0
	run := func(rate float64) (bool, error) { steps++; return try(rate) }
	pass, fail := 0.0, 0.0
	for rate := in.First; steps < in.MaxSteps && ctx.Err() == nil; rate *= 2 {
		rate = min(rate, in.Max)
		ok, err := run(rate)
		if err != nil {
			return false, err
		}
		if !ok {
			fail = rate
			break
		}
		pass = rate
		if rate == in.Max {
			break
		}
	}
	if pass == 0 && fail > 0 {
		// Even the first rate failed: look below it before bisecting.
		for rate := fail / 2; rate >= max(in.First/8, in.Min) && steps < in.MaxSteps && ctx.Err() == nil; rate /= 2 {
			ok, err := run(rate)
			if err != nil {
				return false, err
			}
			if ok {
				pass = rate
				break
			}
			fail = rate
		}
	}
	for pass > 0 && fail > 0 && (fail-pass)/pass > in.Precision && steps < in.MaxSteps && ctx.Err() == nil {
		mid := (pass + fail) / 2
		ok, err := run(mid)
		if err != nil {
			return false, err
		}
		if ok {
			pass = mid
		} else {
			fail = mid
		}
	}
	return ctx.Err() == nil && (fail == 0 || pass == 0 || (fail-pass)/pass <= in.Precision), nil
}

// finish derives the figures from the steps run so far.
func (c Capacity) finish() Capacity {
	sorted := append([]Step(nil), c.Steps...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].TargetRPS < sorted[j].TargetRPS })
	c.MaxSustainableRPS, c.P99AtMaxMillis, c.KneeRPS = 0, 0, 0
	for _, s := range sorted {
		if s.Pass && s.TargetRPS > c.MaxSustainableRPS {
			c.MaxSustainableRPS, c.P99AtMaxMillis = s.TargetRPS, s.Latency.P99
		}
	}
	if len(sorted) > 0 {
		base := sorted[0].Latency.P99
		for _, s := range sorted[1:] {
			if s.Latency.P99 > 2*base {
				c.KneeRPS = s.TargetRPS
				break
			}
		}
	}
	return c
}

func passWord(ok bool) reports.Status {
	if ok {
		return reports.Pass
	}
	return reports.Fail
}
