package harness

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"kratos-conformance/fixtures"
)

// Providers the suite knows; kind only runs its preflight so far (issue 5).
var Providers = []string{"process", "containers", "kind", "external"}

// Config is the whole run's configuration: one flag block with the prefix
// "kc.", each flag defaulting from a KC_* environment variable for CI.
type Config struct {
	Provider string
	OutDir   string // parent of the run folders; empty: <repo>/reports/out
	Keep     bool   // leave the stack running after the run
	Faults   bool   // run the fault scenarios (label faults): they stop and restart components
	Race     int    // run the serve/courier start-order scenario this many times per order (label race); 0: skip
	Partial  bool   // a PARTIAL verdict (a filtered run) exits 0: the operator asked for part of the catalogue
	RunDir   string // write this run's reports into exactly this folder (cmd/kccertify's stacks); empty: a new folder under OutDir

	// Process provider.
	KratosBin      string // empty: build the pinned Kratos (harness/kratosbuild)
	MailpitBin     string // empty: build the Mailpit pinned in go.mod
	PostgresBinDir string // empty: PATH, then /usr/lib/postgresql/<newest>/bin
	RedisBin       string // empty: redis-server from PATH
	PublicPort     int    // 0: a free port
	AdminPort      int    // 0: a free port

	// Containers provider: images (official names by default; make images
	// builds local ones on machines without a registry).
	KratosImage   string
	PostgresImage string
	RedisImage    string
	MailpitImage  string

	// External provider: a deployment that is already running, described by a
	// target file (Target) and/or the flags below, which override the file.
	Target           string // -kc.target: a YAML file, see harness.Target
	PublicURL        string
	AdminURL         string
	MailpitURL       string
	CAFile           string
	PostgresDSN      string
	RedisAddr        string
	KratosConfigFile string // the deployment's configs.yaml, for the checklist; empty: those checks are N/A
	CookieDomain     string // empty: the parent domain of the public URL's host, with a leading dot
	Resolve          string // host=ip or .suffix=ip pairs, comma-separated, dialled instead of DNS
	UIURL            string // the self-service UI's base URL; empty: read from the Kratos config
	IdentitySchema   string // the schema id registrations use; empty: from the config or GET /schemas
	// EmailDomain is the domain of every address the suite registers; empty: DefaultEmailDomain.
	EmailDomain string

	// Profile names the fixture's Kratos config variant (fixtures.Profiles).
	Profile string
	// ExpectedFailures is an operator's file of requirements known to fail;
	// relative to the repository's root; empty: judge without one.
	ExpectedFailures string

	// Break applies a deliberate fault to the rendered Kratos config
	// (fixtures.Breakages), to prove the checks bite; "" for none.
	Break string

	// Load stage after the specs: "off", or a profile of package load.
	Load      string
	SLOWhoami time.Duration // p99 bound for whoami steps
	SLOLogin  time.Duration // p99 bound for login steps

	Intervals Intervals

	providerSet bool    // -kc.provider or KC_PROVIDER was given (a target file then must not contradict it)
	envErrs     []error // KC_* values that did not parse
}

// DefaultEmailDomain is where the suite's addresses live: a reserved name that
// never reaches the internet; Mailpit, or the courier API, shows the mail.
const DefaultEmailDomain = "conformance.example.test"

// MailDomain is the domain of the addresses the suite registers.
func (c *Config) MailDomain() string {
	if c.EmailDomain != "" {
		return c.EmailDomain
	}
	return DefaultEmailDomain
}

// DefaultConfig is the embedded local-process stack.
func DefaultConfig() Config {
	return Config{Provider: "process", Profile: "guide", Load: "off", ExpectedFailures: "expected-failures.yaml",
		KratosImage: "oryd/kratos:v1.3.1", PostgresImage: "postgres:15-bookworm",
		RedisImage: "redis:7-bookworm", MailpitImage: "axllent/mailpit:v1.33.1", SLOWhoami: 50 * time.Millisecond, SLOLogin: time.Second,
		Intervals: DefaultIntervals()}
}

