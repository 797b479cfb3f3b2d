package load

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// KratosFigures are serve's own Prometheus figures over a step's window
// (/admin/metrics/prometheus before and after it): the CPU and memory of the
// serve process behind the admin URL, on every provider, Kubernetes too.
type KratosFigures struct {
	CPUCores   float64 `json:"cpu_cores"`   // process_cpu_seconds_total over the window's wall time
	ResidentMB float64 `json:"resident_mb"` // process_resident_memory_bytes at the end
	Goroutines float64 `json:"goroutines"`  // go_goroutines at the end
	Requests   float64 `json:"requests"`    // Kratos' own count of requests served from the window's first reading (half-way through the warm-up), all routes
}

// kratosScrape is one read of the metrics, by metric name (labels summed).
type kratosScrape struct {
	at   time.Time
	vals map[string]float64
}

func scrapeKratos(ctx context.Context, client *http.Client, admin *url.URL) (kratosScrape, error) {
	s := kratosScrape{at: time.Now(), vals: map[string]float64{}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, admin.JoinPath("admin", "metrics", "prometheus").String(), nil)
	if err != nil {
		return s, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("%s answered %d", req.URL, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return s, err
	}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			switch {
			case m.Counter != nil:
				s.vals[name] += m.Counter.GetValue()
			case m.Gauge != nil:
				s.vals[name] += m.Gauge.GetValue()
			}
		}
	}
	return s, nil
}

// kratosFigures are the window's figures; nil when either scrape failed.
func kratosFigures(before, after kratosScrape, errs ...error) *KratosFigures {
	for _, err := range errs {
		if err != nil {
			return nil
		}
	}
	wall := after.at.Sub(before.at).Seconds()
	if wall <= 0 {
		return nil
	}
	f := &KratosFigures{ResidentMB: round3(after.vals["process_resident_memory_bytes"] / (1 << 20)), Goroutines: after.vals["go_goroutines"]}
	f.CPUCores = round3((after.vals["process_cpu_seconds_total"] - before.vals["process_cpu_seconds_total"]) / wall)
	for name, v := range after.vals {
		if strings.HasSuffix(name, "requests_total") {
			f.Requests += v - before.vals[name]
		}
	}
	return f
}
