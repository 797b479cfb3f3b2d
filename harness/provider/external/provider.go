package external

import (
	"context"
	"errors"
	"fmt"

	"kratos-conformance/harness"
)

func init() {
	harness.RegisterProvider("external", "a running deployment, by URL or -kc.target",
		func() harness.Provider { return &provider{} })
}

// Options describe the deployment: a target file (Target) and/or the flags,
// which override the file's fields.
type Options struct {
	Target       string // -kc.target: a YAML file, see Target
	PublicURL    harness.BaseURL
	AdminURL     harness.BaseURL
	MailpitURL   harness.BaseURL
	CAFile       string
	PostgresDSN  string
	RedisAddr    string
	CookieDomain string              // empty: the config's cookies.domain, else the public host's parent domain
	Resolve      harness.HostAliases // dialled instead of DNS
	UIURL        harness.BaseURL     // the self-service UI's base URL; empty: read from the Kratos config
}

type provider struct{ o Options }

func (p *provider) Flags(f *harness.Flags) {
	f.String(&p.o.Target, "target", "external: a YAML file describing the deployment (URLs, CA, config, mail); flags override its fields; implies -kc.provider=external. See docs/target.example.yaml")
	f.BaseURL(&p.o.PublicURL, "public-url", "external: Kratos public base URL, e.g. https://kratos.staging.example.com/")
	f.BaseURL(&p.o.AdminURL, "admin-url", "external: Kratos admin base URL, e.g. http://127.0.0.1:4434/")
	f.BaseURL(&p.o.MailpitURL, "mailpit-url", "external: Mailpit API base URL that receives the courier's mail; empty: codes are read from Kratos' courier_messages table (needs -kc.postgres-dsn)")
	f.String(&p.o.CAFile, "ca-file", "external: PEM file of a CA to trust for the public URL")
	f.String(&p.o.PostgresDSN, "postgres-dsn", "external: optional Postgres DSN, for the version record")
	f.String(&p.o.RedisAddr, "redis-addr", "external: optional Redis host:port, for the version record")
	f.String(&p.o.CookieDomain, "cookie-domain", "external: the deployment's cookies.domain, e.g. .example.com; default: the public host's parent domain")
	f.HostAliases(&p.o.Resolve, "resolve", "external: host=ip or .domain=ip pairs the test client dials instead of DNS, like curl --resolve")
	f.BaseURL(&p.o.UIURL, "ui-url", "external: the self-service UI's base URL, e.g. https://auth.example.com/; default: read from the Kratos config")
}

// Complete folds in the target file, which makes the run an external one.
func (p *provider) Complete() (harness.Implied, error) {
	if p.o.Target == "" {
		return harness.Implied{}, nil
	}
	return p.o.applyTarget()
}

func (p *provider) Validate(c *harness.Config) error {
	var errs []error
	for _, u := range []struct {
		flag, field string
		val         *harness.BaseURL
	}{{"public-url", "public_url", &p.o.PublicURL}, {"admin-url", "admin_url", &p.o.AdminURL}} {
		if err := u.val.Check(); err != nil {
			errs = append(errs, fmt.Errorf("-kc.%s (target file: %s; required with -kc.provider=external): %w", u.flag, u.field, err))
		}
	}
	for _, u := range []struct {
		flag string
		val  *harness.BaseURL
	}{{"mailpit-url", &p.o.MailpitURL}, {"ui-url", &p.o.UIURL}} {
		if u.val.Err != nil {
			errs = append(errs, fmt.Errorf("-kc.%s: %w", u.flag, u.val.Err))
		}
	}
	errs = append(errs, harness.CheckFile("ca-file", p.o.CAFile))
	if err := p.o.Resolve.Err; err != nil {
		errs = append(errs, fmt.Errorf("-kc.resolve: %w", err))
	}
	if c.Break != "" {
		errs = append(errs, errors.New("-kc.break breaks a config the suite renders; an external deployment's config is its own (drop -kc.break)"))
	}
	return errors.Join(errs...)
}

// TakesOwnConfig: external reads -kc.kratos-config for the checklist.
func (p *provider) TakesOwnConfig() {}

func (p *provider) New(_ context.Context, in harness.StackInput) (harness.Stack, error) {
	return New(in.Config, p.o)
}
