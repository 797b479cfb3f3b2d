package load

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"sort"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/tsenart/vegeta/v12/lib/plot"
)

// Step is one constant-rate attack: a warm-up, then the measured window.
type Step struct {
	Scenario    string  `json:"scenario"`
	TargetRPS   float64 `json:"target_rps"`
	AchievedRPS float64 `json:"achieved_rps"`
	Requests    uint64  `json:"requests"`
	Seconds     float64 `json:"seconds"`
	Overrun     float64 `json:"overrun"` // how much longer than planned sending took, as a fraction
	// MaxSendLagMillis is how far sending fell behind its schedule at the worst moment of the window.
	MaxSendLagMillis float64 `json:"max_send_lag_ms"`
	// InFlight is how many requests awaited an answer on average over the
	// window (achieved rate × mean latency, Little's law); MaxInFlight the
	// generator's cap on them. Near the cap, sending waits on the answers.
	InFlight    float64 `json:"in_flight"`
	MaxInFlight uint64  `json:"max_in_flight"`
	// WrongAnswers counts responses, warm-up included, that carried another user's data.
	WrongAnswers uint64             `json:"wrong_answers,omitempty"`
	Success      float64            `json:"success"` // validated successes / requests
	Latency      Latency            `json:"latency_ms"`
	Errors       map[string]uint64  `json:"errors,omitempty"`
	CPU          map[string]float64 `json:"cpu_share,omitempty"` // of the hosts' cores, per component
	// CPUCores are the hosts' cores the shares are of: this machine's, or
	// the cluster nodes' the pods ran on; CPUNote: why there are no shares.
	CPUCores float64 `json:"cpu_cores,omitempty"`
	CPUNote  string  `json:"cpu_note,omitempty"`
	// CPUUnwatched are the other processes on this machine that used half
	// a percent of it or more, by command name: who the rest of "machine" was;
	// CPUOthers all of them together, CPUInterrupts the machine's interrupt
	// time, which no process is charged for. With them the components' shares
	// explain "machine" (process provider).
	CPUUnwatched  map[string]float64 `json:"cpu_unwatched,omitempty"`
	CPUOthers     float64            `json:"cpu_others,omitempty"`
	CPUInterrupts float64            `json:"cpu_interrupts,omitempty"`
	Postgres      *PostgresFigures   `json:"postgres,omitempty"` // from its statistics views, when the stack gives its DSN
	Kratos        *KratosFigures     `json:"kratos,omitempty"`   // serve's own metrics over the window
	Mail          *MailFigures       `json:"mail,omitempty"`     // the window's mails followed to the inbox
	FlowSetup     *FlowSetup         `json:"flow_setup,omitempty"`
	Pass          bool               `json:"pass"`
	Why           []string           `json:"why,omitempty"` // why the step failed
	Plot          string             `json:"plot,omitempty"`
	Raw           string             `json:"raw_results,omitempty"` // gob, gzipped: zcat FILE | vegeta report
	Timeline      []Second           `json:"timeline,omitempty"`
	Interrupted   bool               `json:"interrupted,omitempty"`
	// Generators are the remote generators' parts (-kc.load-generators); none: this process sent everything.
	Generators []GeneratorFigure `json:"generators,omitempty"`
}

// Latency percentiles in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

// Limits bound every attack; none runs unbounded.
type Limits struct {
	MaxWorkers uint64        // concurrent requests in flight
	Timeout    time.Duration // per request; a timeout is a failure
	Client     *http.Client  // the deployment's client (CA, host aliases)
}

// StepInput is one step to run.
type StepInput struct {
	Scenario *Scenario
	Rate     float64
	Warmup   time.Duration
	Window   time.Duration
	Limits   Limits
	CPU      CPUMeter // nil: this process only
	PlotDir  string   // where the step's vegeta plot goes; empty: no plot
	// Label prefixes the step's files, apart from the same scenario's own steps.
	Label string
	// KratosAdmin is where serve's metrics are scraped; nil: not scraped.
	KratosAdmin *url.URL
	// PostgresDSN, when the stack gives it, lets the step read what
	// Postgres did during its window; empty: no Postgres figures.
	PostgresDSN string
	Remote      *RemoteGenerators // nil: attack from this process
}

