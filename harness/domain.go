package harness

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"kratos-conformance/internal/testca"
)

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
func NewLocalCA() (*testca.CA, error) {
	return testca.New(KratosHost, UIHost, "*."+RootDomain)
}

// LocalEndpoints fills what every local provider shares: the UI on the
// cookie domain, the CA to trust, and *.example.test dialled on loopback.
func LocalEndpoints(public, admin, mailpit *url.URL, ca *testca.CA) Endpoints {
	return Endpoints{
		KratosPublic: public, KratosAdmin: admin, MailpitAPI: mailpit,
		UIBase:       &url.URL{Scheme: "https", Host: UIHost, Path: "/"},
		CookieDomain: "." + RootDomain,
		CAPEM:        ca.CAPEM,
		HostAliases:  map[string]string{"." + RootDomain: "127.0.0.1"},
	}
}

// LocalTLS makes the run's CA, writes it to runDir/ca.crt (so a user can curl
// a kept stack), and returns the Kratos base URLs for the given host ports:
// public over TLS under the Kratos host name, admin in plain HTTP on loopback.
func LocalTLS(runDir string, publicPort, adminPort int) (ca *testca.CA, public, admin *url.URL, err error) {
	if ca, err = NewLocalCA(); err != nil {
		return nil, nil, nil, err
	}
	if err := os.WriteFile(filepath.Join(runDir, "ca.crt"), ca.CAPEM, 0o644); err != nil {
		return nil, nil, nil, err
	}
	public = &url.URL{Scheme: "https", Host: KratosHost + ":" + strconv.Itoa(publicPort), Path: "/"}
	admin = &url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(adminPort), Path: "/"}
	return ca, public, admin, nil
}

// FreePort asks the kernel for an unused loopback port. Another program could
// take it before the component binds it; the component's readiness wait then
// fails with its log, which names the port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
