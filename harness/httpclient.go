package harness

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// HTTPClient returns a client for the deployment: it trusts the run's CA,
// dials HostAliases instead of asking DNS, and never follows redirects, so a
// spec always sees the status Kratos sent (a 303 is not a success).
// jar may be nil (API flows carry tokens, not cookies).
func (e Endpoints) HTTPClient(jar http.CookieJar, timeout time.Duration) (*http.Client, error) {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if len(e.CAPEM) > 0 && !roots.AppendCertsFromPEM(e.CAPEM) {
		return nil, errors.New("the CA PEM holds no certificate; check -kc.ca-file")
	}
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:               nil, // the deployment is local or named explicitly; never via a proxy
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, e.DialAddr(addr))
		},
	}
	return &http.Client{
		Jar:           jar,
		Timeout:       timeout,
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// DialAddr is the address the test client dials for hostport: its
// host:port alias (a port-forward), else its host's alias (-kc.resolve, a
// provider's local mapping) with the same port, else hostport itself.
func (e Endpoints) DialAddr(hostport string) string {
	if to, ok := e.HostAliases[hostport]; ok {
		return to
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	if ip := e.aliasFor(host); ip != "" {
		return net.JoinHostPort(ip, port)
	}
	return hostport
}

// HostPort is the URL's host:port as a client dials it: the scheme's port when it names none.
func HostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), map[string]string{"https": "443", "http": "80"}[u.Scheme])
}

func (e Endpoints) aliasFor(host string) string {
	if ip, ok := e.HostAliases[host]; ok {
		return ip
	}
	for name, ip := range e.HostAliases {
		if strings.HasPrefix(name, ".") && strings.HasSuffix(host, name) {
			return ip
		}
	}
	return ""
}
