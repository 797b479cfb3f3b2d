package harness

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// WaitInput describes one named readiness wait.
type WaitInput struct {
	Name     string        // what is awaited, for the error: "Kratos admin /admin/health/ready"
	Timeout  time.Duration // from Intervals, never a literal
	Interval time.Duration // Intervals.Poll
	// Check reports nil once ready; its last error is quoted on timeout.
	Check func(ctx context.Context) error
	// Alive, when set, reports why waiting is pointless (the process exited);
	// the wait then fails at once instead of running out its timeout.
	Alive func() error
}

// WaitFor polls in.Check until it succeeds, in.Timeout runs out, or ctx ends.
func WaitFor(ctx context.Context, in WaitInput) error {
	if in.Name == "" || in.Timeout <= 0 || in.Interval <= 0 || in.Check == nil {
		return fmt.Errorf("harness.WaitFor: Name, Timeout, Interval and Check are required (got %+v)", in)
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

// HTTPStatusCheck is a Check that wants status want from GET url.
func HTTPStatusCheck(client *http.Client, url string, want int) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
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

// WaitForKratos runs the two named readiness waits every provider needs:
// admin ready means the database is reachable; public alive means the TLS
// listener serves the run's certificate under the public name. alive, when
// set, ends the wait early if the serve process or container is gone.
func WaitForKratos(ctx context.Context, ep Endpoints, iv Intervals, alive func() error) error {
	client, err := ep.HTTPClient(nil, iv.HTTPRequest)
	if err != nil {
		return err
	}
	for _, w := range []struct{ name, url string }{
		{"Kratos admin /admin/health/ready", ep.KratosAdmin.JoinPath("admin", "health", "ready").String()},
		{"Kratos public /health/alive over TLS", ep.KratosPublic.JoinPath("health", "alive").String()},
	} {
		if err := WaitFor(ctx, WaitInput{Name: w.name, Timeout: iv.KratosReady, Interval: iv.Poll, Alive: alive,
			Check: HTTPStatusCheck(client, w.url, http.StatusOK)}); err != nil {
			return err
		}
	}
	return nil
}
