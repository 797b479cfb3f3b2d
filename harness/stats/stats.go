// Package stats holds the statistics the specs decide with, so a decision
// states its rule: the two-sample Kolmogorov-Smirnov test for "do two
// samples come from one distribution".
package stats

import (
	"math"
	"slices"
)

// KolmogorovSmirnov tests whether a and b come from the same distribution
// (two-sample, two-sided): D is the largest gap between their empirical
// distribution functions, p its asymptotic probability if they did (sound
// from about 20 samples each). Unlike a test of medians it finds a
// difference in shape, e.g. a delay that is zero half the time.
func KolmogorovSmirnov(a, b []float64) (d, p float64) {
	if len(a) == 0 || len(b) == 0 {
		return 0, 1
	}
	x, y := slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	n, m := float64(len(x)), float64(len(y))
	for i, j := 0, 0; i < len(x) && j < len(y); {
		v := math.Min(x[i], y[j])
		for i < len(x) && x[i] == v {
			i++
		}
		for j < len(y) && y[j] == v {
			j++
		}
		d = math.Max(d, math.Abs(float64(i)/n-float64(j)/m))
	}
	ne := n * m / (n + m)
	lambda := (math.Sqrt(ne) + 0.12 + 0.11/math.Sqrt(ne)) * d
	return d, kolmogorovQ(lambda)
}

// kolmogorovQ is the Kolmogorov distribution's tail, Q(λ) = 2 Σ (-1)^(k-1) e^(-2k²λ²).
func kolmogorovQ(lambda float64) float64 {
	if lambda < 0.2 {
		return 1
	}
	var sum, sign float64 = 0, 1
	for k := 1.0; k <= 100; k++ {
		term := sign * math.Exp(-2*k*k*lambda*lambda)
		sum += term
		if math.Abs(term) < 1e-12 {
			break
		}
		sign = -sign
	}
	return math.Min(math.Max(2*sum, 0), 1)
}

// Quantile is the q-quantile (0..1) of xs by nearest rank.
func Quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}
