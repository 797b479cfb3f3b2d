package load

import (
	"strings"
	"testing"
)

// A steady climb of serve's memory is a leak with its slope and R²; noise
// around a level is not, nor are fewer than three windows.
func TestSoakJudgesDriftByItsLine(t *testing.T) {
	soak := func(rss ...float64) *SoakResult {
		r := &SoakResult{}
		for i, v := range rss {
			r.Windows = append(r.Windows, SoakWindow{StartSeconds: float64(i * 300), ServeRSSMB: v, P99Millis: map[string]float64{"whoami-token": 5}})
		}
		r.judge()
		return r
	}
	if r := soak(100, 130, 160, 190, 220); !strings.Contains(r.Leak, "serve RSS (MiB) grew 120%") || !strings.Contains(r.Leak, "R² 1.00") {
		t.Errorf("a steady climb: leak %q, trends %+v", r.Leak, r.Trends)
	}
	if r := soak(100, 104, 99, 103, 100); r.Leak != "" {
		t.Errorf("noise around a level: leak %q", r.Leak)
	}
	if r := soak(100, 200); r.Leak != "" || len(r.Trends) != 0 {
		t.Errorf("two windows: leak %q, trends %v; want no claim", r.Leak, r.Trends)
	}
	if slope, r2 := fitLine([]float64{0, 1, 2}, []float64{1, 3, 5}); slope != 2 || r2 != 1 {
		t.Errorf("fitLine: slope %v r2 %v, want 2 and 1", slope, r2)
	}
}
