package load

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// metricsFile is the run's figures as OpenMetrics text, for Prometheus
// (textfile collector, promtool, a Pushgateway) and the operator's own
// dashboards: every step's rate, latency, success and CPU shares, and each
// scenario's capacity, labelled so steps line up with their own monitoring.
const metricsFile = "metrics.prom"

// WriteMetrics puts metrics.prom into dir.
func (r *Result) WriteMetrics(dir string) error {
	return os.WriteFile(filepath.Join(dir, metricsFile), []byte(r.OpenMetrics()), 0o644)
}

// metricFamily is one metric's help, type and samples.
type metricFamily struct {
	name, help, unit string
	samples          []metricSample
}

// metricSample is one labelled value of a family.
type metricSample struct {
	labels map[string]string
	value  float64
}

func (f *metricFamily) add(labels map[string]string, v float64) {
	f.samples = append(f.samples, metricSample{labels, v})
}

// lines are the family's samples in the text format, sorted.
func (f *metricFamily) lines() []string {
	var out []string
	for _, s := range f.samples {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(s.labels)) {
			parts = append(parts, fmt.Sprintf("%s=%q", k, s.labels[k]))
		}
		out = append(out, fmt.Sprintf("%s{%s} %g", f.name, strings.Join(parts, ","), s.value))
	}
	sort.Strings(out)
	return out
}

// OpenMetrics renders the figures as text.
func (r *Result) OpenMetrics() string {
	var b strings.Builder
	for _, f := range r.metricFamilies() {
		fmt.Fprintf(&b, "# TYPE %s gauge\n", f.name)
		if f.unit != "" {
			fmt.Fprintf(&b, "# UNIT %s %s\n", f.name, f.unit)
		}
		fmt.Fprintf(&b, "# HELP %s %s\n", f.name, f.help)
		for _, l := range f.lines() {
			b.WriteString(l + "\n")
		}
	}
	b.WriteString("# EOF\n")
	return b.String()
}

