package load

import (
	"runtime"
	"slices"
	"strings"
	"testing"
)

// A target is sized from the mix's highest passing step, with its
// assumptions, and refused without a rate to size for.
func TestSizingScalesTheMeasuredMix(t *testing.T) {
	cores := float64(runtime.NumCPU())
	step := Step{CPU: map[string]float64{"kratos": 1 / cores, machine: 0.9}, Postgres: &PostgresFigures{Connections: 10}}
	mc := MixCapacity{MaxTotalRPS: 200, Steps: []MixStep{{TotalRPS: 200, Pass: true, Flows: []Step{step}}, {TotalRPS: 400, Flows: []Step{step}}}}
	s, err := size(Target{Users: 1e6, RequestsPerUserPerDay: 86.4, PeakFactor: 3, CoresPerReplica: 2}, mc)
	if err != nil {
		t.Fatal(err)
	}
	// 1e6 x 86.4 / 86400 x 3 = 3000/s; 200/s per serve core: 15 cores, 8 replicas of 2.
	if s.TargetRPS != 3000 || s.RPSPerServeCore != 200 || s.ServeCores != 15 || s.Replicas != 8 || s.PostgresConns != 80 {
		t.Errorf("sizing %+v, want 3000/s, 200/s per core, 15 cores, 8 replicas, 80 connections", s)
	}
	if !slices.ContainsFunc(s.Assumptions, func(a string) bool { return strings.Contains(a, "linearly") }) {
		t.Errorf("the linear-scaling assumption is not stated: %v", s.Assumptions)
	}
	if _, err := size(Target{Rate: 10}, MixCapacity{Steps: []MixStep{{TotalRPS: 50, Flows: []Step{step}}}}); err == nil {
		t.Error("sizing from a mix with no passing step must be refused")
	}
	for _, bad := range []Target{{}, {Users: 10}, {Rate: 5, Users: 10, RequestsPerUserPerDay: 1}} {
		if bad.validate() == nil {
			t.Errorf("target %+v: want refused", bad)
		}
	}
}