// RegisterFlags adds the suite's flags to fs; call it once, from the suite.
func RegisterFlags(fs *flag.FlagSet, c *Config) {
	str := func(p *string, name, usage string) {
		fs.StringVar(p, "kc."+name, envOr(name, *p), usage+" (env "+envName(name)+")")
	}
	// A KC_* value that does not parse is an error like a bad flag, reported
	// by Validate: silently ignoring it would run something else than asked.
	fromEnv := func(name, want string, parse func(string) error) {
		if v, ok := os.LookupEnv(envName(name)); ok && v != "" {
			if err := parse(v); err != nil {
				c.envErrs = append(c.envErrs, fmt.Errorf("%s=%q is not %s (-kc.%s)", envName(name), v, want, name))
			}
		}
	}
	num := func(p *int, name, usage string) {
		fromEnv(name, "a whole number", func(v string) (err error) { *p, err = strconv.Atoi(v); return err })
		fs.IntVar(p, "kc."+name, *p, usage+" (env "+envName(name)+")")
	}
	boolean := func(p *bool, name, usage string) {
		fromEnv(name, "true or false", func(v string) (err error) { *p, err = strconv.ParseBool(v); return err })
		fs.BoolVar(p, "kc."+name, *p, usage+" (env "+envName(name)+")")
	}
	str(&c.Provider, "provider", "stack provider: "+strings.Join(Providers, " | ")+"; -kc.target implies external")
	_, c.providerSet = os.LookupEnv(envName("provider"))
	str(&c.OutDir, "out", "folder for run reports; default <repo>/reports/out")
	boolean(&c.Keep, "keep", "leave the stack running after the run and print how to stop it")
	boolean(&c.Partial, "partial", "accept a PARTIAL verdict (a label filter, focus or dry run) with exit 0")
	str(&c.RunDir, "run-dir", "write the reports into exactly this folder instead of a new one under -kc.out")
	boolean(&c.Faults, "faults", "run the fault scenarios: stop and restart Postgres, Mailpit, the courier and Kratos serve (process, containers)")
	num(&c.Race, "race", "start serve and the courier on a fresh database this many times in each order and count lost mail (process, containers; make race); 0 skips it")
	str(&c.KratosBin, "kratos-bin", "Kratos binary to test; default: build the pinned v1.3.1 from the module proxy")
	str(&c.MailpitBin, "mailpit-bin", "Mailpit binary; default: build the version pinned in go.mod")
	str(&c.PostgresBinDir, "postgres-bin-dir", "folder with initdb and postgres; default: PATH, then /usr/lib/postgresql/<newest>/bin")
	str(&c.RedisBin, "redis-bin", "redis-server binary; default: from PATH")
	num(&c.PublicPort, "public-port", "Kratos public port for the process provider; 0 picks a free one")
	num(&c.AdminPort, "admin-port", "Kratos admin port for the process provider; 0 picks a free one")
	str(&c.KratosImage, "kratos-image", "containers: Kratos image (yours, or make images' local build)")
	str(&c.PostgresImage, "postgres-image", "containers: Postgres image honouring the official POSTGRES_* contract")
	str(&c.RedisImage, "redis-image", "containers: Redis image")
	str(&c.MailpitImage, "mailpit-image", "containers: Mailpit image")
	str(&c.Target, "target", "external: a YAML file describing the deployment (URLs, CA, config, mail); flags override its fields. See docs/target.example.yaml")
	str(&c.PublicURL, "public-url", "external: Kratos public base URL, e.g. https://kratos.staging.example.com/")
	str(&c.AdminURL, "admin-url", "external: Kratos admin base URL, e.g. http://127.0.0.1:4434/")
	str(&c.MailpitURL, "mailpit-url", "external: Mailpit API base URL that receives the courier's mail; empty: codes are read from Kratos' courier_messages table (needs -kc.postgres-dsn)")
	str(&c.CAFile, "ca-file", "external: PEM file of a CA to trust for the public URL")
	str(&c.PostgresDSN, "postgres-dsn", "external: optional Postgres DSN, for the version record")
	str(&c.RedisAddr, "redis-addr", "external: optional Redis host:port, for the version record")
	str(&c.KratosConfigFile, "kratos-config", "external: the deployment's configs.yaml, so the guide's checklist can read it")
	str(&c.CookieDomain, "cookie-domain", "external: the deployment's cookies.domain, e.g. .example.com; default: the public host's parent domain")
	str(&c.Resolve, "resolve", "external: host=ip or .domain=ip pairs the test client dials instead of DNS, like curl --resolve")
	str(&c.UIURL, "ui-url", "external: the self-service UI's base URL, e.g. https://auth.example.com/; default: read from the Kratos config")
	str(&c.IdentitySchema, "identity-schema", "the identity schema id registrations use; default: identity.default_schema_id, else the one GET /schemas lists")
	str(&c.EmailDomain, "email-domain", "domain of the addresses the suite registers (one your SMTP provider accepts); default "+DefaultEmailDomain)
	str(&c.Profile, "profile", "process/containers: Kratos config profile: "+fixtures.ProfileNames())
	str(&c.Break, "break", "process/containers: break the Kratos config on purpose: "+fixtures.BreakageNames())
	str(&c.ExpectedFailures, "expected-failures", "YAML file of requirements known to fail (id, reason, expires), relative to the repository root; empty: none. See docs/expected-failures.md")
	str(&c.Load, "load", "load stage after the specs: off | smoke | capacity")
	dur := func(p *time.Duration, name, usage string) {
		fromEnv(name, "a duration like 50ms", func(v string) (err error) { *p, err = time.ParseDuration(v); return err })
		fs.DurationVar(p, "kc."+name, *p, usage+" (env "+envName(name)+")")
	}
	dur(&c.SLOWhoami, "slo-whoami", "p99 latency a whoami load step must meet")
	dur(&c.SLOLogin, "slo-login", "p99 latency a login load step must meet")
	if v := os.Getenv(envName("intervals")); v != "" {
		if err := c.Intervals.Set(v); err != nil {
			c.envErrs = append(c.envErrs, fmt.Errorf("KC_INTERVALS: %w", err))
		}
	}
	fs.Func("kc.intervals", "override named timeouts, e.g. kratos-ready=90s,mail-arrival=30s; names: "+
		strings.Join(c.Intervals.Names(), ", ")+" (env KC_INTERVALS)", c.Intervals.Set)
}

