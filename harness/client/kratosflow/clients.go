// Package kratosflow drives Kratos the way its clients do, over
// kratos-client-go: browser flows with a cookie jar, API (native) flows with
// session tokens, and the admin API. It returns data and errors; the specs assert.
package kratosflow

import (
	"net/http"
	"net/http/cookiejar"
	"time"

	ory "github.com/ory/kratos-client-go"
	"golang.org/x/net/publicsuffix"

	"kratos-conformance/harness"
)

// Agent is one user agent: its own cookie jar and a public-API client using it.
// Every spec makes its own, so no two specs share cookies.
type Agent struct {
	API  *ory.APIClient
	HTTP *http.Client
	Jar  http.CookieJar
}

// AgentOption varies an agent's HTTP client.
type AgentOption func(*http.Client)

// WithHeader sends a header on every request, as a page's fetch sends its
// Origin; it is set on the transport, so every client of the agent sends it.
func WithHeader(name, value string) AgentOption {
	return func(hc *http.Client) {
		next := hc.Transport
		hc.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			r = r.Clone(r.Context())
			r.Header.Set(name, value)
			return next.RoundTrip(r)
		})
	}
}

// WithRecorder keeps the agent's exchanges in rec, for a failed spec's report.
func WithRecorder(rec *Recorder) AgentOption {
	return func(hc *http.Client) {
		if rec != nil {
			hc.Transport = rec.wrap(hc.Transport)
		}
	}
}

// WithResponses passes every answer the agent gets to seen (headers only:
// the body is the caller's), e.g. to judge every Set-Cookie of a flow.
func WithResponses(seen func(*http.Response)) AgentOption {
	return func(hc *http.Client) {
		next := hc.Transport
		hc.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := next.RoundTrip(r)
			if err == nil {
				seen(resp)
			}
			return resp, err
		})
	}
}

// NewBrowser returns an agent with an empty cookie jar, as a fresh browser.
func NewBrowser(ep harness.Endpoints, timeout time.Duration, opts ...AgentOption) (*Agent, error) {
	jar, err := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List})
	if err != nil {
		return nil, err
	}
	return newAgent(ep, jar, timeout, opts)
}

// NewNative returns an agent without cookies, as a mobile app or server client
// that carries X-Session-Token instead.
func NewNative(ep harness.Endpoints, timeout time.Duration, opts ...AgentOption) (*Agent, error) {
	return newAgent(ep, nil, timeout, opts)
}

func newAgent(ep harness.Endpoints, jar http.CookieJar, timeout time.Duration, opts []AgentOption) (*Agent, error) {
	hc, err := ep.HTTPClient(jar, timeout)
	if err != nil {
		return nil, err
	}
	for _, opt := range opts {
		opt(hc)
	}
	return &Agent{API: newAPIClient(ep.KratosPublic.String(), hc), HTTP: hc, Jar: jar}, nil
}

// Browser reports whether the agent is a browser (it keeps cookies); an app
// carries session tokens instead.
func (a *Agent) Browser() bool { return a.Jar != nil }

// NewAdmin returns a client for the admin API (kratos-client-go's IdentityAPI
// and CourierAPI paths already start with /admin).
func NewAdmin(ep harness.Endpoints, timeout time.Duration, opts ...AgentOption) (*ory.APIClient, error) {
	hc, err := ep.HTTPClient(nil, timeout)
	if err != nil {
		return nil, err
	}
	for _, opt := range opts {
		opt(hc)
	}
	return newAPIClient(ep.KratosAdmin.String(), hc), nil
}

func newAPIClient(baseURL string, hc *http.Client) *ory.APIClient {
	cfg := ory.NewConfiguration()
	cfg.Servers = ory.ServerConfigurations{{URL: trimSlash(baseURL)}}
	cfg.HTTPClient = hc
	cfg.UserAgent = "kratos-conformance"
	return ory.NewAPIClient(cfg)
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}
