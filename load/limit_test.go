package load

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// limited_by names what ran out at the first failing rate, from that step's
// figures, and says when the generator itself was the limit.
func TestLimitNamesWhatRanOut(t *testing.T) {
	cores := float64(runtime.NumCPU())
	ok := Step{TargetRPS: 4, Pass: true}
	failing := func(cpu map[string]float64, why ...string) Capacity {
		return Capacity{Steps: []Step{ok, {TargetRPS: 16, Why: why, CPU: cpu}, {TargetRPS: 8, Why: why, CPU: cpu}}}.finish()
	}
	bcrypt := Bounds{Hasher: "bcrypt cost 12", HashComparesPerSec: 7.5}
	for _, tc := range []struct {
		name      string
		c         Capacity
		hash      bool
		resource  string
		evidence  string
		generator bool
	}{
		{"every step passed", Capacity{Steps: []Step{ok}}.finish(), false, "not reached", "up to 4.0/s", false},
		{"sending fell behind", failing(nil, "sending overran the window by 5.0%: the generator fell behind"), false, "load generator", "at 8.0/s", true},
		{"no CPU figures", failing(nil, "p99 90.0 ms > SLO 50 ms"), false, "unknown", "no per-component CPU", false},
		{"machine not busy", failing(map[string]float64{"kratos": 0.3, "machine": 0.4}, "success 90.00% < 99.9%"), false, "not CPU", "40% busy", false},
		{"kratos saturates, bcrypt", failing(map[string]float64{"kratos": 0.8, "postgres": 0.1, "generator": 0.02, "machine": 0.95}, "p99 2000.0 ms > SLO 1000 ms"), true,
			"password hashing (bcrypt cost 12) on kratos CPU", "4.0/s sustained is 0.53 of it", false},
		{"postgres connections at their limit", withPG(failing(map[string]float64{"kratos": 0.3, "machine": 0.5}, "success 80.00% < 99.9%"), PostgresFigures{Connections: 98, MaxConnections: 100}),
			false, "postgres connections", "98 of its 100 connections", false},
		{"postgres lock waits", withPG(failing(map[string]float64{"kratos": 0.3, "machine": 0.5}, "p99 90.0 ms > SLO 50 ms"), PostgresFigures{Connections: 10, MaxConnections: 100, LockWaits: 4}),
			false, "postgres locks", "4 waiting on locks", false},
		{"another process takes the machine", failing(map[string]float64{"kratos": 0.25, "generator": 0.02, "machine": 0.98}, "p99 90.0 ms > SLO 50 ms"), false, "other processes' CPU", "shared machine", true},
		{"mails queued faster than sent", withMail(failing(map[string]float64{"kratos": 0.2, "machine": 0.3}, "170 of 170 mails did not reach the inbox"), MailFigures{Queued: 170}),
			false, "courier (mail delivery)", "0 of 170 mails", false},
		{"mails delivered late and later", withMail(failing(map[string]float64{"kratos": 0.2, "machine": 0.3}, "the mails' delay grew"), MailFigures{Queued: 170, Delivered: 170, Climb: 0.5, ClimbStdErr: 0.02}),
			false, "courier (mail delivery)", "growing 0.50 s per second", false},
		{"answers slow, every request in flight awaiting one", withInFlight(failing(map[string]float64{"kratos": 0.7, "postgres": 0.15, "generator": 0.05, "machine": 0.97},
			"sending fell 200 ms behind its schedule mid-window (at most 100 ms): the rate was not held"), 240, 256), false, "kratos CPU", "240 of its 256 requests in flight", false},
		{"sending behind with room in flight", withInFlight(failing(map[string]float64{"kratos": 0.7, "generator": 0.25, "machine": 0.97},
			"sending fell 200 ms behind its schedule mid-window (at most 100 ms): the rate was not held"), 40, 256), false, "load generator", "did not send on schedule", true},
		{"generator competes", failing(map[string]float64{"kratos": 0.3, "generator": 0.6, "machine": 0.95}, "p99 90.0 ms > SLO 50 ms"), false, "load generator CPU", "generator used", true},
		{"generator pods compete", failing(map[string]float64{"kratos": 0.35, GeneratorPods: 0.4, "generator": 0.1, "machine": 0.95}, "p99 90.0 ms > SLO 50 ms"), false, "load generator CPU", fmt.Sprintf("generator used %.2f of", 0.5*cores), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := limitOf(tc.c, bcrypt, true, tc.hash)
			if l.Resource != tc.resource || !strings.Contains(l.Evidence, tc.evidence) || l.NotTheDeployment != tc.generator {
				t.Errorf("got %+v, want resource %q, evidence with %q, generator %v", l, tc.resource, tc.evidence, tc.generator)
			}
		})
	}
	if cores > 0 {
		got := cpuBreakdown(&Step{CPU: map[string]float64{"kratos": 0.5, "postgres": 0.25, "machine": 1}, CPUUnwatched: map[string]float64{"go": 0.2, "dockerd": 0.01}, CPUInterrupts: 0.04}, cores)
		if !strings.Contains(got, "kratos") || !strings.Contains(got, fmt.Sprintf("other %.2f (interrupts %.2f, go %.2f, dockerd", 0.25*cores, 0.04*cores, 0.2*cores)) {
			t.Errorf("breakdown %q names neither kratos nor who the rest was", got)
		}
	}
}

func withPG(c Capacity, pg PostgresFigures) Capacity {
	for i := range c.Steps {
		c.Steps[i].Postgres = &pg
	}
	return c
}

func withInFlight(c Capacity, inFlight float64, max uint64) Capacity {
	for i := range c.Steps {
		c.Steps[i].InFlight, c.Steps[i].MaxInFlight = inFlight, max
	}
	return c
}

func withMail(c Capacity, m MailFigures) Capacity {
	for i := range c.Steps {
		c.Steps[i].Mail, c.Steps[i].Success = &m, 1
	}
	return c
}
