package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"kratos-conformance/harness"
)

// RemoteGenerators run a step's attack on generator pods (the suite's image,
// an Indexed Job) instead of in this process: for rates one machine cannot offer.
type RemoteGenerators struct {
	Count int
	// Run starts one generator per spec together and passes every line each
	// one prints to lines (from one goroutine per generator); it returns once all ended.
	Run func(ctx context.Context, specs [][]byte, lines func(generator int, line []byte)) error
	// Endpoints are the deployment as the generators reach it (in the cluster).
	Endpoints harness.Endpoints
}

// GeneratorFigure is one remote generator's part of a step.
type GeneratorFigure struct {
	Index     int     `json:"index"`
	TargetRPS float64 `json:"target_rps"`
	Requests  uint64  `json:"requests"` // in the measured window
	// CPUCores is the CPU it used over its warm-up and window per second of
	// wall time: near its pod's CPU limit, the generator was the bottleneck.
	CPUCores float64 `json:"cpu_cores"`
	Error    string  `json:"error,omitempty"`
}

// remote says whether the step runs on remote generators: a scenario a
// generator can rebuild, and generators to run it.
func (in StepInput) remote() bool {
	_, ok := remoteScenarios[in.Scenario.Name]
	return ok && in.Remote != nil && in.Remote.Count > 0
}

// addGeneratorPods puts the generator pods' CPU among the step's shares,
// as GeneratorPods: the pods start after the window's first reading, so no
// kubelet counter of theirs spans the window; each pod's own reading does.
func (s *Step) addGeneratorPods() {
	if len(s.Generators) == 0 || s.CPU == nil || s.CPUCores <= 0 {
		return
	}
	var cores float64
	for _, g := range s.Generators {
		cores += g.CPUCores
	}
	s.CPU[GeneratorPods] = round3(cores / s.CPUCores)
}

// remoteAttack runs the warm-up and the window on the generators, each with
// its share of the rate and every Count-th session, and merges their results
// into one vegeta.Metrics as they stream in.
func remoteAttack(ctx context.Context, in StepInput, rec *stepRecord) (*vegeta.Metrics, attacked, []GeneratorFigure, error) {
	r := in.Remote
	n := r.Count
	if in.Scenario.Sessions != nil && len(in.Scenario.Sessions) < n {
		return nil, attacked{}, nil, fmt.Errorf("%d generators need at least as many sessions; the population has %d", n, len(in.Scenario.Sessions))
	}
	share := in.Rate / float64(n)
	specs := make([][]byte, n)
	figs := make([]GeneratorFigure, n)
	for i := range n {
		spec := GeneratorSpec{Scenario: in.Scenario.Name, Rate: share, Warmup: in.Warmup, Window: in.Window,
			PublicURL: r.Endpoints.KratosPublic.String(), HostAliases: r.Endpoints.HostAliases, CAPEM: r.Endpoints.CAPEM,
			MaxWorkers: max(in.Limits.MaxWorkers/uint64(n), 1), Timeout: in.Limits.Timeout}
		for j := i; j < len(in.Scenario.Sessions); j += n {
			spec.Sessions = append(spec.Sessions, in.Scenario.Sessions[j])
		}
		var err error
		if specs[i], err = json.Marshal(spec); err != nil {
			return nil, attacked{}, nil, err
		}
		figs[i] = GeneratorFigure{Index: i, TargetRPS: share}
	}
	var (
		mu     sync.Mutex
		m      vegeta.Metrics
		out    = attacked{errs: map[string]uint64{}, senders: make([]*vegeta.Metrics, n)}
		minOff = make([]time.Time, n)
		maxOff = make([]time.Time, n)
	)
	for g := range n {
		out.senders[g] = &vegeta.Metrics{}
	}
	interval := time.Duration(float64(time.Second) / share)
	add := func(g int, res *vegeta.Result) {
		if res.Attack == warmupAttack {
			if IsWrongAnswer(res.Error) {
				out.warmWrong++
			}
			return
		}
		off := res.Timestamp.Add(-time.Duration(res.Seq) * interval)
		if minOff[g].IsZero() || off.Before(minOff[g]) {
			minOff[g] = off
		}
		if off.After(maxOff[g]) {
			maxOff[g] = off
		}
		if res.Error != "" {
			out.errs[res.Error]++
		}
		figs[g].Requests++
		m.Add(res)
		out.senders[g].Add(res)
		rec.Add(res)
	}
	var garbled []error
	reported := make([]*uint64, n) // each generator's own count of window results, from its done line
	lines := func(g int, line []byte) {
		mu.Lock()
		defer mu.Unlock()
		if g < 0 || g >= n {
			return
		}
		if end, ok := bytes.CutPrefix(line, []byte(generatorDone)); ok {
			var e generatorEnd
			if json.Unmarshal(end, &e) == nil && e.WallSeconds > 0 {
				figs[g].CPUCores, figs[g].Error = round3(e.CPUSeconds/e.WallSeconds), e.Error
				reported[g] = &e.Results
			}
			return
		}
		if batch, ok := bytes.CutPrefix(line, []byte(generatorResults)); ok {
			// A batch lost would undercount the window: fail the step rather than judge a part of it.
			if err := readBatch(batch, func(res *vegeta.Result) { add(g, res) }); err != nil {
				garbled = append(garbled, fmt.Errorf("generator %d: a batch of results unreadable: %w", g, err))
			}
		}
		// Anything else is the generator's own message.
	}
	err := errors.Join(r.Run(ctx, specs, lines), errors.Join(garbled...))
	m.Close()
	for g := range n {
		out.senders[g].Close()
		out.maxLag = max(out.maxLag, maxOff[g].Sub(minOff[g]))
		err = errors.Join(err, generatorComplete(g, figs[g], reported[g]))
	}
	return &m, out, figs, err
}

// generatorComplete says why a generator's results are not the whole of
// its part of the window: an error of its own, no done line (the pod was
// killed or its log cut: the end of a stream is not success), or fewer
// results read than it wrote.
func generatorComplete(g int, fig GeneratorFigure, reported *uint64) error {
	switch {
	case fig.Error != "":
		return fmt.Errorf("generator %d: %s", g, fig.Error)
	case reported == nil:
		return fmt.Errorf("generator %d ended without its done line after %d results: killed, or its log cut short; its part of the window is incomplete", g, fig.Requests)
	case *reported != fig.Requests:
		return fmt.Errorf("generator %d wrote %d window results, %d arrived: results were lost", g, *reported, fig.Requests)
	case fig.Requests == 0:
		return fmt.Errorf("generator %d sent nothing in the window (its log has the reason)", g)
	}
	return nil
}
