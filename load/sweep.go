package load

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// ReplicaSweep is -kc.load-replicas: the workload measured at each count of
// serve replicas, in order, so scaling is measured rather than assumed.
type ReplicaSweep struct {
	Counts []int
	// Scale runs n serve replicas and returns once all are ready.
	Scale func(ctx context.Context, n int) error
}

func (s ReplicaSweep) validate() error {
	if len(s.Counts) < 2 || s.Scale == nil {
		return errors.New("load.ReplicaSweep needs two or more counts and Scale")
	}
	for _, n := range s.Counts {
		if n < 1 {
			return fmt.Errorf("load.ReplicaSweep: %d replicas: every count must be 1 or more", n)
		}
	}
	return nil
}

// SweepStep is the workload at one count of serve replicas.
type SweepStep struct {
	Replicas int `json:"replicas"`
	// MaxRPS is each scenario's max sustainable rate, "mix" the mix's max total.
	MaxRPS map[string]float64 `json:"max_rps"`
	// Efficiency is MaxRPS over what the first count's rate per replica
	// predicts at this count: 1 scales linearly, 1/n not at all.
	Efficiency map[string]float64 `json:"scaling_efficiency"`
	// NodesSaturated: at every scenario's limit the nodes' CPU was the limit
	// (90% busy or more), so more replicas had no cores to run on.
	NodesSaturated bool         `json:"nodes_saturated,omitempty"`
	Scenarios      []Capacity   `json:"scenarios"`
	Mix            *MixCapacity `json:"mix,omitempty"`
	SLOFailures    []string     `json:"slo_failures,omitempty"`
}

// runSweep measures the workload again at every count after the first,
// which Run measured into res, and scales back to the first count.
func runSweep(ctx context.Context, in Input, res *Result, pop *Population) ([]SweepStep, error) {
	counts := in.Sweep.Counts
	steps := []SweepStep{sweepStep(counts[0], res.Scenarios, res.Mix, nil)}
	in.Soak = nil // a soak holds the first count only
	var err error
	for _, n := range counts[1:] {
		if ctx.Err() != nil {
			break
		}
		report(in.Progress, "load: %d serve replicas", n)
		if err = in.Sweep.Scale(ctx, n); err != nil {
			err = fmt.Errorf("scale serve to %d replicas: %w", n, err)
			break
		}
		at := &Result{Bounds: res.Bounds, Ratios: map[string]float64{}}
		in.label = fmt.Sprintf("replicas-%d-", n)
		err = measure(ctx, in, at, pop)
		res.WrongAnswers += at.WrongAnswers
		for _, f := range at.SLOFailures {
			res.SLOFailures = append(res.SLOFailures, fmt.Sprintf("%d serve replicas: %s", n, f))
		}
		steps = append(steps, sweepStep(n, at.Scenarios, at.Mix, &steps[0]))
		if err != nil {
			break
		}
	}
	if ctx.Err() == nil {
		err = errors.Join(err, in.Sweep.Scale(ctx, counts[0]))
	}
	if res.Mix != nil && res.Mix.Sizing != nil {
		applySweep(res.Mix.Sizing, steps)
	}
	return steps, err
}

// sweepStep sums up one count's results against the first count's.
func sweepStep(n int, scenarios []Capacity, mix *MixCapacity, first *SweepStep) SweepStep {
	s := SweepStep{Replicas: n, MaxRPS: map[string]float64{}, Efficiency: map[string]float64{}, Scenarios: scenarios, Mix: mix, NodesSaturated: true}
	limits := 0
	for _, c := range scenarios {
		s.MaxRPS[c.Scenario] = c.MaxSustainableRPS
		if c.LimitedBy != nil {
			limits++
			s.NodesSaturated = s.NodesSaturated && cpuBound(c.LimitedBy)
		}
	}
	if mix != nil {
		s.MaxRPS["mix"] = mix.MaxTotalRPS
		if mix.LimitedBy != nil {
			limits++
			s.NodesSaturated = s.NodesSaturated && cpuBound(mix.LimitedBy)
		}
	}
	s.NodesSaturated = s.NodesSaturated && limits > 0
	if first == nil {
		first = &s
	}
	for name, rate := range s.MaxRPS {
		if base := first.MaxRPS[name]; base > 0 {
			s.Efficiency[name] = round3(rate / (base * float64(n) / float64(first.Replicas)))
		}
	}
	return s
}

// cpuBound: the limit found was the deployment's CPU ("kratos CPU",
// "password hashing (bcrypt) on kratos CPU"), not the generator's or another process'.
func cpuBound(l *Limit) bool {
	return !l.NotTheDeployment && strings.HasSuffix(l.Resource, " CPU")
}

// applySweep replaces sizing's linear-scaling assumption with the mix's
// efficiency measured at the largest count.
func applySweep(s *Sizing, steps []SweepStep) {
	last := steps[len(steps)-1]
	eff, ok := last.Efficiency["mix"]
	if !ok || eff <= 0 {
		return
	}
	s.ScalingEfficiency = eff
	s.ServeCores = round3(s.TargetRPS / (s.RPSPerServeCore * min(eff, 1)))
	s.Replicas = max(int(math.Ceil(s.ServeCores/s.coresPerReplica)), 1)
	s.sizePostgres()
	s.Assumptions = slices.DeleteFunc(s.Assumptions, func(a string) bool { return a == linearScaling })
	note := fmt.Sprintf("serve scales as measured from %d to %d replicas: %.2f of linear at %d (beyond %d replicas assumed no worse)",
		steps[0].Replicas, last.Replicas, eff, last.Replicas, last.Replicas)
	switch flat := last.MaxRPS["mix"] <= 1.1*steps[0].MaxRPS["mix"]; {
	case last.NodesSaturated:
		note += fmt.Sprintf("; at %d replicas the nodes' CPU was the limit, so this efficiency is of this cluster's cores, not of serve: on nodes with cores to spare it is higher and this sizing errs large", last.Replicas)
	case flat:
		note += fmt.Sprintf("; the sweep was flat (%.1f/s at %d replicas, %.1f/s at %d): the replicas shared what limited the first (the same nodes' cores, Postgres), so this efficiency is of this cluster, not of serve, and this sizing errs large",
			steps[0].MaxRPS["mix"], steps[0].Replicas, last.MaxRPS["mix"], last.Replicas)
	}
	s.Assumptions = append(s.Assumptions, note)
}