func (in StepInput) meter() CPUMeter {
	if in.CPU == nil {
		return CPUGroups(nil)
	}
	return in.CPU
}

// setCPU records the window's CPU shares, or why there are none.
func (s *Step) setCPU(before, after cpuSnapshot) {
	s.CPUOthers, s.CPUUnwatched = unwatchedShares(before, after)
	s.CPUInterrupts = interruptShare(before, after)
	var err error
	switch s.CPU, s.CPUCores, err = shares(before, after); {
	case errors.Is(err, errStale):
		s.CPUNote = err.Error()
	case err != nil:
		s.CPUNote = "CPU not measured: " + err.Error()
	}
}

// Pass criteria of a step (docs/requirements.md, LOAD-*): the generator kept up, nearly
// everything succeeded, and p99 met the SLO.
const (
	minAchievedRatio = 0.98
	maxOverrun       = 0.02
	minSuccess       = 0.999
)

// RunStep attacks at in.Rate for in.Warmup (not measured) and, in the same
// attack, for in.Window.
func RunStep(ctx context.Context, in StepInput) (Step, error) {
	if in.Scenario == nil || in.Rate <= 0 || in.Window <= 0 || in.Limits.Client == nil || in.Limits.MaxWorkers == 0 {
		return Step{}, fmt.Errorf("load.StepInput needs Scenario, Rate, Window and Limits (Client, MaxWorkers), got %+v", in)
	}
	step := Step{Scenario: in.Scenario.Name, TargetRPS: in.Rate, Errors: map[string]uint64{}}
	rec, err := newStepRecord(in.PlotDir, fmt.Sprintf("%s%s-%07.1f", in.Label, in.Scenario.Name, in.Rate), fmt.Sprintf("%s at %.1f/s", in.Scenario.Name, in.Rate))
	if err != nil {
		return step, err
	}
	var (
		m   *vegeta.Metrics
		out attacked
	)
	pr := openProbes(ctx, in)
	if in.remote() {
		pr.begin(ctx)
		m, out, step.Generators, err = remoteAttack(ctx, in, rec)
	} else {
		m, out, step.FlowSetup, err = attack(ctx, in, rec, pr.begin)
	}
	pr.end(ctx, &step)
	step.addGeneratorPods()
	if in.Scenario.Mail != nil && err == nil {
		step.Mail = in.Scenario.Mail(ctx)
	}
	plotFile, rawFile, closeErr := rec.Close()
	if err = errors.Join(err, closeErr); err != nil {
		return step, err
	}
	step.Plot, step.Raw, step.Timeline = plotFile, rawFile, rec.Timeline()
	step.WrongAnswers += out.warmWrong
	step.Interrupted = ctx.Err() != nil
	step.Requests = m.Requests
	step.Seconds = m.Duration.Seconds()
	step.AchievedRPS, step.Overrun = achieved(m, in.Window)
	if out.senders != nil {
		// Remote generators: what all of them sent over the step's window
		// (each one's own span would hide a generator that stopped half-way),
		// and the worst one's overrun.
		step.AchievedRPS, step.Overrun = float64(m.Requests)/in.Window.Seconds(), 0
		for _, g := range out.senders {
			_, overrun := achieved(g, in.Window)
			step.Overrun = max(step.Overrun, overrun)
		}
	}
	step.MaxSendLagMillis = float64(out.maxLag) / float64(time.Millisecond)
	step.InFlight, step.MaxInFlight = round3(step.AchievedRPS*m.Latencies.Mean.Seconds()), in.Limits.MaxWorkers
	step.WrongAnswers += wrongAnswers(out.errs)
	var failed uint64
	for k, n := range out.errs {
		step.Errors[k] = n
		failed += n
	}
	if m.Requests > 0 {
		step.Success = float64(m.Requests-failed) / float64(m.Requests)
	}
	ms := func(q float64) float64 { return float64(m.Latencies.Quantile(q)) / float64(time.Millisecond) }
	step.Latency = Latency{P50: ms(0.5), P90: ms(0.9), P99: ms(0.99), P999: ms(0.999), Max: float64(m.Latencies.Max) / float64(time.Millisecond)}
	step.judge(in)
	return step, nil
}

