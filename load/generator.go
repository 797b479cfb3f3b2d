package load

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"kratos-conformance/harness"
)

// GeneratorSpec is what one remote generator (a pod of the suite's image)
// is told: its share of a step's rate and its own slice of the sessions.
type GeneratorSpec struct {
	Scenario    string            `json:"scenario"` // one of remoteScenarios
	Rate        float64           `json:"rate"`
	Warmup      time.Duration     `json:"warmup"`
	Window      time.Duration     `json:"window"`
	PublicURL   string            `json:"public_url"`
	HostAliases map[string]string `json:"host_aliases,omitempty"`
	CAPEM       []byte            `json:"ca_pem,omitempty"`
	Sessions    []Session         `json:"sessions"`
	MaxWorkers  uint64            `json:"max_workers"`
	Timeout     time.Duration     `json:"timeout"`
}

// A generator prints its vegeta JSON results (the body dropped, the check's
// verdict in its error) in batches, each a line starting with
// generatorResults and holding the lines gzipped and base64-encoded, and ends
// with its own figures on a line starting with generatorDone. One line per
// result made the log's path (container runtime, kubelet, API server) cost
// more CPU per request than the generator itself on a small node.
const (
	warmupAttack     = "warmup"
	generatorResults = "kc-results "
	generatorDone    = "kc-generator-done "
	// A batch is written when it holds batchBytes of JSON or is batchAge old
	// (at the next result): lines stay far below the runtime's 16 KiB log
	// line, and results reach the driver while the step runs.
	batchBytes = 32 << 10
	batchAge   = 250 * time.Millisecond
)

// remoteScenarios are the scenarios a generator can rebuild from a spec: no
// state but sessions (login's flows are made ahead by the driver, so it stays in process).
var remoteScenarios = map[string]func(public *url.URL, sessions []Session) *Scenario{
	"whoami-token":  func(p *url.URL, s []Session) *Scenario { return whoami("whoami-token", p, s, 0, false) },
	"whoami-cookie": func(p *url.URL, s []Session) *Scenario { return whoami("whoami-cookie", p, s, 0, true) },
	"alive":         func(p *url.URL, _ []Session) *Scenario { return Alive(p, 0) },
}

// generatorEnd is a generator's own figures, over its warm-up and window.
type generatorEnd struct {
	CPUSeconds  float64 `json:"cpu_seconds"`
	WallSeconds float64 `json:"wall_seconds"`
	// Results is how many window results it wrote: the driver must have
	// read as many, or some were lost on the way.
	Results uint64 `json:"results"`
	Error   string `json:"error,omitempty"`
}

// Generate runs spec's warm-up and window and writes every result to out,
// validated by the same check the in-process attack uses.
func Generate(ctx context.Context, spec GeneratorSpec, out io.Writer) error {
	start, cpu0 := time.Now(), cpuSeconds()
	w := bufio.NewWriter(out)
	results, err := generate(ctx, spec, w)
	end := generatorEnd{CPUSeconds: cpuSeconds() - cpu0, WallSeconds: time.Since(start).Seconds(), Results: results}
	if err != nil {
		end.Error = err.Error()
	}
	line, _ := json.Marshal(end)
	fmt.Fprintf(w, "%s%s\n", generatorDone, line)
	return errors.Join(err, w.Flush())
}

