package load

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// SoakPlan is a bounded soak: the workload's mix held at one rate for
// Duration, judged window by window for drift.
type SoakPlan struct {
	Duration time.Duration
	Window   time.Duration // one judged window, e.g. 5m
	// Fraction of the mix's max sustainable total (measured in the same run;
	// without a search, of the mix's rate) the soak holds.
	Fraction float64
}

// SoakWindow is one window of the soak.
type SoakWindow struct {
	StartSeconds float64            `json:"start_s"`
	P99Millis    map[string]float64 `json:"p99_ms"`  // per flow
	Failed       uint64             `json:"failed"`  // answers that failed validation, all flows
	Answers      uint64             `json:"answers"` // all flows
	ServeRSSMB   float64            `json:"serve_rss_mb,omitempty"`
	Rows         map[string]int64   `json:"rows,omitempty"` // rows in Kratos' growing tables at the window's end
}

// Trend is a figure's least-squares line over the soak's windows.
type Trend struct {
	Figure       string  `json:"figure"`
	First, Last  float64 `json:"-"`
	SlopePerHour float64 `json:"slope_per_hour"`
	R2           float64 `json:"r2"` // how well a line explains the windows: the confidence in the slope
	Growth       float64 `json:"growth"`
	Drifts       bool    `json:"drifts"`
}

// SoakResult is the soak's windows and what drifted.
type SoakResult struct {
	TotalRPS float64      `json:"total_rps"`
	Seconds  float64      `json:"seconds"`
	Windows  []SoakWindow `json:"windows"`
	Trends   []Trend      `json:"trends"`
	// Leak names the serve memory or latency that grew steadily; empty: none.
	Leak         string `json:"leak,omitempty"`
	WrongAnswers uint64 `json:"wrong_answers"`
	Complete     bool   `json:"complete"`
}

// Drift thresholds: a figure drifts when a line explains its windows well
// (R² ≥ 0.8) and it grew by a fifth or more from the first window to the last.
const (
	driftR2     = 0.8
	driftGrowth = 0.2
)

// growingTables are Kratos' tables that grow with traffic until `kratos
// cleanup sql` runs: a soak tells how fast, for planning that cleanup.
var growingTables = []string{"sessions", "selfservice_login_flows", "selfservice_registration_flows", "courier_messages", "identities"}

// runSoak holds the mix at total for the plan's duration, window by window.
func runSoak(ctx context.Context, plan SoakPlan, flows []mixFlow, base StepInput, dsn string, total float64, progress func(string)) *SoakResult {
	res := &SoakResult{TotalRPS: total}
	start := time.Now()
	base.Window, base.Warmup, base.Label = plan.Window, 0, "soak-"
	windows := max(int(plan.Duration/plan.Window), 1)
	for i := 0; i < windows && ctx.Err() == nil; i++ {
		w := SoakWindow{StartSeconds: time.Since(start).Seconds(), P99Millis: map[string]float64{}}
		s, err := runMixStep(ctx, flows, base, total)
		if err != nil {
			report(progress, "load: soak window %d: %v", i+1, err)
			break
		}
		for _, f := range s.Flows {
			w.P99Millis[f.Scenario] = f.Latency.P99
			w.Answers += f.Requests
			w.Failed += uint64(math.Round(float64(f.Requests) * (1 - f.Success)))
			res.WrongAnswers += f.WrongAnswers
			if f.Kratos != nil {
				w.ServeRSSMB = f.Kratos.ResidentMB
			}
		}
		w.Rows = countRows(ctx, dsn)
		res.Windows = append(res.Windows, w)
		report(progress, "load: soak window %d at %.1f/s: p99 %v ms, %d of %d failed, serve RSS %.0f MiB, rows %v", i+1, total, w.P99Millis, w.Failed, w.Answers, w.ServeRSSMB, w.Rows)
	}
	res.Seconds = time.Since(start).Seconds()
	res.Complete = ctx.Err() == nil && len(res.Windows) == windows
	res.judge()
	return res
}

// countRows reads the growing tables' sizes; nil without a DSN.
func countRows(ctx context.Context, dsn string) map[string]int64 {
	if dsn == "" {
		return nil
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows := map[string]int64{}
	for _, t := range growingTables {
		var n int64
		if conn.QueryRow(ctx, "select count(*) from "+pgx.Identifier{t}.Sanitize()).Scan(&n) == nil {
			rows[t] = n
		}
	}
	return rows
}

// judge fits a line to each figure over the windows; serve memory or a
// flow's p99 that drifts is the leak verdict, table growth is reported.
func (r *SoakResult) judge() {
	if len(r.Windows) < 3 {
		return // two points always fit a line: no confidence to claim
	}
	series := map[string][]float64{}
	var order []string
	add := func(name string, v float64) {
		if _, ok := series[name]; !ok {
			order = append(order, name)
		}
		series[name] = append(series[name], v)
	}
	for _, w := range r.Windows {
		add("serve RSS (MiB)", w.ServeRSSMB)
		for flow, p99 := range w.P99Millis {
			add(flow+" p99 (ms)", p99)
		}
		for t, n := range w.Rows {
			add("rows in "+t, float64(n))
		}
	}
	hours := make([]float64, len(r.Windows))
	for i, w := range r.Windows {
		hours[i] = w.StartSeconds / 3600
	}
	for _, name := range order {
		ys := series[name]
		if len(ys) != len(hours) {
			continue
		}
		slope, r2 := fitLine(hours, ys)
		t := Trend{Figure: name, First: ys[0], Last: ys[len(ys)-1], SlopePerHour: round3(slope), R2: round3(r2)}
		if t.First > 0 {
			t.Growth = round3((t.Last - t.First) / t.First)
		}
		t.Drifts = slope > 0 && r2 >= driftR2 && t.Growth >= driftGrowth
		r.Trends = append(r.Trends, t)
		if t.Drifts && (name == "serve RSS (MiB)" || strings.HasSuffix(name, " p99 (ms)")) {
			if r.Leak != "" {
				r.Leak += "; "
			}
			r.Leak += fmt.Sprintf("%s grew %.0f%% (%.3g per hour, R² %.2f)", name, t.Growth*100, t.SlopePerHour, t.R2)
		}
	}
}

// fitLine is the least-squares slope of ys over xs and its R².
func fitLine(xs, ys []float64) (slope, r2 float64) {
	n := float64(len(xs))
	var sx, sy, sxx, sxy, syy float64
	for i := range xs {
		sx, sy = sx+xs[i], sy+ys[i]
		sxx, sxy, syy = sxx+xs[i]*xs[i], sxy+xs[i]*ys[i], syy+ys[i]*ys[i]
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return 0, 0
	}
	slope = (n*sxy - sx*sy) / den
	varY := n*syy - sy*sy
	if varY == 0 {
		return slope, 1 // a flat line explains flat figures exactly
	}
	r := (n*sxy - sx*sy) / math.Sqrt(den*varY)
	return slope, r * r
}
