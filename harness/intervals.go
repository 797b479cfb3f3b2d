package harness

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Intervals holds every timeout and poll interval of the suite, by name, so no
// spec carries a literal one. Override with -kc.intervals=name=duration,...
type Intervals struct {
	Build         time.Duration // building Kratos or Mailpit from the module proxy (cold: minutes)
	StackUp       time.Duration // the whole Up of a provider
	ProcessStep   time.Duration // one run-to-completion step: initdb, migrate
	PostgresReady time.Duration
	RedisReady    time.Duration
	MailpitReady  time.Duration
	KratosReady   time.Duration // admin /admin/health/ready and public /health/alive
	CourierReady  time.Duration
	Teardown      time.Duration // stopping every component
	StopGrace     time.Duration // SIGTERM to SIGKILL for one process
	HTTPRequest   time.Duration // one request from a spec
	MailArrival   time.Duration // a courier mail reaching Mailpit
	MailSettle    time.Duration // after a mail arrived, how long no duplicate may follow (several courier polls)
	LifespanWait  time.Duration // the longest flow lifespan or privileged window a spec waits out
	FaultDetect   time.Duration // a stopped dependency showing in Kratos' readiness
	HungRestart   time.Duration // the bound PROBE-002 states: a hung serve restarted by its supervisor within this
	CourierGiveUp time.Duration // the courier abandoning a message it cannot send
	FaultHold     time.Duration // how long an outage under load lasts (and the calm before it)
	Poll          time.Duration // between two tries of any wait
	EngineReady   time.Duration // kind: the private Docker engine answering
	ClusterUp     time.Duration // kind: create the cluster until its node is Ready
	Rollout       time.Duration // kind: one Deployment becoming available
	InClusterRun  time.Duration // kubernetes: the suite's Job in the cluster, from created to its report fetched
	LoadAfter     time.Duration // -kc.load-after: the other stack sharing the machine finishing before the load stage
	OfflineProbe  time.Duration // -kc.kratos-config: one connection to a web hook's host, to tell whether it answers from here
}

// DefaultIntervals fit a 2-core machine with warm build caches.
func DefaultIntervals() Intervals {
	return Intervals{
		Build:         20 * time.Minute,
		StackUp:       3 * time.Minute,
		ProcessStep:   2 * time.Minute,
		PostgresReady: 30 * time.Second,
		RedisReady:    10 * time.Second,
		MailpitReady:  15 * time.Second,
		KratosReady:   60 * time.Second,
		CourierReady:  30 * time.Second,
		Teardown:      30 * time.Second,
		StopGrace:     10 * time.Second,
		HTTPRequest:   15 * time.Second,
		MailArrival:   20 * time.Second,
		MailSettle:    5 * time.Second,
		LifespanWait:  15 * time.Second,
		FaultDetect:   30 * time.Second,
		HungRestart:   2 * time.Minute,
		CourierGiveUp: 2 * time.Minute,
		FaultHold:     3 * time.Second,
		Poll:          100 * time.Millisecond,
		EngineReady:   time.Minute,
		ClusterUp:     3 * time.Minute,
		Rollout:       3 * time.Minute,
		InClusterRun:  30 * time.Minute,
		LoadAfter:     5 * time.Minute,
		OfflineProbe:  3 * time.Second,
	}
}

func (iv *Intervals) byName() map[string]*time.Duration {
	return map[string]*time.Duration{
		"build": &iv.Build, "stack-up": &iv.StackUp, "process-step": &iv.ProcessStep,
		"postgres-ready": &iv.PostgresReady, "redis-ready": &iv.RedisReady, "mailpit-ready": &iv.MailpitReady,
		"kratos-ready": &iv.KratosReady, "courier-ready": &iv.CourierReady, "teardown": &iv.Teardown,
		"stop-grace": &iv.StopGrace, "http-request": &iv.HTTPRequest, "mail-arrival": &iv.MailArrival, "mail-settle": &iv.MailSettle,
		"lifespan-wait": &iv.LifespanWait, "fault-detect": &iv.FaultDetect, "hung-restart": &iv.HungRestart, "courier-give-up": &iv.CourierGiveUp,
		"fault-hold": &iv.FaultHold, "poll": &iv.Poll,
		"engine-ready": &iv.EngineReady, "cluster-up": &iv.ClusterUp, "rollout": &iv.Rollout,
		"in-cluster-run": &iv.InClusterRun, "load-after": &iv.LoadAfter, "offline-probe": &iv.OfflineProbe,
	}
}

// Names lists the interval names accepted by Set.
func (iv *Intervals) Names() []string {
	var names []string
	for n := range iv.byName() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// String renders the intervals as Set accepts them.
func (iv *Intervals) String() string {
	var parts []string
	m := iv.byName()
	for _, n := range iv.Names() {
		parts = append(parts, n+"="+m[n].String())
	}
	return strings.Join(parts, ",")
}

// Set parses "name=duration,name=duration", e.g. "kratos-ready=90s,poll=250ms".
func (iv *Intervals) Set(s string) error {
	m := iv.byName()
	for _, kv := range strings.Split(s, ",") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		name, val, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("interval %q is not name=duration", kv)
		}
		p, known := m[strings.TrimSpace(name)]
		if !known {
			return fmt.Errorf("unknown interval %q; known: %s", name, strings.Join(iv.Names(), ", "))
		}
		d, err := time.ParseDuration(strings.TrimSpace(val))
		if err != nil || d <= 0 {
			return fmt.Errorf("interval %s=%q is not a positive duration like 30s", name, val)
		}
		*p = d
	}
	return nil
}