// generate returns how many window results it wrote.
func generate(ctx context.Context, spec GeneratorSpec, w *bufio.Writer) (uint64, error) {
	public, err := url.Parse(spec.PublicURL)
	if err != nil || spec.Rate <= 0 || spec.Window <= 0 || spec.MaxWorkers == 0 || spec.Timeout <= 0 {
		return 0, fmt.Errorf("load.GeneratorSpec needs a public URL, Rate, Window, MaxWorkers and Timeout: %v", err)
	}
	build, ok := remoteScenarios[spec.Scenario]
	if !ok {
		return 0, fmt.Errorf("no remote generator for scenario %q", spec.Scenario)
	}
	sc := build(public, spec.Sessions)
	if sc.Sessions != nil && len(sc.Sessions) == 0 {
		return 0, fmt.Errorf("scenario %s needs sessions; the spec has none", spec.Scenario)
	}
	client, err := attackClient(Input{Endpoints: harness.Endpoints{KratosPublic: public, HostAliases: spec.HostAliases, CAPEM: spec.CAPEM},
		MaxWorkers: spec.MaxWorkers, Timeout: spec.Timeout})
	if err != nil {
		return 0, err
	}
	// One attack for warm-up and window, split by schedule (send i is due at
	// start + i/rate): every generator starts at the barrier, so all windows
	// open at the same instant (two attacks would open each window when its
	// own warm-up drained), and a send that falls behind stays in its phase.
	tr, _, err := sc.Prepare(ctx, 0)
	if err != nil {
		return 0, err
	}
	b := newResultBatch(w)
	a := vegeta.NewAttacker(vegeta.Client(client), vegeta.MaxWorkers(spec.MaxWorkers), vegeta.Workers(min(spec.MaxWorkers, 16)), vegeta.MaxBody(64<<10))
	stop := context.AfterFunc(ctx, func() { a.Stop() })
	defer stop()
	warmup := warmupSends(spec.Rate, spec.Warmup)
	for r := range a.Attack(tr, vegeta.Rate{Freq: int(spec.Rate * 1000), Per: time.Second * 1000}, spec.Warmup+spec.Window, spec.Scenario) {
		if key := sc.Check(r); key != "" {
			r.Error = key
		}
		if r.Seq < warmup {
			r.Attack = warmupAttack
		}
		r.Body, r.Headers = nil, nil
		if err := b.add(r); err != nil {
			return b.window, err
		}
	}
	return b.window, errors.Join(b.flush(), ctx.Err())
}

// resultBatch gathers JSON results and writes them as one generatorResults line.
type resultBatch struct {
	out    *bufio.Writer
	raw    bytes.Buffer
	enc    vegeta.Encoder
	zip    bytes.Buffer
	gz     *gzip.Writer
	begun  time.Time
	window uint64 // window results added
}

func newResultBatch(out *bufio.Writer) *resultBatch {
	b := &resultBatch{out: out}
	b.enc = vegeta.NewJSONEncoder(&b.raw)
	b.gz, _ = gzip.NewWriterLevel(&b.zip, gzip.BestSpeed)
	return b
}

func (b *resultBatch) add(r *vegeta.Result) error {
	if b.raw.Len() == 0 {
		b.begun = time.Now()
	}
	if err := b.enc.Encode(r); err != nil {
		return err
	}
	if r.Attack != warmupAttack {
		b.window++
	}
	if b.raw.Len() >= batchBytes || time.Since(b.begun) >= batchAge {
		return b.flush()
	}
	return nil
}

func (b *resultBatch) flush() error {
	if b.raw.Len() == 0 {
		return nil
	}
	b.zip.Reset()
	b.gz.Reset(&b.zip)
	if _, err := b.raw.WriteTo(b.gz); err != nil {
		return err
	}
	if err := b.gz.Close(); err != nil {
		return err
	}
	b.out.WriteString(generatorResults)
	b.out.WriteString(base64.StdEncoding.EncodeToString(b.zip.Bytes()))
	b.out.WriteByte('\n')
	return b.out.Flush()
}

// readBatch passes each result of a generatorResults line's payload to add.
func readBatch(payload []byte, add func(*vegeta.Result)) error {
	zipped, err := base64.StdEncoding.AppendDecode(nil, payload)
	if err != nil {
		return err
	}
	gz, err := gzip.NewReader(bytes.NewReader(zipped))
	if err != nil {
		return err
	}
	dec := vegeta.NewJSONDecoder(gz)
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		add(&r)
	}
}

// cpuSeconds is the CPU time this process used so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
