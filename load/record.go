package load

import (
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/tsenart/vegeta/v12/lib/plot"
)

// stepRecord keeps a step's measured window for later: vegeta's plot and
// the raw results, gob-encoded and gzipped, which `zcat FILE | vegeta
// report` (or plot, or a later tool) reads again. Bodies and headers are
// dropped: login and whoami answers carry session tokens.
type stepRecord struct {
	plot     *plot.Plot
	seen     []seen // for the per-second timeline
	dir      string
	base     string
	file     *os.File
	gz       *gzip.Writer
	enc      vegeta.Encoder
	writeErr error
}

// newStepRecord starts a record in dir; an empty dir keeps nothing.
func newStepRecord(dir, base, title string) (*stepRecord, error) {
	r := &stepRecord{dir: dir, base: base, plot: plot.New(plot.Title(title), plot.Downsample(4000),
		plot.Label(func(r *vegeta.Result) string {
			if r.Error != "" {
				return "ERROR"
			}
			return "OK"
		}))}
	if dir == "" {
		return r, nil
	}
	f, err := os.Create(filepath.Join(dir, "results-"+base+".gob.gz"))
	if err != nil {
		return nil, fmt.Errorf("raw results of %s: %w", base, err)
	}
	// The window's results are compressed as they come, on the generator's
	// CPU: the fastest level, which costs a few times less than the default.
	r.gz, _ = gzip.NewWriterLevel(f, gzip.BestSpeed) // a valid level never errs
	r.file = f
	r.enc = vegeta.NewEncoder(r.gz)
	return r, nil
}

// seen is what the timeline keeps of one result.
type seen struct {
	at      time.Time
	latency time.Duration
	failed  bool
}

// Add records one result of the window.
func (r *stepRecord) Add(res *vegeta.Result) {
	_ = r.plot.Add(res)
	r.seen = append(r.seen, seen{at: res.Timestamp, latency: res.Latency, failed: res.Error != ""})
	if r.enc == nil || r.writeErr != nil {
		return
	}
	lean := *res
	lean.Body, lean.Headers = nil, nil
	r.writeErr = r.enc.Encode(&lean)
}

// Close writes the plot and finishes the raw file; it returns their names
// in dir ("" when nothing was kept).
func (r *stepRecord) Close() (plotFile, rawFile string, err error) {
	if r.dir == "" {
		return "", "", nil
	}
	plotFile, rawFile = "plot-"+r.base+".html", filepath.Base(r.file.Name())
	err = errors.Join(r.writeErr, r.gz.Close(), r.file.Close(), writePlot(filepath.Join(r.dir, plotFile), r.plot))
	return plotFile, rawFile, err
}

// Second is one second of a step's window, by send time.
type Second struct {
	At      int     `json:"t"` // seconds since the window's first send
	Answers int     `json:"answers"`
	Failed  int     `json:"failed"`
	P50     float64 `json:"p50_ms"`
	P99     float64 `json:"p99_ms"`
}

// Timeline is the window second by second: what a single step shows
// instead of a curve of one point, and where a stall or a climb is seen.
func (r *stepRecord) Timeline() []Second {
	if len(r.seen) == 0 {
		return nil
	}
	first := slices.MinFunc(r.seen, func(a, b seen) int { return a.at.Compare(b.at) }).at
	var out []Second
	var lat [][]time.Duration
	for _, s := range r.seen {
		i := int(s.at.Sub(first) / time.Second)
		for len(out) <= i {
			out = append(out, Second{At: len(out)})
			lat = append(lat, nil)
		}
		out[i].Answers++
		if s.failed {
			out[i].Failed++
		}
		lat[i] = append(lat[i], s.latency)
	}
	for i := range out {
		q := quantiles(lat[i])
		out[i].P50, out[i].P99 = round3(q(0.5)), round3(q(0.99))
	}
	return out
}
