package load

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The report's table lists steps by offered rate with their search order,
// and the knee chart marks the knee, the max sustainable rate and the SLO.
func TestReportOrdersStepsByRateAndMarksTheSearch(t *testing.T) {
	step := func(rate, p99 float64, pass bool) Step {
		return Step{TargetRPS: rate, Pass: pass, Latency: Latency{P99: p99}}
	}
	c := Capacity{Scenario: "whoami-token", SLOMillis: 50,
		Steps: []Step{step(800, 20, true), step(1600, 90, false), step(1200, 60, false), step(1000, 45, true)}}.finish()
	dir := t.TempDir()
	if err := (&Result{Profile: "capacity", Scenarios: []Capacity{c}}).Write(dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "load.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	var rates []string
	for _, m := range regexp.MustCompile(`<tr><td>(\d+)</td><td>([\d.]+)</td>`).FindAllStringSubmatch(page, -1) {
		rates = append(rates, m[1]+"@"+m[2])
	}
	if got, want := strings.Join(rates, " "), "1@800.0 4@1000.0 3@1200.0 2@1600.0"; got != want {
		t.Errorf("table rows (order@rate) %q, want %q", got, want)
	}
	for _, want := range []string{"max sustainable 1000/s", "knee 1000/s", "SLO p99 50 ms", `stroke-dasharray`} {
		if !strings.Contains(page, want) {
			t.Errorf("load.html lacks %q", want)
		}
	}
}

// A scenario of one step draws its percentiles and its window second by
// second, not a curve of one point.
func TestOneStepDrawsItsWindow(t *testing.T) {
	rec, err := newStepRecord("", "x", "x")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 30 {
		rec.Add(&vegeta.Result{Timestamp: start.Add(time.Duration(i) * 100 * time.Millisecond), Latency: time.Duration(i+1) * time.Millisecond})
	}
	s := Step{TargetRPS: 10, Pass: true, Requests: 30, Latency: Latency{P50: 15, P99: 30}, Timeline: rec.Timeline()}
	if len(s.Timeline) != 3 || s.Timeline[0].Answers != 10 || s.Timeline[2].P99 < s.Timeline[0].P99 {
		t.Fatalf("timeline %+v, want 3 seconds of 10 answers with latency rising", s.Timeline)
	}
	dir := t.TempDir()
	c := Capacity{Scenario: "whoami-token", SLOMillis: 50, Steps: []Step{s}}.finish()
	if err := (&Result{Profile: "smoke", Scenarios: []Capacity{c}}).Write(dir); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "load.html"))
	for _, want := range []string{"latency by percentile", "latency second by second", "answers second by second"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("load.html lacks %q", want)
		}
	}
	if strings.Contains(string(b), "latency vs offered load") {
		t.Error("a single step still draws a curve against offered load")
	}
}

// Steps with CPU figures draw each component's cores and the machine's
// against offered load; steps without draw no empty chart.
func TestAttributionChartDrawsEachComponent(t *testing.T) {
	step := func(rate, kratos float64) Step {
		return Step{TargetRPS: rate, Pass: true, CPUCores: 2, CPU: map[string]float64{"kratos": kratos, "postgres": 0.1, machine: kratos + 0.12}}
	}
	page := string(attributionChart("login: CPU per component vs offered load", offeredRate, []cpuPoint{
		{rate: 2, shares: step(2, 0.2).CPU, cores: 2}, {rate: 4, shares: step(4, 0.45).CPU, cores: 2}}))
	for _, want := range []string{"kratos cores", "postgres cores", "machine cores", "login: CPU per component"} {
		if !strings.Contains(page, want) {
			t.Errorf("attribution chart lacks %q", want)
		}
	}
	if got := scenarioAttribution(Capacity{Scenario: "x", Steps: []Step{{TargetRPS: 1}, {TargetRPS: 2}}}); got != "" {
		t.Errorf("steps without CPU figures drew %q", got)
	}
}