// achieved is the rate m's sends kept and how much longer than window they took.
func achieved(m *vegeta.Metrics, window time.Duration) (rate, overrun float64) {
	if m.Duration > 0 {
		rate = float64(m.Requests-1) / m.Duration.Seconds() // n requests span n-1 intervals
	}
	return rate, (m.Duration.Seconds() - window.Seconds()) / window.Seconds()
}

func (s *Step) judge(in StepInput) {
	if s.Requests == 0 {
		s.Why = append(s.Why, "no request was sent")
	}
	if s.AchievedRPS < minAchievedRatio*s.TargetRPS {
		s.Why = append(s.Why, fmt.Sprintf("achieved %.1f/s < %.0f%% of %.1f/s", s.AchievedRPS, minAchievedRatio*100, s.TargetRPS))
	}
	if s.Overrun > maxOverrun {
		s.Why = append(s.Why, fmt.Sprintf("sending overran the window by %.1f%%: the generator fell behind", s.Overrun*100))
	}
	if lag := maxOverrun * in.Window.Seconds() * 1000; s.MaxSendLagMillis > lag {
		s.Why = append(s.Why, fmt.Sprintf("sending fell %.0f ms behind its schedule mid-window (at most %.0f ms): the rate was not held", s.MaxSendLagMillis, lag))
	}
	if s.WrongAnswers > 0 {
		s.Why = append(s.Why, fmt.Sprintf("%d answer(s) carried another user's data or none: a correctness failure", s.WrongAnswers))
	}
	if least := cmp.Or(in.Scenario.MinSuccess, minSuccess); s.Success < least {
		s.Why = append(s.Why, fmt.Sprintf("success %.2f%% < %.1f%%", s.Success*100, least*100))
	}
	if slo := float64(in.Scenario.SLO) / float64(time.Millisecond); s.Latency.P99 > slo {
		s.Why = append(s.Why, fmt.Sprintf("p99 %.1f ms > SLO %.0f ms (of %d answers)", s.Latency.P99, slo, s.Requests))
	}
	if m := s.Mail; m != nil && m.Delivered < m.Queued {
		s.Why = append(s.Why, fmt.Sprintf("%d of %d mails did not reach the inbox within %.0f s of the window's end", m.Queued-m.Delivered, m.Queued, m.DrainedSeconds))
	}
	if why := s.Mail.fellBehind(); why != "" {
		s.Why = append(s.Why, why)
	}
	if s.Interrupted {
		s.Why = append(s.Why, "interrupted")
	}
	s.Pass = len(s.Why) == 0
}

// attacked is what one attack saw besides vegeta's metrics.
type attacked struct {
	errs      map[string]uint64 // error key -> count
	maxLag    time.Duration     // the worst delay of a send behind its schedule
	warmWrong uint64            // wrong answers during the warm-up, which is not measured
	senders   []*vegeta.Metrics // remote generators: each one's own results
}

func wrongAnswers(errs map[string]uint64) uint64 {
	var n uint64
	for k, c := range errs {
		if IsWrongAnswer(k) {
			n += c
		}
	}
	return n
}

