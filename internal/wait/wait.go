// Package wait polls a named readiness check until it passes, its bound
// runs out, or what it waits on is gone; the error names what to raise.
package wait

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Input describes one named readiness wait.
type Input struct {
	Name     string        // what is awaited, for the error: "Kratos admin /admin/health/ready"
	Timeout  time.Duration // from Intervals, never a literal
	Interval time.Duration // Intervals.Poll
	// Check reports nil once ready; its last error is quoted on timeout.
	Check func(ctx context.Context) error
	// Alive, when set, reports why waiting is pointless (the process exited);
	// the wait then fails at once instead of running out its timeout.
	Alive func() error
}

// For polls in.Check until it succeeds, in.Timeout runs out, or ctx ends.
func For(ctx context.Context, in Input) error {
	if in.Name == "" || in.Timeout <= 0 || in.Interval <= 0 || in.Check == nil {
		return fmt.Errorf("wait.For: Name, Timeout, Interval and Check are required (got %+v)", in)
	}
	ctx, cancel := context.WithTimeout(ctx, in.Timeout)
	defer cancel()
	tick := time.NewTicker(in.Interval)
	defer tick.Stop()
	var last error
	for {
		if in.Alive != nil {
			if err := in.Alive(); err != nil {
				return fmt.Errorf("waiting for %s: %w", in.Name, err)
			}
		}
		err := in.Check(ctx)
		if err == nil {
			return nil
		}
		var final *finalError
		if errors.As(err, &final) {
			return fmt.Errorf("waiting for %s: %w", in.Name, final.err)
		}
		// Keep the last meaningful error: the final try often fails only
		// because the wait's own deadline cut it short.
		if last == nil || ctx.Err() == nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready within %s (last error: %v); raise it with -kc.intervals if the machine is slow", in.Name, in.Timeout, last)
		case <-tick.C:
		}
	}
}

// Final marks a Check's error as one that waiting cannot mend (a
// certificate that fails verification): For returns it at once.
func Final(err error) error { return &finalError{err} }

type finalError struct{ err error }

func (f *finalError) Error() string { return f.err.Error() }
func (f *finalError) Unwrap() error { return f.err }

// HTTPStatus is a Check that wants status want from GET url. A TLS
// certificate that fails verification is final: it will not fix itself.
func HTTPStatus(client *http.Client, url string, want int) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			if cert := CertificateOf(url, err); cert != nil {
				return Final(cert)
			}
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		if resp.StatusCode != want {
			return fmt.Errorf("GET %s answered %d, want %d: %s", url, resp.StatusCode, want, body)
		}
		return nil
	}
}