func envName(flagName string) string {
	return "KC_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func envOr(flagName, def string) string {
	if v, ok := os.LookupEnv(envName(flagName)); ok {
		return v
	}
	return def
}

// Complete runs once the flags are parsed: it notes which were given, folds
// in the target file (whose fields the flags override), then validates.
func (c *Config) Complete(fs *flag.FlagSet) error {
	fs.Visit(func(f *flag.Flag) { c.providerSet = c.providerSet || f.Name == "kc.provider" })
	if c.Target != "" {
		if err := c.applyTarget(); err != nil {
			return err
		}
	}
	return c.Validate()
}

// Validate names the flag to fix. It touches nothing, so a bad value costs no time.
func (c *Config) Validate() error {
	errs := slices.Clone(c.envErrs)
	known := false
	for _, p := range Providers {
		known = known || c.Provider == p
	}
	if !known {
		errs = append(errs, fmt.Errorf("-kc.provider=%q is not a provider; use one of: %s", c.Provider, strings.Join(Providers, ", ")))
	}
	for _, p := range []struct {
		flag string
		port int
	}{{"public-port", c.PublicPort}, {"admin-port", c.AdminPort}} {
		if p.port < 0 || p.port > 65535 {
			errs = append(errs, fmt.Errorf("-kc.%s=%d is not a TCP port (0 picks a free one)", p.flag, p.port))
		}
	}
	if c.Race < 0 {
		errs = append(errs, fmt.Errorf("-kc.race=%d: give a number of starts, or 0 to skip the scenario", c.Race))
	}
	if c.PublicPort != 0 && c.PublicPort == c.AdminPort {
		errs = append(errs, fmt.Errorf("-kc.public-port and -kc.admin-port are both %d; they must differ", c.PublicPort))
	}
	for _, f := range []struct{ flag, path string }{{"kratos-bin", c.KratosBin}, {"mailpit-bin", c.MailpitBin}, {"redis-bin", c.RedisBin}, {"ca-file", c.CAFile}, {"kratos-config", c.KratosConfigFile}} {
		if f.path == "" {
			continue
		}
		if st, err := os.Stat(f.path); err != nil || st.IsDir() {
			errs = append(errs, fmt.Errorf("-kc.%s=%q is not a file", f.flag, f.path))
		}
	}
	if c.PostgresBinDir != "" {
		if st, err := os.Stat(c.PostgresBinDir); err != nil || !st.IsDir() {
			errs = append(errs, fmt.Errorf("-kc.postgres-bin-dir=%q is not a folder", c.PostgresBinDir))
		}
	}
	if c.Provider == "external" {
		for _, u := range []struct{ flag, field, val string }{{"public-url", "public_url", c.PublicURL}, {"admin-url", "admin_url", c.AdminURL}} {
			if err := checkBaseURL(u.val); err != nil {
				errs = append(errs, fmt.Errorf("-kc.%s (target file: %s; required with -kc.provider=external): %w", u.flag, u.field, err))
			}
		}
	}
	for _, u := range []struct{ flag, val string }{{"mailpit-url", c.MailpitURL}, {"ui-url", c.UIURL}} {
		if u.val == "" {
			continue
		}
		if err := checkBaseURL(u.val); err != nil {
			errs = append(errs, fmt.Errorf("-kc.%s: %w", u.flag, err))
		}
	}
	if strings.ContainsAny(c.EmailDomain, "@ /") {
		errs = append(errs, fmt.Errorf("-kc.email-domain=%q is not a domain like mail.example.com", c.EmailDomain))
	}
	if _, err := fixtures.ForProfile(c.Profile); err != nil {
		errs = append(errs, fmt.Errorf("-kc.profile: %w", err))
	}
	if c.Break != "" {
		if _, err := fixtures.LookupBreakage(c.Break); err != nil {
			errs = append(errs, fmt.Errorf("-kc.break: %w", err))
		}
		if c.Provider == "external" {
			errs = append(errs, errors.New("-kc.break breaks a config the suite renders; an external deployment's config is its own (drop -kc.break)"))
		}
	}
	if c.SLOWhoami <= 0 || c.SLOLogin <= 0 {
		errs = append(errs, fmt.Errorf("-kc.slo-whoami and -kc.slo-login must be positive durations like 50ms"))
	}
	if _, err := ParseResolve(c.Resolve); err != nil {
		errs = append(errs, fmt.Errorf("-kc.resolve: %w", err))
	}
	return errors.Join(errs...)
}

// ParseResolve reads "host=ip,.domain=ip" into HostAliases.
func ParseResolve(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		host, ip, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || host == "" || net.ParseIP(ip) == nil {
			return nil, fmt.Errorf("%q is not host=ip (e.g. .example.test=127.0.0.1)", kv)
		}
		out[host] = ip
	}
	return out, nil
}

func checkBaseURL(s string) error {
	if s == "" {
		return errors.New("is empty")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q does not parse: %w", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q must be an absolute http(s) URL such as https://kratos.example.com/", s)
	}
	return nil
}