// metricFamilies are the figures, every family with samples; the step
// label is its place in the search order, the rate label its offered rate.
func (r *Result) metricFamilies() []*metricFamily {
	fam := func(name, unit, help string) *metricFamily {
		return &metricFamily{name: "kratos_conformance_load_" + name, unit: unit, help: help}
	}
	var (
		target   = fam("step_offered_rate", "", "requests per second the step offered")
		achieved = fam("step_achieved_rate", "", "requests per second sent over the step's window")
		requests = fam("step_requests", "", "requests in the step's window")
		success  = fam("step_success_ratio", "ratio", "validated answers over requests")
		latency  = fam("step_latency_seconds", "seconds", "latency percentiles of the step's window")
		cpu      = fam("step_cpu_share_ratio", "ratio", "CPU share of the whole machine per component (machine: all busy time; others: processes no component owns; interrupts: time no process is charged for)")
		pass     = fam("step_pass", "", "1 when the step met its SLO and gates")
		pgXacts  = fam("step_postgres_transactions_rate", "", "Postgres commits and rollbacks per second in the step's window")
		pgConns  = fam("step_postgres_connections", "", "most client connections Postgres had open at one sample")
		pgLocks  = fam("step_postgres_lock_waits", "", "most backends waiting on a lock at one sample")
		kCPU     = fam("step_kratos_cpu_cores", "", "cores the serve process behind the admin URL used, from its own process_cpu_seconds_total")
		kRSS     = fam("step_kratos_resident_bytes", "bytes", "the serve process's resident memory at the end of the window")
		maxRate  = fam("max_sustainable_rate", "", "highest offered rate that passed; 0 when none did")
		slo      = fam("slo_p99_seconds", "seconds", "the scenario's p99 bound")
		bounds   = fam("bound", "", "bounds measured in the same run")
		sweepMax = fam("replicas_max_sustainable_rate", "", "a replica sweep's max sustainable rate at each count of serve replicas")
		sweepEff = fam("replicas_scaling_efficiency", "", "that rate over what the first count's rate per replica predicts: 1 is linear")
	)
	base := map[string]string{"profile": r.Profile, "workload": shortHash(r.Workload)}
	with := func(extra map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	for _, c := range r.Scenarios {
		sc := with(map[string]string{"scenario": c.Scenario})
		maxRate.add(sc, c.MaxSustainableRPS)
		slo.add(sc, c.SLOMillis/1000)
		for i, s := range c.Steps {
			l := with(map[string]string{"scenario": c.Scenario, "step": fmt.Sprint(i + 1), "rate": fmt.Sprintf("%g", s.TargetRPS)})
			target.add(l, s.TargetRPS)
			achieved.add(l, s.AchievedRPS)
			requests.add(l, float64(s.Requests))
			success.add(l, s.Success)
			pass.add(l, boolFloat(s.Pass))
			for q, v := range map[string]float64{"0.5": s.Latency.P50, "0.9": s.Latency.P90, "0.99": s.Latency.P99, "0.999": s.Latency.P999, "1": s.Latency.Max} {
				latency.add(with(map[string]string{"scenario": c.Scenario, "step": fmt.Sprint(i + 1), "rate": fmt.Sprintf("%g", s.TargetRPS), "quantile": q}), v/1000)
			}
			if k := s.Kratos; k != nil {
				kCPU.add(l, k.CPUCores)
				kRSS.add(l, k.ResidentMB*(1<<20))
			}
			if pg := s.Postgres; pg != nil {
				pgXacts.add(l, pg.TransactionsPerSec)
				pgConns.add(l, float64(pg.Connections))
				pgLocks.add(l, float64(pg.LockWaits))
			}
			shares := maps.Clone(s.CPU)
			if shares != nil && (s.CPUOthers > 0 || s.CPUInterrupts > 0) {
				shares["others"], shares["interrupts"] = s.CPUOthers, s.CPUInterrupts
			}
			for comp, v := range shares {
				cpu.add(with(map[string]string{"scenario": c.Scenario, "step": fmt.Sprint(i + 1), "rate": fmt.Sprintf("%g", s.TargetRPS), "component": comp}), v)
			}
		}
	}
	if mc := r.Mix; mc != nil {
		maxRate.add(with(map[string]string{"scenario": "mix"}), mc.MaxTotalRPS)
		for i, s := range mc.Steps {
			for _, f := range s.Flows {
				l := with(map[string]string{"scenario": "mix/" + f.Scenario, "step": fmt.Sprint(i + 1), "rate": fmt.Sprintf("%g", s.TotalRPS)})
				target.add(l, f.TargetRPS)
				achieved.add(l, f.AchievedRPS)
				success.add(l, f.Success)
				pass.add(l, boolFloat(f.Pass))
				latency.add(with(map[string]string{"scenario": "mix/" + f.Scenario, "step": fmt.Sprint(i + 1), "rate": fmt.Sprintf("%g", s.TotalRPS), "quantile": "0.99"}), f.Latency.P99/1000)
			}
		}
	}
	for _, st := range r.Sweep {
		for sc, v := range st.MaxRPS {
			l := with(map[string]string{"scenario": sc, "replicas": fmt.Sprint(st.Replicas)})
			sweepMax.add(l, v)
			sweepEff.add(l, st.Efficiency[sc])
		}
	}
	bounds.add(with(map[string]string{"bound": "hash_compares_per_second", "hasher": r.Bounds.Hasher}), r.Bounds.HashComparesPerSec)
	bounds.add(with(map[string]string{"bound": "generator_max_rate"}), r.Bounds.GeneratorMaxRPS)
	var out []*metricFamily
	for _, f := range []*metricFamily{target, achieved, requests, success, latency, cpu, pass, pgXacts, pgConns, pgLocks, kCPU, kRSS, maxRate, slo, bounds, sweepMax, sweepEff} {
		if len(f.samples) > 0 {
			out = append(out, f)
		}
	}
	return out
}

func shortHash(h string) string { return h[:min(12, len(h))] }

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