// attack runs one bounded vegeta attack over the warm-up and the window and
// validates every response. The warm-up is the sends due before in.Warmup,
// checked for wrong answers only; begin takes the window's first readings
// while the attack goes on, so the window does not start with a generator
// stopping and starting again. Send i is due at start + i/rate; its offset (sent -
// i/rate) is the same for every send that kept the schedule, so the spread
// of the window's offsets is the worst lag, a stall mid-window included
// even when the sender caught up after it.
func attack(ctx context.Context, in StepInput, rec *stepRecord, begin func(context.Context)) (*vegeta.Metrics, attacked, *FlowSetup, error) {
	tr, setup, err := in.Scenario.Prepare(ctx, in.sends())
	if err != nil {
		return nil, attacked{}, nil, err
	}
	a := vegeta.NewAttacker(vegeta.Client(in.Limits.Client), vegeta.MaxWorkers(in.Limits.MaxWorkers),
		vegeta.Workers(min(in.Limits.MaxWorkers, 16)), vegeta.MaxBody(64<<10))
	warmup := warmupSends(in.Rate, in.Warmup)
	defer onOneProcessor()()
	began := make(chan struct{})
	open := func() { begin(ctx); close(began) }
	if warmup == 0 {
		open()
	}
	results := a.Attack(tr, vegeta.Rate{Freq: int(in.Rate * 1000), Per: time.Second * 1000}, in.Warmup+in.Window, in.Scenario.Name)
	var opens *time.Timer
	if warmup > 0 {
		// The readings cost CPU (a /proc scan, a scrape, a query; four of
		// each side by side): taken half-way through the warm-up, that cost
		// falls outside the window, which they then cover with half a warm-up
		// more at the same rate.
		opens = time.AfterFunc(in.Warmup/2, open)
	}
	stop := context.AfterFunc(ctx, func() { a.Stop() })
	defer stop()
	var m vegeta.Metrics
	out := attacked{errs: map[string]uint64{}}
	interval := time.Duration(float64(time.Second) / in.Rate)
	var minOff, maxOff time.Time
	for r := range results {
		key := in.Scenario.Check(r)
		if r.Seq < warmup {
			if IsWrongAnswer(key) {
				out.warmWrong++
			}
			continue
		}
		off := r.Timestamp.Add(-time.Duration(r.Seq) * interval)
		if minOff.IsZero() || off.Before(minOff) {
			minOff = off
		}
		if maxOff.IsZero() || off.After(maxOff) {
			maxOff = off
		}
		if key != "" {
			out.errs[key]++
			if r.Error == "" {
				r.Error = key // so vegeta's plot and metrics see the failure too
			}
		}
		m.Add(r)
		if rec != nil {
			rec.Add(r)
		}
	}
	m.Close()
	if opens == nil || !opens.Stop() {
		<-began // the readings began: wait for them
	}
	out.maxLag = maxOff.Sub(minOff)
	return &m, out, setup, nil
}

// sends is how many requests a step makes ahead for its warm-up and window
// (login consumes one flow per request), with a margin for a late send.
func (in StepInput) sends() int {
	return int(in.Rate*(in.Warmup+in.Window).Seconds()*1.05) + 10
}

// warmupSends is how many sends at rate fall due before warmup ends.
func warmupSends(rate float64, warmup time.Duration) uint64 {
	return uint64(math.Ceil(rate * warmup.Seconds()))
}

func writePlot(path string, p *plot.Plot) error {
	p.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = p.WriteTo(f)
	return err
}

// quantiles returns a function giving the q-quantile of ds in milliseconds.
func quantiles(ds []time.Duration) func(q float64) float64 {
	sorted := append([]time.Duration(nil), ds...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	return func(q float64) float64 {
		if len(sorted) == 0 {
			return 0
		}
		i := int(q * float64(len(sorted)-1))
		return float64(sorted[i]) / float64(time.Millisecond)
	}
}

// scrapeKratos reads serve's metrics, when the step knows the admin URL.
func (in StepInput) scrapeKratos(ctx context.Context) (kratosScrape, error) {
	if in.KratosAdmin == nil {
		return kratosScrape{}, fmt.Errorf("no admin URL")
	}
	return scrapeKratos(ctx, in.Limits.Client, in.KratosAdmin)
}
