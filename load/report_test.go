package load

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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
