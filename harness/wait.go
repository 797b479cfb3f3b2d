package harness

import (
	"context"
	"net/http"

	"kratos-conformance/internal/wait"
)

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
		if err := wait.For(ctx, wait.Input{Name: w.name, Timeout: iv.KratosReady, Interval: iv.Poll, Alive: alive,
			Check: wait.HTTPStatus(client, w.url, http.StatusOK)}); err != nil {
			return err
		}
	}
	return nil
}
