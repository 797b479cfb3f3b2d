package harness

import "net/url"

// Host names of the production-like local setup: Kratos and the UI share the
// cookie domain example.test, a reserved name that never resolves on the
// internet; test clients map it to loopback in their own dialer.
const (
	RootDomain = "example.test"
	KratosHost = "kratos." + RootDomain
	UIHost     = "auth." + RootDomain
)

// NewLocalCA makes the run's throwaway CA and a certificate for the Kratos
// and UI hosts.
func NewLocalCA() (*TestCA, error) {
	return NewTestCA(KratosHost, UIHost, "*."+RootDomain)
}

// LocalEndpoints fills what every local provider shares: the UI on the
// cookie domain, the CA to trust, and *.example.test dialled on loopback.
func LocalEndpoints(public, admin, mailpit *url.URL, ca *TestCA) Endpoints {
	return Endpoints{
		KratosPublic: public, KratosAdmin: admin, MailpitAPI: mailpit,
		UIBase:       &url.URL{Scheme: "https", Host: UIHost, Path: "/"},
		CookieDomain: "." + RootDomain,
		CAPEM:        ca.CAPEM,
		HostAliases:  map[string]string{"." + RootDomain: "127.0.0.1"},
	}
}
