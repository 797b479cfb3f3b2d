package load

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Push sends the run's figures (metrics.prom's text) to a Prometheus
// Pushgateway, grouped by job and run (PUT: a run pushed again replaces
// its own group only), so they sit beside the operator's own monitoring.
func Push(ctx context.Context, client *http.Client, gateway *url.URL, runID string, r *Result) error {
	u := gateway.JoinPath("metrics", "job", "kratos_conformance", "run", runID)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), strings.NewReader(r.OpenMetrics()))
	if err != nil {
		return err
	}
	// The Pushgateway reads the Prometheus text format, of which this
	// OpenMetrics text (gauges, # UNIT and # EOF as comments) is a subset.
	req.Header.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	return send(client, req, "push to")
}

// send makes a request whose answer only says whether it was taken: an
// error names what was done, where, and the receiver's own words.
func send(client *http.Client, req *http.Request, what string) error {
	resp, err := client.Do(req)
	if err != nil {
		return err // *url.Error: it names the method and URL
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: %s: %s", what, req.URL.Redacted(), resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}
