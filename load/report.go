package load

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
)

// Write puts load.json, metrics.prom and load.html (knee and throughput
// charts, a table of steps, links to vegeta's per-step plots) into dir.
func (r *Result) Write(dir string) error {
	return errors.Join(r.WriteMetrics(dir), writeReport(dir, "load", r, pageTemplate))
}

// writeReport puts name.json (v) and name.html (page executed on v) into dir.
func writeReport(dir, name string, v any, page *template.Template) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, name+".html"))
	if err != nil {
		return err
	}
	defer f.Close()
	return page.Execute(f, v)
}

const offeredRate = "offered rate (req/s)"

// series is one line of a chart: (offered rate, value) points.
type series struct {
	Name   string
	Color  string
	Points [][2]float64
}

// mark is a dashed line across a chart at Value: vertical at an x value
// (a rate such as the knee), or horizontal at a y value (a limit such as the SLO).
type mark struct {
	Label, Color string
	Value        float64
	Horizontal   bool
}

// chartMarks are a capacity search's knee and max sustainable rate.
func chartMarks(c Capacity) []mark {
	var m []mark
	if c.MaxSustainableRPS > 0 {
		m = append(m, mark{Label: fmt.Sprintf("max sustainable %.4g/s", c.MaxSustainableRPS), Color: "#2ca02c", Value: c.MaxSustainableRPS})
	}
	if c.KneeRPS > 0 {
		m = append(m, mark{Label: fmt.Sprintf("knee %.4g/s", c.KneeRPS), Color: "#ff7f0e", Value: c.KneeRPS})
	}
	return m
}

