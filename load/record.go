package load

import (
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/tsenart/vegeta/v12/lib/plot"
)

// stepRecord keeps a step's measured window for later: vegeta's plot and
// the raw results, gob-encoded and gzipped, which `zcat FILE | vegeta
// report` (or plot, or a later tool) reads again. Bodies and headers are
// dropped: login and whoami answers carry session tokens.
type stepRecord struct {
	plot     *plot.Plot
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
	r.file, r.gz = f, gzip.NewWriter(f)
	r.enc = vegeta.NewEncoder(r.gz)
	return r, nil
}

// Add records one result of the window.
func (r *stepRecord) Add(res *vegeta.Result) {
	_ = r.plot.Add(res)
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
