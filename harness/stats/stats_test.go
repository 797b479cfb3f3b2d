package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The rule finds a shift and a change of shape (a delay that is zero half
// the time, as Kratos' unknown-identifier padding is), and finds nothing
// between two samples of one distribution.
func TestKolmogorovSmirnov(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sample := func(f func() float64) []float64 {
		xs := make([]float64, 30)
		for i := range xs {
			xs[i] = f()
		}
		return xs
	}
	hash := func() float64 { return 210 + 8*rng.NormFloat64() }
	if d, p := KolmogorovSmirnov(sample(hash), sample(hash)); p < 0.01 {
		t.Errorf("one distribution twice: D=%.2f p=%.3g, want no difference found", d, p)
	}
	if d, p := KolmogorovSmirnov(sample(hash), sample(func() float64 { return hash() + 30 })); p >= 0.01 {
		t.Errorf("a 30 ms shift: D=%.2f p=%.3g, want a difference found", d, p)
	}
	padding := func() float64 { return 4 + math.Min(math.Max(rng.NormFloat64()*666, 0), 1000) }
	if d, p := KolmogorovSmirnov(sample(hash), sample(padding)); p >= 0.01 {
		t.Errorf("zero half the time: D=%.2f p=%.3g, want a difference found", d, p)
	}
	if d, p := KolmogorovSmirnov([]float64{1, 2, 3}, []float64{1, 2, 3}); d != 0 || p != 1 {
		t.Errorf("identical samples: D=%v p=%v", d, p)
	}
	if q := Quantile([]float64{5, 1, 3, 2, 4}, 0.5); q != 3 {
		t.Errorf("median = %v", q)
	}
}
