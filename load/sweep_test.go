package load

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A sweep's efficiency is each count's rate over the first count's rate
// per replica, and it replaces sizing's linear-scaling assumption.
func TestSweepMeasuresScalingAndSizesWithIt(t *testing.T) {
	cpu := &Limit{Resource: "kratos CPU"}
	at := func(n int, whoami, mix float64, first *SweepStep) SweepStep {
		return sweepStep(n, []Capacity{{Scenario: "whoami-token", MaxSustainableRPS: whoami, LimitedBy: cpu}}, &MixCapacity{MaxTotalRPS: mix, LimitedBy: cpu}, first)
	}
	one := at(1, 100, 50, nil)
	three := at(3, 150, 75, &one)
	if one.Efficiency["mix"] != 1 || three.Efficiency["whoami-token"] != 0.5 || three.Efficiency["mix"] != 0.5 || !three.NodesSaturated {
		t.Errorf("sweep %+v then %+v: want efficiency 1, then 0.5 with the nodes saturated", one, three)
	}
	if generator := sweepStep(2, []Capacity{{Scenario: "w", MaxSustainableRPS: 1, LimitedBy: &Limit{Resource: "load generator CPU", NotTheDeployment: true}}}, nil, &one); generator.NodesSaturated {
		t.Error("a generator limit is not the nodes' CPU")
	}
	s := &Sizing{TargetRPS: 100, RPSPerServeCore: 10, ServeCores: 10, Replicas: 10, ServeCoresAtMax: 1, PostgresConnsAtMax: 5, PostgresConns: 50, coresPerReplica: 1, Assumptions: []string{linearScaling}}
	applySweep(s, []SweepStep{one, three})
	if s.ScalingEfficiency != 0.5 || s.ServeCores != 20 || s.Replicas != 20 || s.PostgresConns != 100 {
		t.Errorf("sizing %+v: want efficiency 0.5, 20 cores, 20 replicas, 100 Postgres connections", s)
	}
	dir := t.TempDir()
	if err := (&Result{Profile: "mix", Sweep: []SweepStep{one, three}}).Write(dir); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "load.html")); !strings.Contains(string(b), "whoami-token 150.0 (0.50)") {
		t.Error("load.html lacks the sweep's rate and efficiency at 3 replicas")
	}
	if slices.Contains(s.Assumptions, linearScaling) || !slices.ContainsFunc(s.Assumptions, func(a string) bool { return strings.Contains(a, "nodes' CPU was the limit") }) {
		t.Errorf("assumptions %v: want the measured efficiency, flagged as the nodes' limit", s.Assumptions)
	}
}