// chart draws lines as an inline SVG with linear axes from zero, points
// joined in order of offered rate (a search visits them out of order).
func chart(title, xLabel, yLabel string, marks []mark, lines ...series) template.HTML {
	const w, h, pad = 560.0, 260.0, 48.0
	maxX, maxY := 1.0, 1.0
	for _, l := range lines {
		for _, p := range l.Points {
			maxX, maxY = max(maxX, p[0]), max(maxY, p[1])
		}
	}
	for _, m := range marks {
		if m.Horizontal {
			maxY = max(maxY, m.Value)
		} else {
			maxX = max(maxX, m.Value)
		}
	}
	maxY *= 1.1
	x := func(v float64) float64 { return pad + v/maxX*(w-2*pad) }
	y := func(v float64) float64 { return h - pad - v/maxY*(h-2*pad) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg width="%.0f" height="%.0f" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">`, w, h)
	fmt.Fprintf(&b, `<text x="%.0f" y="16" font-size="13">%s</text>`, pad, template.HTMLEscapeString(title))
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#333"/>`, pad, h-pad, w-pad, h-pad)
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#333"/>`, pad, pad, pad, h-pad)
	for i := 0; i <= 4; i++ {
		vx, vy := maxX*float64(i)/4, maxY*float64(i)/4
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle">%.4g</text>`, x(vx), h-pad+14, vx)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="end">%.4g</text>`, pad-4, y(vy)+4, vy)
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle">%s</text>`, w/2, h-10, template.HTMLEscapeString(xLabel))
	fmt.Fprintf(&b, `<text x="12" y="%.0f" transform="rotate(-90 12 %.0f)" text-anchor="middle">%s</text>`, h/2, h/2, template.HTMLEscapeString(yLabel))
	for i, l := range lines {
		pts := append([][2]float64(nil), l.Points...)
		sort.Slice(pts, func(a, c int) bool { return pts[a][0] < pts[c][0] })
		var path []string
		for _, p := range pts {
			path = append(path, fmt.Sprintf("%.1f,%.1f", x(p[0]), y(p[1])))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, x(p[0]), y(p[1]), l.Color)
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, l.Color, strings.Join(path, " "))
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" fill="%s">%s</text>`, w-pad-100, pad+14*float64(i), l.Color, template.HTMLEscapeString(l.Name))
	}
	for i, m := range marks {
		x1, y1, x2, y2, tx, ty := x(m.Value), pad, x(m.Value), h-pad, x(m.Value)+3, pad+10+12*float64(i)
		if m.Horizontal {
			x1, y1, x2, y2, tx, ty = pad, y(m.Value), w-pad, y(m.Value), pad+4, y(m.Value)-3
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="5,4"/>`, x1, y1, x2, y2, m.Color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="%s">%s</text>`, tx, ty, m.Color, template.HTMLEscapeString(m.Label))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func kneeChart(c Capacity) template.HTML {
	p50 := series{Name: "p50 latency", Color: "#1f77b4"}
	p99 := series{Name: "p99 latency", Color: "#d62728"}
	for _, s := range c.Steps {
		p50.Points = append(p50.Points, [2]float64{s.TargetRPS, s.Latency.P50})
		p99.Points = append(p99.Points, [2]float64{s.TargetRPS, s.Latency.P99})
	}
	marks := append(chartMarks(c), mark{Label: fmt.Sprintf("SLO p99 %.0f ms", c.SLOMillis), Color: "#999", Value: c.SLOMillis, Horizontal: true})
	return chart(c.Scenario+": latency vs offered load (the knee)", offeredRate, "ms", marks, p50, p99)
}

func throughputChart(c Capacity) template.HTML {
	ideal := series{Name: "offered", Color: "#999"}
	got := series{Name: "achieved", Color: "#2ca02c"}
	ok := series{Name: "validated successes/s", Color: "#9467bd"}
	for _, s := range c.Steps {
		ideal.Points = append(ideal.Points, [2]float64{s.TargetRPS, s.TargetRPS})
		got.Points = append(got.Points, [2]float64{s.TargetRPS, s.AchievedRPS})
		ok.Points = append(ok.Points, [2]float64{s.TargetRPS, s.AchievedRPS * s.Success})
	}
	return chart(c.Scenario+": throughput vs offered load", offeredRate, "req/s", chartMarks(c), ideal, got, ok)
}

// cpuPoint is one step's CPU shares at its offered rate.
type cpuPoint struct {
	rate   float64
	shares map[string]float64
	cores  float64
}

// attributionChart draws each component's cores against offered load, and
// the machine's busy cores they should add up to: which component grows
// into the limit, and how much of the machine nobody watched.
func attributionChart(title, xLabel string, points []cpuPoint) template.HTML {
	colors := map[string]string{machine: "#999", "kratos": "#d62728", "postgres": "#1f77b4", "generator": "#ff7f0e", "kratos-courier": "#2ca02c", "mailpit": "#9467bd", "redis": "#8c564b"}
	byName := map[string]*series{}
	var names []string
	for _, p := range points {
		for name := range p.shares {
			if byName[name] == nil {
				color := cmp.Or(colors[name], "#e377c2")
				byName[name] = &series{Name: name + " cores", Color: color}
				names = append(names, name)
			}
		}
	}
	if len(names) == 0 {
		return ""
	}
	slices.Sort(names)
	var lines []series
	for _, p := range points {
		for _, name := range names {
			if v, ok := p.shares[name]; ok {
				byName[name].Points = append(byName[name].Points, [2]float64{p.rate, v * p.cores})
			}
		}
	}
	for _, name := range names {
		lines = append(lines, *byName[name])
	}
	return chart(title, xLabel, "cores", nil, lines...)
}

func scenarioAttribution(c Capacity) template.HTML {
	var points []cpuPoint
	for _, s := range c.Steps {
		points = append(points, cpuPoint{rate: s.TargetRPS, shares: s.CPU, cores: cmp.Or(s.CPUCores, float64(runtime.NumCPU()))})
	}
	return attributionChart(c.Scenario+": CPU per component vs offered load", offeredRate, points)
}

// stepCharts draw a scenario of one step (the smoke profile): its latency
// percentiles and its window second by second, where a curve against
// offered load would have a single point.
func stepCharts(c Capacity) template.HTML {
	s := c.Steps[0]
	pct := series{Name: "latency", Color: "#d62728", Points: [][2]float64{{50, s.Latency.P50}, {90, s.Latency.P90}, {99, s.Latency.P99}, {99.9, s.Latency.P999}, {100, s.Latency.Max}}}
	slo := mark{Label: fmt.Sprintf("SLO p99 %.0f ms", c.SLOMillis), Color: "#999", Value: c.SLOMillis, Horizontal: true}
	p50 := series{Name: "p50", Color: "#1f77b4"}
	p99 := series{Name: "p99", Color: "#d62728"}
	answers := series{Name: "answers/s", Color: "#2ca02c"}
	failed := series{Name: "failed/s", Color: "#b00"}
	for _, sec := range s.Timeline {
		t := float64(sec.At)
		p50.Points, p99.Points = append(p50.Points, [2]float64{t, sec.P50}), append(p99.Points, [2]float64{t, sec.P99})
		answers.Points, failed.Points = append(answers.Points, [2]float64{t, float64(sec.Answers)}), append(failed.Points, [2]float64{t, float64(sec.Failed)})
	}
	title := fmt.Sprintf("%s at %.1f/s", c.Scenario, s.TargetRPS)
	return chart(title+": latency by percentile", "percentile", "ms", []mark{slo}, pct) +
		chart(title+": latency second by second", "second of the window", "ms", []mark{slo}, p50, p99) +
		chart(title+": answers second by second", "second of the window", "per second", nil, answers, failed)
}

var pageTemplate = template.Must(template.New("load").Funcs(template.FuncMap{
	"knee": kneeChart, "throughput": throughputChart, "oneStep": stepCharts, "mixChart": mixChart, "attribution": scenarioAttribution, "mixAttribution": mixAttribution,
	"inc": func(i int) int { return i + 1 },
	"pct": func(f float64) string { return fmt.Sprintf("%.2f%%", f*100) },
}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Kratos load: {{.Profile}}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1200px} table{border-collapse:collapse} td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px;text-align:right} .fail{color:#b00}</style>
</head><body>
<h1>Kratos load: {{.Profile}} profile</h1>
<p>Started {{.StartedAt.Format "2006-01-02 15:04:05 MST"}}, took {{printf "%.0f" .Seconds}} s.
Seeded {{.Seed.Identities}} identities, {{.Seed.TokenSessions}} token and {{.Seed.CookieSessions}} cookie sessions in {{printf "%.1f" .Seed.Seconds}} s.
{{if .SideBySide}}The scenarios ran side by side in one window: each step's CPU shares are of all of them together.{{end}}
{{if .Interrupted}}<b class="fail">Interrupted: partial report.</b>{{end}}</p>
{{range .SLOFailures}}<p class="fail">{{.}}</p>{{end}}
<h2>Bounds</h2>
<table><tr><th>{{.Bounds.Hasher}} compares/s <small>({{.Bounds.HashNote}})</small></th><th>generator max req/s</th><th>generator CPU µs/req</th><th>wrk whoami req/s</th></tr>
<tr><td>{{printf "%.1f" .Bounds.HashComparesPerSec}}</td><td>{{printf "%.0f" .Bounds.GeneratorMaxRPS}}</td><td>{{printf "%.0f" .Bounds.GeneratorCPUMicrosPerReq}}</td><td>{{printf "%.0f" .Bounds.WrkWhoamiRPS}} <small>{{.Bounds.WrkNote}}</small></td></tr></table>
{{if .Generators}}<p>whoami steps sent by {{.Generators}} generator pods in the cluster (an Indexed Job of the suite's image), started together; their results merged here.</p>{{end}}
<p>Ratios: {{range $k, $v := .Ratios}}{{$k}} = {{printf "%.3f" $v}}; {{end}} generator CPU share at whoami-token max = {{pct .GeneratorShareAtWhoamiMax}}</p>
{{range .Scenarios}}
<h2>{{.Scenario}}: max sustainable {{printf "%.1f" .MaxSustainableRPS}}/s (p99 {{printf "%.1f" .P99AtMaxMillis}} ms, SLO {{printf "%.0f" .SLOMillis}} ms){{if .KneeRPS}}, knee {{printf "%.1f" .KneeRPS}}/s{{end}}</h2>
{{with .LimitedBy}}<p{{if .NotTheDeployment}} class="fail"{{end}}>Limited by <b>{{.Resource}}</b>: {{.Evidence}}</p>{{end}}
{{if eq (len .Steps) 1}}{{oneStep .}}{{else}}{{knee .}} {{throughput .}} {{attribution .}}{{end}}
<table><tr><th>order</th><th>offered/s</th><th>achieved/s</th><th>requests</th><th>success</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>CPU share</th><th>errors</th><th>flows made ahead</th><th>verdict</th><th>plot</th></tr>
{{range .StepsByRate}}<tr><td>{{.Order}}</td><td>{{printf "%.1f" .TargetRPS}}</td><td>{{printf "%.1f" .AchievedRPS}}</td><td>{{.Requests}}</td><td>{{pct .Success}}</td>
<td>{{printf "%.1f" .Latency.P50}}</td><td>{{printf "%.1f" .Latency.P90}}</td><td>{{printf "%.1f" .Latency.P99}}</td><td>{{printf "%.1f" .Latency.P999}}</td><td>{{printf "%.1f" .Latency.Max}}</td>
<td>{{range $k, $v := .CPU}}{{$k}} {{pct $v}} {{end}}{{if or .CPUOthers .CPUInterrupts}}(others {{pct .CPUOthers}}{{range $k, $v := .CPUUnwatched}}, {{$k}} {{pct $v}}{{end}}; interrupts {{pct .CPUInterrupts}}) {{end}}{{with .Kratos}}serve's own metrics: {{printf "%.2f" .CPUCores}} cores, {{printf "%.0f" .ResidentMB}} MiB {{end}}{{with .Postgres}}postgres: {{printf "%.0f" .TransactionsPerSec}} tx/s, {{.Connections}}/{{.MaxConnections}} conns, {{.LockWaits}} lock waits {{end}}{{with .Generators}}{{len .}} generator pods:{{range .}} #{{.Index}} {{.Requests}} req, {{printf "%.3f" .CPUCores}} cores{{end}}{{end}}</td><td>{{range $k, $v := .Errors}}{{$k}}: {{$v}} {{end}}</td>
<td>{{with .FlowSetup}}{{.Flows}} at {{printf "%.0f" .PerSecond}}/s, p99 {{printf "%.1f" .P99Millis}} ms{{end}}</td>
<td {{if not .Pass}}class="fail"{{end}}>{{if .Pass}}PASS{{else}}FAIL {{.Why}}{{end}}</td><td>{{if .Plot}}<a href="{{.Plot}}">time series</a>{{end}}</td></tr>
{{end}}</table>
{{end}}
{{with .Mix}}
<h2>mix: max sustainable {{printf "%.1f" .MaxTotalRPS}}/s in all</h2>
<p>Weights (% of the total): {{range $k, $v := .Weights}}{{$k}} {{$v}}; {{end}} every flow in the same window, each judged by its own SLO.</p>
{{with .LimitedBy}}<p{{if .NotTheDeployment}} class="fail"{{end}}>Limited by <b>{{.Resource}}</b>: {{.Evidence}}</p>{{end}}
{{with .Sizing}}<h3>Sizing for {{printf "%.1f" .TargetRPS}}/s at peak</h3>
<p><b>{{.Replicas}} serve replicas</b> ({{printf "%.2f" .ServeCores}} serve cores at {{printf "%.1f" .RPSPerServeCore}} req/s per core, measured: {{printf "%.1f" .MeasuredRPS}}/s on {{printf "%.2f" .ServeCoresAtMax}} cores){{if .PostgresConns}}, <b>{{.PostgresConns}} Postgres connections</b> ({{.PostgresConnsAtMax}} open at the measured max){{end}}.</p>
<p>Assumptions:</p><ul>{{range .Assumptions}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{with .SizingError}}<p class="fail">No sizing: {{.}}</p>{{end}}
{{mixChart .}} {{mixAttribution .}}
<table><tr><th>order</th><th>total/s</th>{{range .FlowNames}}<th>{{.}} /s, p99 ms, success</th>{{end}}<th>verdict</th></tr>
{{range $i, $s := .Steps}}<tr><td>{{inc $i}}</td><td>{{printf "%.1f" $s.TotalRPS}}</td>{{range $s.Flows}}<td>{{printf "%.1f" .AchievedRPS}}, {{printf "%.1f" .Latency.P99}}, {{pct .Success}}{{if .Plot}} <a href="{{.Plot}}">plot</a>{{end}}</td>{{end}}
<td {{if not $s.Pass}}class="fail"{{end}}>{{if $s.Pass}}PASS{{else}}FAIL {{$s.Why}}{{end}}</td></tr>
{{end}}</table>
{{end}}
{{with .Sweep}}
<h2>serve replicas: the workload at each count</h2>
<p>Scaling efficiency is the max rate over what the first count's rate per replica predicts: 1 is linear, 1/n no gain.</p>
<table><tr><th>replicas</th><th>max sustainable /s (efficiency)</th><th>what ran out</th></tr>
{{range $st := .}}<tr><td>{{$st.Replicas}}</td><td>{{range $k, $v := $st.MaxRPS}}{{$k}} {{printf "%.1f" $v}} ({{printf "%.2f" (index $st.Efficiency $k)}}); {{end}}</td>
<td>{{if .NodesSaturated}}<span class="fail">the nodes' CPU at every limit: more replicas had no cores to run on</span>{{end}}{{range .Scenarios}}{{with .LimitedBy}} {{.Resource}};{{end}}{{end}}{{with .Mix}}{{with .LimitedBy}} mix: {{.Resource}}{{end}}{{end}}</td></tr>
{{end}}</table>
{{end}}
{{with .Soak}}
<h2>soak: the mix at {{printf "%.1f" .TotalRPS}}/s for {{printf "%.0f" .Seconds}} s{{if not .Complete}} (cut short){{end}}</h2>
{{if .Leak}}<p class="fail">Leak: {{.Leak}}</p>{{else}}<p>No serve memory or latency drift{{if lt (len .Windows) 3}} could be judged (fewer than 3 windows){{end}}.</p>{{end}}
<table><tr><th>figure</th><th>first</th><th>last</th><th>slope per hour</th><th>R²</th><th>growth</th><th>drifts</th></tr>
{{range .Trends}}<tr><td>{{.Figure}}</td><td>{{printf "%.1f" .First}}</td><td>{{printf "%.1f" .Last}}</td><td>{{printf "%.3g" .SlopePerHour}}</td><td>{{printf "%.2f" .R2}}</td><td>{{pct .Growth}}</td><td {{if .Drifts}}class="fail"{{end}}>{{.Drifts}}</td></tr>
{{end}}</table>
{{end}}
</body></html>
`))

// mixChart draws each flow's p99 against the mix's total offered rate.
func mixChart(mc MixCapacity) template.HTML {
	colors := []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f"}
	byFlow := map[string]*series{}
	var lines []series
	for i, name := range mc.FlowNames() {
		lines = append(lines, series{Name: "p99 " + name, Color: colors[i%len(colors)]})
		byFlow[name] = &lines[len(lines)-1]
	}
	for _, s := range mc.Steps {
		for _, f := range s.Flows {
			if l := byFlow[f.Scenario]; l != nil {
				l.Points = append(l.Points, [2]float64{s.TotalRPS, f.Latency.P99})
			}
		}
	}
	var marks []mark
	if mc.MaxTotalRPS > 0 {
		marks = append(marks, mark{Label: fmt.Sprintf("max sustainable %.4g/s", mc.MaxTotalRPS), Color: "#2ca02c", Value: mc.MaxTotalRPS})
	}
	return chart("mix: each flow's p99 vs the total offered rate", "total offered rate (req/s)", "ms", marks, lines...)
}

// mixAttribution is the CPU per component against the mix's total rate:
// its flows ran in one window, so any flow's shares are of them all.
func mixAttribution(mc MixCapacity) template.HTML {
	var points []cpuPoint
	for _, s := range mc.Steps {
		if len(s.Flows) > 0 {
			f := s.Flows[0]
			points = append(points, cpuPoint{rate: s.TotalRPS, shares: f.CPU, cores: cmp.Or(f.CPUCores, float64(runtime.NumCPU()))})
		}
	}
	return attributionChart("mix: CPU per component vs the total offered rate", "total offered rate (req/s)", points)
}

// searchStep is a step with its place in the search order (1 first).
type searchStep struct {
	Step
	Order int
}

// StepsByRate are the search's steps by offered rate, for the report's
// table: the search visits rates out of order (800, 1600, 1200, 1000, ...).
func (c Capacity) StepsByRate() []searchStep {
	out := make([]searchStep, len(c.Steps))
	for i, s := range c.Steps {
		out[i] = searchStep{Step: s, Order: i + 1}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].TargetRPS < out[b].TargetRPS })
	return out
}

// ReadResult reads the load.json of a run folder, or of its guide/ part
// (a certification's folder holds one part per stack).
func ReadResult(dir string) (*Result, error) {
	for _, p := range []string{filepath.Join(dir, "load.json"), filepath.Join(dir, "guide", "load.json")} {
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var r Result
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return &r, nil
	}
	return nil, fmt.Errorf("%s holds no load.json (the run had no load stage)", dir)
}

// comparison is two runs' load results, for the comparison page.
type comparison struct {
	OldName, NewName string
	Old, New         *Result
}

// WriteComparison writes an HTML page to path with both runs' curves on one
// chart per scenario (latency and throughput against offered rate, each
// run's max sustainable rate marked).
func WriteComparison(path, oldName string, old *Result, newName string, new *Result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return comparisonPage.Execute(f, comparison{OldName: oldName, NewName: newName, Old: old, New: new})
}

// Pairs are the scenarios both runs measured, old first.
func (c comparison) Pairs() [][2]Capacity {
	var out [][2]Capacity
	for _, n := range c.New.Scenarios {
		for _, o := range c.Old.Scenarios {
			if o.Scenario == n.Scenario {
				out = append(out, [2]Capacity{o, n})
			}
		}
	}
	return out
}

func (c comparison) Charts(pair [2]Capacity) template.HTML {
	runs := [2]struct {
		name, color string
		c           Capacity
	}{{c.OldName + " (old)", "#1f77b4", pair[0]}, {c.NewName + " (new)", "#d62728", pair[1]}}
	var p99s, achieved []series
	var marks []mark
	for _, r := range runs {
		p99 := series{Name: "p99 " + r.name, Color: r.color}
		got := series{Name: "achieved " + r.name, Color: r.color}
		for _, s := range r.c.Steps {
			p99.Points = append(p99.Points, [2]float64{s.TargetRPS, s.Latency.P99})
			got.Points = append(got.Points, [2]float64{s.TargetRPS, s.AchievedRPS})
		}
		p99s, achieved = append(p99s, p99), append(achieved, got)
		if r.c.MaxSustainableRPS > 0 {
			marks = append(marks, mark{Label: fmt.Sprintf("max %.4g/s", r.c.MaxSustainableRPS), Color: r.color, Value: r.c.MaxSustainableRPS})
		}
	}
	slo := mark{Label: fmt.Sprintf("SLO p99 %.0f ms", pair[1].SLOMillis), Color: "#999", Value: pair[1].SLOMillis, Horizontal: true}
	name := pair[1].Scenario
	return chart(name+": p99 latency vs offered load", offeredRate, "ms", append(slices.Clone(marks), slo), p99s...) +
		chart(name+": achieved vs offered load", offeredRate, "req/s", marks, achieved...)
}

var comparisonPage = template.Must(template.New("compare").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Kratos load: {{.OldName}} vs {{.NewName}}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1200px} table{border-collapse:collapse} td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px;text-align:right}</style>
</head><body>
<h1>Kratos load: {{.OldName}} (old) vs {{.NewName}} (new), {{.New.Profile}} profile</h1>
<table><tr><th>scenario</th><th>old max/s</th><th>new max/s</th><th>old p99 at max (ms)</th><th>new p99 at max (ms)</th></tr>
{{range .Pairs}}<tr><td>{{(index . 1).Scenario}}</td><td>{{printf "%.1f" (index . 0).MaxSustainableRPS}}</td><td>{{printf "%.1f" (index . 1).MaxSustainableRPS}}</td><td>{{printf "%.1f" (index . 0).P99AtMaxMillis}}</td><td>{{printf "%.1f" (index . 1).P99AtMaxMillis}}</td></tr>
{{end}}</table>
{{range .Pairs}}<h2>{{(index . 1).Scenario}}</h2>{{$.Charts .}}
{{end}}
</body></html>
`))
