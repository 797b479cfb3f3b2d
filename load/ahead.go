package load

import (
	"sync"
	"time"
)

// prepareAhead makes n flows before an attack, at most concurrency at once,
// each by one call of create (which returns how long its API call took),
// and returns them with the figure of the whole: login's and
// registration's flows are made ahead so the attack measures the submit.
func prepareAhead[T any](n, concurrency int, create func(i int) (T, time.Duration, error)) ([]T, *FlowSetup, error) {
	out := make([]T, n)
	lat := make([]time.Duration, n)
	errs := make(chan error, n)
	slots := make(chan struct{}, max(1, concurrency))
	var wg sync.WaitGroup
	start := time.Now()
	for i := range out {
		wg.Add(1)
		slots <- struct{}{}
		go func(i int) {
			defer func() { <-slots; wg.Done() }()
			var err error
			if out[i], lat[i], err = create(i); err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, nil, err
	}
	elapsed := time.Since(start)
	q := quantiles(lat)
	return out, &FlowSetup{Flows: n, Seconds: elapsed.Seconds(), PerSecond: float64(n) / elapsed.Seconds(),
		P50Millis: q(0.5), P99Millis: q(0.99), MaxMillis: q(1), Concurrent: concurrency}, nil
}
