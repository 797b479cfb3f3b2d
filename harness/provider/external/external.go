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

	"kratos-conformance/internal/wait"

	"kratos-conformance/fixtures"
	"kratos-conformance/harness"
	"kratos-conformance/harness/checks"
)

// Stack is the external provider's harness.Stack.
type Stack struct {
	cfg       harness.StackConfig
	opts      Options
	config    []byte // -kc.kratos-config, if given
	endpoints harness.Endpoints
	env       harness.Environment
}

var (
	_ harness.Stack    = (*Stack)(nil)
	_ harness.Borrowed = (*Stack)(nil)
)

// New reads the URLs, the CA and the Kratos config from cfg; cfg.Validate has checked their form.
func New(cfg harness.StackConfig, o Options) (*Stack, error) {
	var err error
	aliases := o.Resolve.Map
	var ca []byte
	if o.CAFile != "" {
		if ca, err = os.ReadFile(o.CAFile); err != nil {
			return nil, fmt.Errorf("-kc.ca-file (target file: ca_file): %w", err)
		}
	}
	var config []byte
	var parsed *checks.Config
	if cfg.KratosConfig != "" {
		if config, err = os.ReadFile(cfg.KratosConfig); err != nil {
			return nil, fmt.Errorf("-kc.kratos-config (target file: kratos_config): %w", err)
		}
		if config, err = fixtures.WithEnvFile(config, cfg.KratosEnv); err != nil {
			return nil, err
		}
		if parsed, err = checks.ParseConfig(config); err != nil {
			return nil, fmt.Errorf("-kc.kratos-config %s: %w", cfg.KratosConfig, err)
		}
	}
	ep := harness.Endpoints{
		KratosPublic: o.PublicURL.WithSlash(), KratosAdmin: o.AdminURL.WithSlash(), MailpitAPI: o.MailpitURL.WithSlash(),
		CookieDomain: cookieDomain(o.CookieDomain, parsed, o.PublicURL.URL.Hostname()), CAPEM: ca, HostAliases: aliases,
		PostgresDSN: o.PostgresDSN, RedisAddr: o.RedisAddr,
	}
	components := map[string]string{"kratos-public": o.PublicURL.String(), "kratos-admin": o.AdminURL.String()}
	if o.MailpitURL.Given() {
		components["mailpit"] = o.MailpitURL.String()
	}
	if ep.UIBase, err = uiBase(o.UIURL.URL, parsed); err != nil {
		return nil, err
	}
	return &Stack{cfg: cfg, opts: o, config: config, endpoints: ep,
		env: harness.Environment{Provider: "external", Components: components}}, nil
}

// cookieDomain is the one given, else the config's cookies.domain, else the
// public host's parent domain (the guide shares the root domain with the UI).
func cookieDomain(given string, config *checks.Config, publicHost string) string {
	if given != "" {
		return given
	}
	if config != nil {
		if d, ok := config.Value("cookies.domain"); ok && d != "" {
			return d
		}
	}
	if _, parent, ok := strings.Cut(publicHost, "."); ok && strings.Contains(parent, ".") {
		return "." + parent
	}
	return publicHost
}

// uiBase is the origin of the given UI URL, else of the config's login UI
// (or default return URL); nil when neither is known, and the specs that
// need a UI origin say so.
func uiBase(given *url.URL, config *checks.Config) (*url.URL, error) {
	u := given
	if u == nil && config != nil && config.UIURL() != "" {
		var err error
		if u, err = url.Parse(config.UIURL()); err != nil || u.Host == "" {
			return nil, fmt.Errorf("the UI URL %q is not absolute; pass -kc.ui-url (target file: ui_url)", config.UIURL())
		}
	}
	if u == nil {
		return nil, nil
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/"}, nil
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
	waits := []struct{ name, url string }{
		// alive, not ready: readiness includes the migrations check, which
		// CL-MIGRATE-001 judges; serve only listens once its database answers.
		{"Kratos admin " + s.opts.AdminURL.String() + " /admin/health/alive (-kc.admin-url, target file: admin_url)", s.endpoints.KratosAdmin.JoinPath("admin", "health", "alive").String()},
		{"Kratos public " + s.opts.PublicURL.String() + " /health/alive (-kc.public-url, target file: public_url)", s.endpoints.KratosPublic.JoinPath("health", "alive").String()},
	}
	if s.endpoints.MailpitAPI != nil {
		waits = append(waits, struct{ name, url string }{"Mailpit " + s.opts.MailpitURL.String() + " /readyz (-kc.mailpit-url, target file: mailpit_url)", s.endpoints.MailpitAPI.JoinPath("readyz").String()})
	}
	for _, w := range waits {
		if err := wait.For(ctx, wait.Input{Name: w.name, Timeout: iv.KratosReady, Interval: iv.Poll,
			Check: wait.HTTPStatus(client, w.url, http.StatusOK)}); err != nil {
			return err
		}
	}
	if s.env.KratosVersion, err = harness.KratosVersion(ctx, client, s.endpoints.KratosAdmin); err != nil {
		return err
	}
	if dsn := s.endpoints.PostgresDSN; dsn != "" {
		if s.env.PostgresVersion, err = harness.CheckPostgresVersion(ctx, dsn); err != nil {
			return fmt.Errorf("-kc.postgres-dsn (target file: postgres_dsn): %w", err)
		}
	}
	if addr := s.endpoints.RedisAddr; addr != "" {
		if s.env.RedisVersion, err = harness.CheckRedisVersion(ctx, addr); err != nil {
			return fmt.Errorf("-kc.redis-addr (target file: redis_addr): %w", err)
		}
	}
	return nil
}

// Borrowed: the deployment was running before the suite and stays.
func (s *Stack) Borrowed() {}

func (s *Stack) Endpoints() harness.Endpoints     { return s.endpoints }
func (s *Stack) KratosConfig() []byte             { return s.config }
func (s *Stack) Environment() harness.Environment { return s.env }

// CollectLogs cannot reach a remote deployment's logs; the operator's own tooling has them.
func (s *Stack) CollectLogs(context.Context, string) error { return nil }

// Down has nothing to stop: the deployment was running before and stays.
func (s *Stack) Down(context.Context) error { return nil }

func (s *Stack) Keep() string { return "External deployment: nothing was started, nothing to stop." }
