package load

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"path/filepath"
	"sort"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/tsenart/vegeta/v12/lib/plot"
)

// FaultPlan is one outage during a constant-rate attack: Inject runs At
// into the attack, Recover runs Hold after Inject returned and returns once
// the deployment says it is ready again, and the attack goes on for After
// from then, so the timeline shows before, during and a real after. Max caps
// the whole attack.
type FaultPlan struct {
	Name                 string
	Report               string // the report files' base name; empty: load-fault
	Scenario             *Scenario
	Rate                 float64
	At, Hold, After, Max time.Duration
	Inject, Recover      func(context.Context) error
	Limits               Limits
}

// FaultRun is the attack's timeline around the outage, in seconds since its start.
type FaultRun struct {
	Name        string  `json:"name"`
	Scenario    string  `json:"scenario"`
	Rate        float64 `json:"rate"`
	Requests    uint64  `json:"requests"`
	Errors      uint64  `json:"errors"`
	InjectedAt  float64 `json:"injected_at_s"`
	RecoveredAt float64 `json:"recovered_at_s"` // Recover returned: the component serves again
	// RequestsDuringFault were sent between InjectedAt and RecoveredAt: what
	// the run can say about the fault window itself.
	RequestsDuringFault uint64  `json:"requests_during_fault"`
	FirstError          float64 `json:"first_error_s"` // -1: none
	LastError           float64 `json:"last_error_s"`  // -1: none
	// ErrorsAfterRecovery counts failures of requests sent after
	// RecoveredAt, when the deployment said it was ready again; the window
	// after recovery is RequestsAfterRecovery requests over SecondsAfterRecovery.
	ErrorsAfterRecovery   uint64            `json:"errors_after_recovery"`
	RequestsAfterRecovery uint64            `json:"requests_after_recovery"`
	SecondsAfterRecovery  float64           `json:"seconds_after_recovery"`
	ErrorKinds            map[string]uint64 `json:"error_kinds,omitempty"`
	Timeline              []Bucket          `json:"timeline"`
	Plot                  string            `json:"plot"`
	report                string            // the files' base name (FaultPlan.Report)
}

// Bucket is one second of the attack.
type Bucket struct {
	Second   int     `json:"second"`
	Requests uint64  `json:"requests"`
	Errors   uint64  `json:"errors"`
	P99      float64 `json:"p99_ms"`
}

// RunFault attacks while the plan's fault comes and goes. Recover always
// runs once Inject did, even when the attack ends early.
func RunFault(ctx context.Context, plan FaultPlan, plotDir string) (*FaultRun, error) {
	if plan.Scenario == nil || plan.Rate <= 0 || plan.Inject == nil || plan.Recover == nil || plan.Limits.Client == nil ||
		plan.After <= 0 || plan.At+plan.Hold+plan.After >= plan.Max {
		return nil, fmt.Errorf("load.FaultPlan needs Scenario, Rate, Inject, Recover, Limits, After > 0 and At+Hold+After < Max, got %+v", plan)
	}
	run := &FaultRun{Name: plan.Name, Scenario: plan.Scenario.Name, Rate: plan.Rate, FirstError: -1, LastError: -1,
		ErrorKinds: map[string]uint64{}, report: cmp.Or(plan.Report, "load-fault")}
	tr, _, err := plan.Scenario.Prepare(ctx, int(plan.Rate*plan.Max.Seconds())+5)
	if err != nil {
		return nil, err
	}
	a := vegeta.NewAttacker(vegeta.Client(plan.Limits.Client), vegeta.MaxWorkers(plan.Limits.MaxWorkers),
		vegeta.Workers(min(plan.Limits.MaxWorkers, 16)), vegeta.MaxBody(64<<10))
	start := time.Now()
	since := func() float64 { return time.Since(start).Seconds() }
	var wg sync.WaitGroup
	var faultErr error
	wg.Add(1)
	go func() { // the fault's own clock, beside the attack
		defer wg.Done()
		defer a.Stop() // the attack ends After past recovery, or when anything here fails
		if !waitFor(ctx, plan.At) {
			return
		}
		run.InjectedAt = since()
		if faultErr = plan.Inject(ctx); faultErr != nil {
			return
		}
		waitFor(ctx, plan.Hold)
		faultErr = plan.Recover(context.WithoutCancel(ctx))
		run.RecoveredAt = since()
		if faultErr == nil {
			waitFor(ctx, plan.After)
		}
	}()

	p := plot.New(plot.Title(fmt.Sprintf("%s at %.0f/s: %s", plan.Scenario.Name, plan.Rate, plan.Name)), plot.Label(func(r *vegeta.Result) string {
		if r.Error != "" {
			return "ERROR"
		}
		return "OK"
	}))
	stop := context.AfterFunc(ctx, func() { a.Stop() })
	defer stop()
	var results []vegeta.Result
	for r := range a.Attack(tr, vegeta.Rate{Freq: int(plan.Rate), Per: time.Second}, plan.Max, plan.Name) {
		if key := plan.Scenario.Check(r); key != "" {
			run.ErrorKinds[key]++
			if r.Error == "" {
				r.Error = key
			}
		}
		_ = p.Add(r)
		results = append(results, *r)
	}
	wg.Wait()
	run.timeline(results, start)
	run.Plot = "plot-" + run.report + ".html"
	if err := writePlot(filepath.Join(plotDir, run.Plot), p); err != nil {
		return run, err
	}
	if faultErr != nil {
		return run, fmt.Errorf("%s: %w", plan.Name, faultErr)
	}
	return run, ctx.Err()
}

