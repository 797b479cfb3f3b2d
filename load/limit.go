package load

import (
	"cmp"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
)

// Limit names what bounded a scenario's rate, with the figures that show it.
type Limit struct {
	Resource string `json:"resource"`
	Evidence string `json:"evidence"`
	// NotTheDeployment: the load generator or another process on the
	// machine was the limit, so the max sustainable rate understates the deployment.
	NotTheDeployment bool `json:"not_the_deployment,omitempty"`
}

// GeneratorPods is the CPU component of the run's generator pods
// (-kc.load-generators), beside "generator", this process.
const GeneratorPods = "generator-pods"

// Saturation thresholds: a machine this busy has no CPU left to give; a
// step whose sending fell behind measured the generator.
const (
	saturatedMachine = 0.9
	generatorHeavy   = 0.5 // of the busy machine
	inFlightTaken    = 0.8 // of the cap on requests in flight, on average over the window
)

// limitOf reads the first failing step above the max sustainable rate (the
// step where the rate stopped) for what ran out. hashPerRequest: each
// request is one password-hash compare, so the hash bound applies.
func limitOf(c Capacity, b Bounds, sameMachine, hashPerRequest bool) Limit {
	var stop *Step
	for i := range c.Steps {
		s := &c.Steps[i]
		if !s.Pass && s.TargetRPS > c.MaxSustainableRPS && (stop == nil || s.TargetRPS < stop.TargetRPS) {
			stop = s
		}
	}
	if stop == nil {
		return Limit{Resource: "not reached", Evidence: fmt.Sprintf("every step passed, up to %.1f/s (the workload's max_rate): the deployment's limit is higher", c.MaxSustainableRPS)}
	}
	why := strings.Join(stop.Why, "; ")
	held := ""
	if slices.ContainsFunc(stop.Why, func(w string) bool {
		return strings.Contains(w, "generator fell behind") || strings.Contains(w, "rate was not held")
	}) {
		if !stop.awaitingAnswers() {
			return Limit{Resource: "load generator", NotTheDeployment: true,
				Evidence: fmt.Sprintf("at %.1f/s the generator did not send on schedule (%s): the deployment may sustain more", stop.TargetRPS, why)}
		}
		held = fmt.Sprintf("; sending fell behind with %.0f of its %d requests in flight awaiting answers on average: slow answers, not the generator, held the rate", stop.InFlight, stop.MaxInFlight)
	}
	l := limitAt(stop, c, b, sameMachine, hashPerRequest, why)
	l.Evidence += held
	return l
}

// awaitingAnswers: the generator's cap on requests in flight was (nearly)
// all taken by requests awaiting answers, so it could not send on schedule
// because the deployment answered slowly (Little's law), not for want of CPU.
func (s *Step) awaitingAnswers() bool {
	return s.MaxInFlight > 0 && s.InFlight >= inFlightTaken*float64(s.MaxInFlight)
}

