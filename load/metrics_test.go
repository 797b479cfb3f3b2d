package load

import (
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// metrics.prom parses as Prometheus text, ends with OpenMetrics' EOF, and
// carries every step's figures under its scenario, step and rate.
func TestMetricsCarryEveryStepAndParse(t *testing.T) {
	r := &Result{Profile: "capacity", Workload: "0123456789abcdef", Bounds: Bounds{Hasher: "bcrypt cost 12", HashComparesPerSec: 7.4},
		Scenarios: []Capacity{Capacity{Scenario: "login", SLOMillis: 1000, Steps: []Step{
			{TargetRPS: 4, AchievedRPS: 4, Requests: 80, Success: 1, Pass: true, Latency: Latency{P99: 300}, CPU: map[string]float64{"kratos": 0.6, "machine": 0.7}},
			{TargetRPS: 8, AchievedRPS: 7.1, Requests: 142, Success: 0.97, Latency: Latency{P99: 2100}},
		}}.finish()},
		Sweep: []SweepStep{{Replicas: 1, MaxRPS: map[string]float64{"login": 4}, Efficiency: map[string]float64{"login": 1}},
			{Replicas: 2, MaxRPS: map[string]float64{"login": 6}, Efficiency: map[string]float64{"login": 0.75}}}}
	text := r.OpenMetrics()
	if !strings.HasSuffix(text, "# EOF\n") {
		t.Error("metrics.prom must end with # EOF (OpenMetrics)")
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("metrics.prom does not parse: %v\n%s", err, text)
	}
	for name, want := range map[string]int{"kratos_conformance_load_step_offered_rate": 2, "kratos_conformance_load_step_latency_seconds": 10,
		"kratos_conformance_load_step_cpu_share_ratio": 2, "kratos_conformance_load_max_sustainable_rate": 1, "kratos_conformance_load_bound": 2, "kratos_conformance_load_replicas_scaling_efficiency": 2} {
		if got := len(fams[name].GetMetric()); got != want {
			t.Errorf("%s: %d samples, want %d", name, got, want)
		}
	}
	for _, want := range []string{`kratos_conformance_load_max_sustainable_rate{profile="capacity",scenario="login",workload="0123456789ab"} 4`,
		`kratos_conformance_load_step_latency_seconds{profile="capacity",quantile="0.99",rate="8",scenario="login",step="2",workload="0123456789ab"} 2.1`} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("metrics.prom lacks %s", want)
		}
	}
}
