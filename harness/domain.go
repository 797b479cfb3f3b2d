package harness

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"kratos-conformance/fixtures"
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
func NewLocalCA() (*testca.CA, error) { return GuideSite().CA() }

// Site is the host names a local stack serves under: the guide's
// example.test, or the operator's own (-kc.kratos-config), each dialled on
// loopback by the test clients, so nothing leaves the machine.
type Site struct {
	PublicHost   string
	UIBase       *url.URL // nil: the config names no UI
	CookieDomain string   // leading dot included; empty: host-only cookies
}

// GuideSite is the production-like local setup under example.test.
func GuideSite() Site {
	return Site{PublicHost: KratosHost, UIBase: &url.URL{Scheme: "https", Host: UIHost, Path: "/"}, CookieDomain: "." + RootDomain}
}

// OwnSite reads the host names from an operator's config (with their
// environment): the public base URL's host, the UI, the cookie domain.
func OwnSite(eff fixtures.Doc) Site {
	site := Site{PublicHost: KratosHost, CookieDomain: eff.String("cookies.domain")}
	if site.CookieDomain == "" {
		site.CookieDomain = eff.String("session.cookie.domain")
	}
	if u, err := url.Parse(eff.String("serve.public.base_url")); err == nil && u.Hostname() != "" {
		site.PublicHost = u.Hostname()
	}
	ui := eff.String("selfservice.flows.login.ui_url")
	if ui == "" {
		ui = eff.String("selfservice.default_browser_return_url")
	}
	if u, err := url.Parse(ui); err == nil && u.Host != "" {
		site.UIBase = &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/"}
	}
	return site
}

// CA makes the run's throwaway CA with a certificate for the site's hosts.
func (s Site) CA() (*testca.CA, error) {
	hosts := []string{s.PublicHost}
	if s.UIBase != nil && s.UIBase.Hostname() != s.PublicHost {
		hosts = append(hosts, s.UIBase.Hostname())
	}
	if d := strings.TrimPrefix(s.CookieDomain, "."); d != "" && strings.Contains(d, ".") {
		hosts = append(hosts, "*."+d)
	}
	return testca.New(hosts...)
}

// aliases maps every host of the site to loopback.
func (s Site) aliases() map[string]string {
	out := map[string]string{s.PublicHost: "127.0.0.1"}
	if s.UIBase != nil {
		out[s.UIBase.Hostname()] = "127.0.0.1"
	}
	if s.CookieDomain != "" {
		out["."+strings.TrimPrefix(s.CookieDomain, ".")] = "127.0.0.1"
	}
	return out
}

// Resolve is the site's aliases as a resolve flag's value.
func (s Site) Resolve() HostAliases {
	var h HostAliases
	h.SetMap(s.aliases(), "the site")
	return h
}

// LocalEndpoints fills what every local provider shares: the UI on the
// cookie domain, the CA to trust, and the site's hosts dialled on loopback.
func LocalEndpoints(site Site, public, admin, mailpit *url.URL, ca *testca.CA) Endpoints {
	return Endpoints{
		KratosPublic: public, KratosAdmin: admin, MailpitAPI: mailpit,
		UIBase: site.UIBase, CookieDomain: site.CookieDomain,
		CAPEM:       ca.CAPEM,
		HostAliases: site.aliases(),
	}
}

// LocalTLS makes the run's CA for the site, writes it to runDir/ca.crt (so a
// user can curl a kept stack), and returns the Kratos base URLs for the given
// host ports: public over TLS under the site's host name, admin in plain
// HTTP on loopback.
func LocalTLS(runDir string, site Site, publicPort, adminPort int) (ca *testca.CA, public, admin *url.URL, err error) {
	if ca, err = site.CA(); err != nil {
		return nil, nil, nil, err
	}
	if err := os.WriteFile(filepath.Join(runDir, "ca.crt"), ca.CAPEM, 0o644); err != nil {
		return nil, nil, nil, err
	}
	public = &url.URL{Scheme: "https", Host: site.PublicHost + ":" + strconv.Itoa(publicPort), Path: "/"}
	admin = &url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(adminPort), Path: "/"}
	return ca, public, admin, nil
}

// FreePort asks the kernel for an unused loopback port that this process has
// not handed out before: the kernel may give the port it just gave again once
// its listener closed (measured: Kratos' public and admin ports both 41605,
// and serve refused to start). Another program could still take it before
// the component binds it; the component's readiness wait then fails with its
// log, which names the port.
func FreePort() (int, error) {
	issued.Lock()
	defer issued.Unlock()
	for range 64 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find a free loopback port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !issued.ports[port] {
			issued.ports[port] = true
			return port, nil
		}
	}
	return 0, errors.New("find a free loopback port: the kernel gave only ports already handed out, 64 times")
}

// issued are the ports FreePort handed out in this process.
var issued = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}