// timeline buckets the results by the second they were sent in.
func (run *FaultRun) timeline(results []vegeta.Result, start time.Time) {
	byBucket := map[int][]vegeta.Result{}
	for _, r := range results {
		at := r.Timestamp.Sub(start).Seconds()
		byBucket[int(at)] = append(byBucket[int(at)], r)
		run.Requests++
		after := run.RecoveredAt > 0 && at > run.RecoveredAt
		if at >= run.InjectedAt && run.RecoveredAt > 0 && at <= run.RecoveredAt {
			run.RequestsDuringFault++
		}
		if after {
			run.RequestsAfterRecovery++
			run.SecondsAfterRecovery = max(run.SecondsAfterRecovery, at-run.RecoveredAt)
		}
		if r.Error == "" {
			continue
		}
		run.Errors++
		if run.FirstError < 0 || at < run.FirstError {
			run.FirstError = at
		}
		run.LastError = max(run.LastError, at)
		if after {
			run.ErrorsAfterRecovery++
		}
	}
	for sec, rs := range byBucket {
		b := Bucket{Second: sec, Requests: uint64(len(rs))}
		lat := make([]time.Duration, 0, len(rs))
		for _, r := range rs {
			if r.Error != "" {
				b.Errors++
			}
			lat = append(lat, r.Latency)
		}
		b.P99 = quantiles(lat)(0.99)
		run.Timeline = append(run.Timeline, b)
	}
	sort.Slice(run.Timeline, func(i, j int) bool { return run.Timeline[i].Second < run.Timeline[j].Second })
}

// waitFor waits d unless ctx ends first; false if it did.
func waitFor(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Write puts <report>.json and <report>.html (the timeline with the fault
// marked, and a link to vegeta's plot) into dir; report is FaultPlan.Report.
func (run *FaultRun) Write(dir string) error {
	if run == nil {
		return errors.New("no fault run to write")
	}
	return writeReport(dir, run.report, run, faultPage)
}

func faultChart(run *FaultRun) template.HTML {
	reqs := series{Name: "requests/s", Color: "#1f77b4"}
	errs := series{Name: "errors/s", Color: "#d62728"}
	for _, b := range run.Timeline {
		reqs.Points = append(reqs.Points, [2]float64{float64(b.Second), float64(b.Requests)})
		errs.Points = append(errs.Points, [2]float64{float64(b.Second), float64(b.Errors)})
	}
	marks := []mark{{Label: "fault", Color: "#d62728", Value: run.InjectedAt}}
	if run.RecoveredAt > 0 {
		marks = append(marks, mark{Label: "recovered", Color: "#2ca02c", Value: run.RecoveredAt})
	}
	return chart(fmt.Sprintf("%s: fault at %.1f s, recovered at %.1f s", run.Scenario, run.InjectedAt, run.RecoveredAt), "seconds since the attack began", "per second", marks, reqs, errs)
}

var faultPage = template.Must(template.New("fault").Funcs(template.FuncMap{"chart": faultChart}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Kratos under a fault: {{.Name}}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1200px} table{border-collapse:collapse} td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px;text-align:right} .err{color:#b00}</style>
</head><body>
<h1>{{.Name}} during {{.Scenario}} at {{printf "%.0f" .Rate}}/s</h1>
<p>{{.Requests}} requests, {{.Errors}} failed (first at {{printf "%.1f" .FirstError}} s, last at {{printf "%.1f" .LastError}} s);
fault injected at {{printf "%.1f" .InjectedAt}} s, component back at {{printf "%.1f" .RecoveredAt}} s;
{{.ErrorsAfterRecovery}} of the {{.RequestsAfterRecovery}} requests sent in the {{printf "%.1f" .SecondsAfterRecovery}} s after recovery failed. Errors: {{range $k, $v := .ErrorKinds}}{{$k}}: {{$v}}; {{end}}
<a href="{{.Plot}}">vegeta's time series</a></p>
{{chart .}}
<table><tr><th>second</th><th>requests</th><th>errors</th><th>p99 ms</th></tr>
{{range .Timeline}}<tr{{if .Errors}} class="err"{{end}}><td>{{.Second}}</td><td>{{.Requests}}</td><td>{{.Errors}}</td><td>{{printf "%.1f" .P99}}</td></tr>
{{end}}</table>
</body></html>
`))
