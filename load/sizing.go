package load

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"runtime"
)

// Target is the load a workload must plan for: a total rate of its mix, or
// users with how often each one sends a request and the peak over average.
type Target struct {
	Rate                  float64 `yaml:"rate"` // requests per second at peak, all flows
	Users                 float64 `yaml:"users"`
	RequestsPerUserPerDay float64 `yaml:"requests_per_user_per_day"`
	PeakFactor            float64 `yaml:"peak_factor"` // peak rate over the day's average; 0: 1
	// CoresPerReplica is each serve replica's CPU (its limit); 0: 1.
	CoresPerReplica float64 `yaml:"cores_per_replica"`
}

func (t Target) validate() error {
	switch {
	case t.Rate < 0 || t.Users < 0 || t.RequestsPerUserPerDay < 0 || t.PeakFactor < 0 || t.CoresPerReplica < 0:
		return errors.New("target: rate, users, requests_per_user_per_day, peak_factor and cores_per_replica must not be negative")
	case t.Rate > 0 && t.Users > 0:
		return errors.New("target: give rate or users, not both")
	case t.Rate == 0 && (t.Users == 0 || t.RequestsPerUserPerDay == 0):
		return errors.New("target: give rate (requests per second at peak), or users with requests_per_user_per_day")
	}
	return nil
}

// PeakRate is the target's requests per second at peak.
func (t Target) PeakRate() float64 {
	if t.Rate > 0 {
		return t.Rate
	}
	return t.Users * t.RequestsPerUserPerDay / 86400 * max(t.PeakFactor, 1)
}

// Sizing answers "how big must it be" for a target, from the mix measured
// in this run, with every assumption it rests on.
type Sizing struct {
	TargetRPS          float64 `json:"target_rps"`
	MeasuredRPS        float64 `json:"measured_max_total_rps"`
	ServeCoresAtMax    float64 `json:"serve_cores_at_max"`
	RPSPerServeCore    float64 `json:"rps_per_serve_core"`
	ServeCores         float64 `json:"serve_cores_needed"`
	Replicas           int     `json:"serve_replicas"`
	PostgresConnsAtMax int     `json:"postgres_connections_at_max,omitempty"`
	PostgresConns      int     `json:"postgres_connections_needed,omitempty"`
	// ScalingEfficiency is the mix's measured by a replica sweep; 0: not measured, linear assumed.
	ScalingEfficiency float64  `json:"scaling_efficiency,omitempty"`
	Assumptions       []string `json:"assumptions"`
	coresPerReplica   float64
}

// linearScaling is sizing's assumption until a replica sweep measures it.
const linearScaling = "serve scales linearly with cores: not measured (a replica sweep, -kc.load-replicas on kind, measures it)"

// size scales the mix's highest passing step to the target. It needs that
// step's serve CPU (per-component shares, or serve's own metrics).
func size(t Target, mc MixCapacity) (*Sizing, error) {
	var at *MixStep
	for i := range mc.Steps {
		if s := &mc.Steps[i]; s.Pass && s.TotalRPS == mc.MaxTotalRPS {
			at = s
		}
	}
	if at == nil || len(at.Flows) == 0 {
		return nil, errors.New("no step of the mix passed: there is no measured rate to size from")
	}
	f := at.Flows[0] // the flows share one window: the machine's figures are any flow's
	s := &Sizing{TargetRPS: round3(t.PeakRate()), MeasuredRPS: mc.MaxTotalRPS}
	switch {
	case f.CPU["kratos"] > 0 && f.CPU[machine] > 0:
		s.ServeCoresAtMax = round3(f.CPU["kratos"] * cmp.Or(f.CPUCores, float64(runtime.NumCPU())))
		s.Assumptions = append(s.Assumptions, "serve's CPU at the max is what its processes or pods used (/proc, or the kubelets' summary)")
	case f.Kratos != nil && f.Kratos.CPUCores > 0:
		s.ServeCoresAtMax = f.Kratos.CPUCores
		s.Assumptions = append(s.Assumptions, "serve's CPU at the max is one serve process's own process_cpu_seconds_total: with several replicas behind the admin URL it undercounts")
	default:
		return nil, errors.New("the mix's max step has no serve CPU figure (neither /proc shares nor serve's metrics)")
	}
	s.RPSPerServeCore = round3(s.MeasuredRPS / s.ServeCoresAtMax)
	s.ServeCores = round3(s.TargetRPS / s.RPSPerServeCore)
	per := t.CoresPerReplica
	if per == 0 {
		per = 1
		s.Assumptions = append(s.Assumptions, "each serve replica has 1 core (target.cores_per_replica)")
	}
	s.coresPerReplica = per
	s.Replicas = max(int(math.Ceil(s.ServeCores/per)), 1)
	if pg := f.Postgres; pg != nil && pg.Connections > 0 {
		s.PostgresConnsAtMax = pg.Connections
		s.sizePostgres()
		s.Assumptions = append(s.Assumptions, "each replica holds as many Postgres connections as serve held at the max (the DSN's pool settings unchanged)")
	}
	s.Assumptions = append(s.Assumptions,
		linearScaling,
		"the traffic has this workload's mix; Postgres, Redis and the network keep up (their own capacity is not sized)")
	if t.Users > 0 {
		s.Assumptions = append(s.Assumptions, fmt.Sprintf("%.0f users x %.0f requests a day / 86400 s x peak factor %.1f", t.Users, t.RequestsPerUserPerDay, max(t.PeakFactor, 1)))
	}
	return s, nil
}

// sizePostgres scales the connections serve held at the max to the replicas.
func (s *Sizing) sizePostgres() {
	if s.PostgresConnsAtMax > 0 {
		s.PostgresConns = int(math.Ceil(float64(s.PostgresConnsAtMax) * float64(s.Replicas) / max(1, math.Ceil(s.ServeCoresAtMax/s.coresPerReplica))))
	}
}
