// Package external is the provider for a deployment that is already running,
// e.g. a staging cluster: it starts nothing and removes nothing, it only
// checks that the given URLs answer and records what it can learn.
package external

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"kratos-conformance/harness"
)

// Stack is the external provider's harness.Stack.
type Stack struct {
	cfg       harness.Config
	config    []byte // -kc.kratos-config, if given
	endpoints harness.Endpoints
	env       harness.Environment
}

var _ harness.Stack = (*Stack)(nil)

// New reads the URLs and the CA file from cfg; cfg.Validate has checked their form.
func New(cfg harness.Config) (*Stack, error) {
	public, err := url.Parse(cfg.PublicURL)
	if err != nil {
		return nil, err
	}
	admin, err := url.Parse(cfg.AdminURL)
	if err != nil {
		return nil, err
	}
	mail, err := url.Parse(cfg.MailpitURL)
	if err != nil {
		return nil, err
	}
	aliases, err := harness.ParseResolve(cfg.Resolve)
	if err != nil {
		return nil, err
	}
	var ca []byte
	if cfg.CAFile != "" {
		if ca, err = os.ReadFile(cfg.CAFile); err != nil {
			return nil, fmt.Errorf("-kc.ca-file: %w", err)
		}
	}
	var config []byte
	if cfg.KratosConfigFile != "" {
		if config, err = os.ReadFile(cfg.KratosConfigFile); err != nil {
			return nil, fmt.Errorf("-kc.kratos-config: %w", err)
		}
	}
	cookieDomain := cfg.CookieDomain
	if cookieDomain == "" {
		// The guide sets cookies.domain to the root domain shared by UI and Kratos.
		host := public.Hostname()
		if _, parent, ok := strings.Cut(host, "."); ok && strings.Contains(parent, ".") {
			cookieDomain = "." + parent
		} else {
			cookieDomain = host
		}
	}
	return &Stack{
		cfg: cfg, config: config,
		endpoints: harness.Endpoints{
			KratosPublic: withSlash(public), KratosAdmin: withSlash(admin), MailpitAPI: withSlash(mail),
			CookieDomain: cookieDomain, CAPEM: ca, HostAliases: aliases,
			PostgresDSN: cfg.PostgresDSN, RedisAddr: cfg.RedisAddr,
		},
		env: harness.Environment{Provider: "external", Components: map[string]string{
			"kratos-public": cfg.PublicURL, "kratos-admin": cfg.AdminURL, "mailpit": cfg.MailpitURL,
		}},
	}, nil
}

func withSlash(u *url.URL) *url.URL {
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u
}

// Up waits for the deployment to answer and records versions.
func (s *Stack) Up(ctx context.Context) error {
	client, err := s.endpoints.HTTPClient(nil, s.cfg.Intervals.HTTPRequest)
	if err != nil {
		return err
	}
	iv := s.cfg.Intervals
	// Named waits, so an unreachable or wrong URL fails within the configured
	// time and says which URL to fix.
	for _, w := range []struct{ name, url string }{
		{"Kratos admin " + s.cfg.AdminURL + " /admin/health/ready (-kc.admin-url)", s.endpoints.KratosAdmin.JoinPath("admin", "health", "ready").String()},
		{"Kratos public " + s.cfg.PublicURL + " /health/alive (-kc.public-url)", s.endpoints.KratosPublic.JoinPath("health", "alive").String()},
		{"Mailpit " + s.cfg.MailpitURL + " /readyz (-kc.mailpit-url)", s.endpoints.MailpitAPI.JoinPath("readyz").String()},
	} {
		if err := harness.WaitFor(ctx, harness.WaitInput{Name: w.name, Timeout: iv.KratosReady, Interval: iv.Poll,
			Check: harness.HTTPStatusCheck(client, w.url, http.StatusOK)}); err != nil {
			return err
		}
	}
	if s.env.KratosVersion, err = harness.KratosVersion(ctx, client, s.endpoints.KratosAdmin); err != nil {
		return err
	}
	if dsn := s.endpoints.PostgresDSN; dsn != "" {
		if s.env.PostgresVersion, err = harness.CheckPostgresVersion(ctx, dsn); err != nil {
			return fmt.Errorf("-kc.postgres-dsn: %w", err)
		}
	}
	if addr := s.endpoints.RedisAddr; addr != "" {
		if s.env.RedisVersion, err = harness.CheckRedisVersion(ctx, addr); err != nil {
			return fmt.Errorf("-kc.redis-addr: %w", err)
		}
	}
	return nil
}

func (s *Stack) Endpoints() harness.Endpoints     { return s.endpoints }
func (s *Stack) KratosConfig() []byte             { return s.config }
func (s *Stack) Environment() harness.Environment { return s.env }

// CollectLogs cannot reach a remote deployment's logs; the operator's own tooling has them.
func (s *Stack) CollectLogs(context.Context, string) error { return nil }

// Down has nothing to stop: the deployment was running before and stays.
func (s *Stack) Down(context.Context) error { return nil }

func (s *Stack) Keep() string { return "External deployment: nothing was started, nothing to stop." }