// limitAt names the resource that ran out at stop, the first failing step.
func limitAt(stop *Step, c Capacity, b Bounds, sameMachine, hashPerRequest bool, why string) Limit {
	if m := stop.Mail; m != nil && (m.Delivered < m.Queued || m.fellBehind() != "") && stop.Success >= minSuccess {
		return Limit{Resource: "courier (mail delivery)", Evidence: fmt.Sprintf("at %.1f/s every answer was right but %d of %d mails reached the inbox within the mail-arrival interval, their delay growing %.2f s per second of the window: the courier sends fewer mails a second than the flow queues (its pull_count per pull_wait; see RACE-002's courier figures)",
			stop.TargetRPS, m.Delivered, m.Queued, m.Climb)}
	}
	if pg := stop.Postgres; pg != nil && pg.MaxConnections > 0 && float64(pg.Connections) >= 0.9*float64(pg.MaxConnections) {
		return Limit{Resource: "postgres connections", Evidence: fmt.Sprintf("at %.1f/s Postgres had %d of its %d connections open (%s): %s",
			stop.TargetRPS, pg.Connections, pg.MaxConnections, pgEvidence(pg), why)}
	}
	busy, measured := stop.CPU[machine]
	if !measured {
		ev := fmt.Sprintf("at %.1f/s: %s; this provider gives no per-component CPU figures, so nothing is attributed", stop.TargetRPS, why)
		if stop.CPUNote != "" {
			ev = fmt.Sprintf("at %.1f/s: %s; %s, so nothing is attributed", stop.TargetRPS, why, stop.CPUNote)
		}
		if k := stop.Kratos; k != nil {
			ev += fmt.Sprintf("; the serve process behind the admin URL used %.2f cores and %.0f MiB (its own metrics)", k.CPUCores, k.ResidentMB)
		}
		return Limit{Resource: "unknown", Evidence: ev}
	}
	cores := cmp.Or(stop.CPUCores, float64(runtime.NumCPU()))
	top := topComponent(stop.CPU)
	spent := cpuBreakdown(stop, cores)
	if stop.CPUNote != "" {
		spent += " (" + stop.CPUNote + ")"
	}
	if busy < saturatedMachine {
		if pg := stop.Postgres; pg != nil && (pg.LockWaits > 0 || pg.Deadlocks > 0) {
			return Limit{Resource: "postgres locks", Evidence: fmt.Sprintf("at %.1f/s the machine was %.0f%% busy (%s) and %s: %s",
				stop.TargetRPS, busy*100, spent, pgEvidence(pg), why)}
		}
		return Limit{Resource: "not CPU", Evidence: fmt.Sprintf("at %.1f/s the machine was %.0f%% busy (%s; %s) yet the step failed: %s; look at connection pools and the network",
			stop.TargetRPS, busy*100, spent, pgEvidence(stop.Postgres), why)}
	}
	if other := busy - watched(stop.CPU); other > stop.CPU[top] {
		return Limit{Resource: "other processes' CPU", NotTheDeployment: true,
			Evidence: fmt.Sprintf("at %.1f/s the machine was %.0f%% busy, most of it not the deployment's nor the generator's (%s): the figure is of a shared machine, not of the deployment", stop.TargetRPS, busy*100, spent)}
	}
	if gen := stop.CPU["generator"] + stop.CPU[GeneratorPods]; top == "generator" || top == GeneratorPods || gen >= generatorHeavy*busy {
		return Limit{Resource: "load generator CPU", NotTheDeployment: true,
			Evidence: fmt.Sprintf("at %.1f/s the machine was %.0f%% busy and the generator used %.2f of %.0f cores (%s): the generator competed with the deployment", stop.TargetRPS, busy*100, gen*cores, cores, spent)}
	}
	l := Limit{Resource: top + " CPU", Evidence: fmt.Sprintf("at %.1f/s the machine was %.0f%% busy: %s; %s", stop.TargetRPS, busy*100, spent, pgEvidence(stop.Postgres))}
	if hashPerRequest && sameMachine && b.HashComparesPerSec > 0 {
		l.Resource = fmt.Sprintf("password hashing (%s) on %s CPU", b.Hasher, top)
		l.Evidence += fmt.Sprintf("; %s bounds this machine at %.1f compares/s, and %.1f/s sustained is %.2f of it", b.Hasher, b.HashComparesPerSec, c.MaxSustainableRPS, c.MaxSustainableRPS/b.HashComparesPerSec)
	}
	return l
}

// watched is the share of every watched component together.
func watched(shares map[string]float64) float64 {
	var sum float64
	for n, v := range shares {
		if n != machine {
			sum += v
		}
	}
	return sum
}

// topComponent is the component, not the machine, with the largest share.
func topComponent(shares map[string]float64) string {
	var names []string
	for n := range shares {
		if n != machine {
			names = append(names, n)
		}
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(cmp.Compare(shares[b], shares[a]), strings.Compare(a, b)) })
	if len(names) == 0 {
		return "unknown"
	}
	return names[0]
}

// cpuBreakdown lists each component's cores in a step, largest first, and
// what no watched component accounts for: the machine's interrupts and the
// largest of the other processes.
func cpuBreakdown(step *Step, cores float64) string {
	shares := step.CPU
	names := slices.Sorted(maps.Keys(shares))
	slices.SortStableFunc(names, func(a, b string) int { return cmp.Compare(shares[b], shares[a]) })
	var parts []string
	var sum float64
	for _, n := range names {
		if n == machine || shares[n] < 0.005 {
			continue
		}
		sum += shares[n]
		parts = append(parts, fmt.Sprintf("%s %.2f", n, shares[n]*cores))
	}
	other := fmt.Sprintf("other %.2f", max(shares[machine]-sum, 0)*cores)
	var who []string
	if step.CPUInterrupts >= 0.005 {
		who = append(who, fmt.Sprintf("interrupts %.2f", step.CPUInterrupts*cores))
	}
	unwatched := step.CPUUnwatched
	names = slices.Sorted(maps.Keys(unwatched))
	slices.SortStableFunc(names, func(a, b string) int { return cmp.Compare(unwatched[b], unwatched[a]) })
	for _, n := range names[:min(3, len(names))] {
		who = append(who, fmt.Sprintf("%s %.2f", n, unwatched[n]*cores))
	}
	if len(who) > 0 {
		other += " (" + strings.Join(who, ", ") + ")"
	}
	return strings.Join(append(parts, other), ", ") + fmt.Sprintf(" of %.0f cores", cores)
}

// pgEvidence sums up Postgres during the step, or says it was not read.
func pgEvidence(pg *PostgresFigures) string {
	if pg == nil {
		return "Postgres not read"
	}
	return fmt.Sprintf("Postgres %.0f transactions/s, at most %d of %d connections open and %d active, %d waiting on locks, %d deadlocks",
		pg.TransactionsPerSec, pg.Connections, pg.MaxConnections, pg.Active, pg.LockWaits, pg.Deadlocks)
}
