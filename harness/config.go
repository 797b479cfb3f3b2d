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

// Config is what every run shares, whatever the provider: one flag block with
// the prefix "kc.", each flag defaulting from a KC_* environment variable for
// CI. Each provider adds its own flags (see Provider).
type Config struct {
	Provider string
	OutDir   string // parent of the run folders; empty: <repo>/reports/out
	Keep     bool   // leave the stack running after the run
	Faults   bool   // run the fault scenarios (label faults): they stop and restart components
	Race     int    // run the serve/courier start-order scenario this many times per order (label race); 0: skip
	Partial  bool   // a PARTIAL verdict (a filtered run) exits 0: the operator asked for part of the catalogue
	RunDir   string // write this run's reports into exactly this folder (cmd/kccertify's stacks); empty: a new folder under OutDir

	// IdentitySchema is the schema id registrations use; empty: from the config or GET /schemas.
	IdentitySchema string
	// EmailDomain is the domain of every address the suite registers; empty: DefaultEmailDomain.
	EmailDomain string

	// Profile names the fixture's Kratos config variant (fixtures.Profiles)
	// for providers that render the config.
	Profile string
	// KratosConfig is the operator's own Kratos config file: stacks the
	// suite starts run it in place of the guide's (overlaying only what
	// they must own, each overlay reported); external reads it for the
	// checklist. KratosEnv is the KEY=VALUE file Kratos reads beside it;
	// KeepOffline keeps settings that need the internet as written.
	// OwnFiles is a YAML file naming them (OwnFilesFile).
	KratosConfig string
	KratosEnv    string
	KeepOffline  bool
	OwnFiles     string
	// Break applies a deliberate fault to the rendered Kratos config
	// (fixtures.Breakages), to prove the checks bite; "" for none.
	Break string
	// ExpectedFailures is an operator's file of requirements known to fail;
	// relative to the repository's root; empty: judge without one.
	ExpectedFailures string
	// UpgradeFrom is the older Kratos the stack starts on, upgraded to the
	// Kratos under test by the upgrade specs: a binary or an image, as the
	// provider reads it (UpgradeProvider); empty: no upgrade.
	UpgradeFrom string

	// Load stage after the specs: "off", a built-in profile of package load,
	// or a workload file (-kc.workload sets it).
	Load     string
	Workload string
	// LoadAfter: the load stage waits for this file to exist (another stack on
	// the same machine is done: cmd/kccertify's expiry stack), so no other
	// stack's work lands in a measured window.
	LoadAfter string
	SLOWhoami time.Duration // p99 bound for whoami steps
	SLOLogin  time.Duration // p99 bound for login steps
	// RolloutDropBudget is the share of requests a rolling restart of serve
	// may drop in transport (REPLICA-002): a pod that closes while its
	// Service still sends to it. 0 for a deployment that drains (preStop).
	RolloutDropBudget float64
	// Policy is what the security findings count as: PolicyGuide (warnings,
	// the guide's bar) or PolicyASVSL2 (failures, naming the ASVS item).
	Policy string

	// Soak holds the workload's mix this long after its search (0: no
	// soak), judged every SoakWindow, at SoakFraction of its max; a soak over
	// SoakMax is refused, so a typo cannot occupy a deployment for a day.
	Soak, SoakWindow, SoakMax time.Duration
	SoakFraction              float64

	// LoadGenerators: whoami's and alive's load steps run on this many generator pods
	// (stacks with a cluster and the suite's image); 0: from this process.
	LoadGenerators   int
	LoadGeneratorCPU string // each generator pod's CPU request and limit, e.g. 500m
	// LoadReplicas: the load stage measures its workload at each of these
	// counts of serve replicas, in order (providers that scale serve).
	LoadReplicas []int
	// LoadPush is a Prometheus Pushgateway the load figures are pushed to;
	// LoadRemoteWrite a Prometheus remote-write endpoint they are written to; "": none.
	LoadPush, LoadRemoteWrite string

	Intervals Intervals

	providers   map[string]Provider // one per registered provider, holding its flags
	providerSet bool                // -kc.provider or KC_PROVIDER was given (a target file then must not contradict it)
	envErrs     []error             // KC_* values that did not parse
	flagOwner   map[string]string   // kc.<name> -> the provider whose flag it is
	given       []string            // the provider flags given on the command line
}

// Policies: -kc.policy.
const (
	PolicyGuide  = "guide"
	PolicyASVSL2 = "asvs-l2"
)

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

// ProviderSet reports whether -kc.provider or KC_PROVIDER chose the provider.
func (c *Config) ProviderSet() bool { return c.providerSet }

// DefaultConfig is the embedded local-process stack.
func DefaultConfig() Config {
	c := Config{Provider: "process", Profile: "guide", Load: "off", Policy: PolicyGuide, ExpectedFailures: "expected-failures.yaml",
		SLOWhoami: 50 * time.Millisecond, SLOLogin: time.Second, RolloutDropBudget: 0.01, SoakWindow: 5 * time.Minute, SoakMax: time.Hour, SoakFraction: 0.5, LoadGeneratorCPU: "1", Intervals: DefaultIntervals(),
		providers: map[string]Provider{}, flagOwner: map[string]string{}}
	for _, r := range registry {
		c.providers[r.name] = r.factory()
	}
	return c
}

// Flags binds kc.* flags to one flag set, each defaulting from its KC_*
// variable. A KC_* value that does not parse is an error like a bad flag,
// reported by Validate: silently ignoring it would run something else than asked.
type Flags struct {
	fs    *flag.FlagSet
	c     *Config
	owner string // the provider whose flags are being added; "" for the suite's own
}

func (f *Flags) fromEnv(name, want string, parse func(string) error) {
	if v, ok := os.LookupEnv(envName(name)); ok && v != "" {
		if err := parse(v); err != nil {
			f.c.envErrs = append(f.c.envErrs, fmt.Errorf("%s=%q is not %s (-kc.%s)", envName(name), v, want, name))
		}
	}
}

// String adds -kc.<name>.
func (f *Flags) String(p *string, name, usage string) {
	f.own(name)
	f.fs.StringVar(p, "kc."+name, envOr(name, *p), usage+" (env "+envName(name)+")")
}

// Int adds -kc.<name>.
func (f *Flags) Int(p *int, name, usage string) {
	f.own(name)
	f.fromEnv(name, "a whole number", func(v string) (err error) { *p, err = strconv.Atoi(v); return err })
	f.fs.IntVar(p, "kc."+name, *p, usage+" (env "+envName(name)+")")
}

// Bool adds -kc.<name>.
func (f *Flags) Bool(p *bool, name, usage string) {
	f.own(name)
	f.fromEnv(name, "true or false", func(v string) (err error) { *p, err = strconv.ParseBool(v); return err })
	f.fs.BoolVar(p, "kc."+name, *p, usage+" (env "+envName(name)+")")
}

// Duration adds -kc.<name>.
func (f *Flags) Duration(p *time.Duration, name, usage string) {
	f.own(name)
	f.fromEnv(name, "a duration like 50ms", func(v string) (err error) { *p, err = time.ParseDuration(v); return err })
	f.fs.DurationVar(p, "kc."+name, *p, usage+" (env "+envName(name)+")")
}

// Float adds -kc.<name>.
func (f *Flags) Float(p *float64, name, usage string) {
	f.own(name)
	f.fromEnv(name, "a number", func(v string) (err error) { *p, err = strconv.ParseFloat(v, 64); return err })
	f.fs.Float64Var(p, "kc."+name, *p, usage+" (env "+envName(name)+")")
}

// HostAliases adds -kc.<name>, host=ip pairs parsed once (HostAliases).
func (f *Flags) HostAliases(p *HostAliases, name, usage string) {
	f.own(name)
	f.fromEnv(name, "host=ip pairs", p.Set)
	f.fs.Var(p, "kc."+name, usage+" (env "+envName(name)+")")
}

// BaseURL adds -kc.<name>, an absolute http(s) URL parsed once (BaseURL).
func (f *Flags) BaseURL(p *BaseURL, name, usage string) {
	f.own(name)
	f.fromEnv(name, "a URL", p.Set)
	f.fs.Var(p, "kc."+name, usage+" (env "+envName(name)+")")
}

// Counts adds -kc.<name>, a comma-separated list of whole numbers.
func (f *Flags) Counts(p *[]int, name, usage string) {
	f.own(name)
	parse := func(v string) error {
		*p = nil
		for part := range strings.SplitSeq(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil {
				return err
			}
			*p = append(*p, n)
		}
		return nil
	}
	f.fromEnv(name, "whole numbers separated by commas", parse)
	f.fs.Func("kc."+name, usage+" (env "+envName(name)+")", parse)
}

// own notes which provider's flag -kc.<name> is.
func (f *Flags) own(name string) {
	if f.owner != "" {
		f.c.flagOwner["kc."+name] = f.owner
	}
}

// RegisterFlags adds the suite's flags, and every provider's, to fs; call it
// once per flag set, from the suite.
func RegisterFlags(fs *flag.FlagSet, c *Config) {
	f := &Flags{fs: fs, c: c}
	f.String(&c.Provider, "provider", "stack provider: "+providerUsage())
	_, c.providerSet = os.LookupEnv(envName("provider"))
	f.String(&c.OutDir, "out", "folder for run reports; default <repo>/reports/out")
	f.Bool(&c.Keep, "keep", "leave the stack running after the run and print how to stop it")
	f.Bool(&c.Partial, "partial", "accept a PARTIAL verdict (a label filter, focus or dry run) with exit 0")
	f.String(&c.RunDir, "run-dir", "write the reports into exactly this folder instead of a new one under -kc.out")
	f.Bool(&c.Faults, "faults", "run the fault scenarios: stop and restart Postgres, Mailpit, the courier and Kratos serve (providers that can)")
	f.Int(&c.Race, "race", "start serve and the courier on a fresh database this many times in each order and count lost mail (providers that can; make race); 0 skips it")
	f.String(&c.IdentitySchema, "identity-schema", "the identity schema id registrations use; default: identity.default_schema_id, else the one GET /schemas lists")
	f.String(&c.EmailDomain, "email-domain", "domain of the addresses the suite registers (one your SMTP provider accepts); default "+DefaultEmailDomain)
	f.String(&c.Profile, "profile", "providers that render Kratos' config: its profile: "+fixtures.ProfileNames())
	f.String(&c.OwnFiles, "own-files", "a YAML file naming the operator's deployment files (kratos_config, kratos_env, keep_offline; paths relative to it); flags override its fields")
	f.String(&c.KratosConfig, "kratos-config", "the operator's own Kratos config file: process and containers run it (schemas and templates it names as file:// are copied; the stack overlays only its addresses, database, TLS, mail and missing secrets, each listed in the report); external reads it for the config checklist")
	f.String(&c.KratosEnv, "kratos-env", "a file of KEY=VALUE lines Kratos reads as environment beside -kc.kratos-config (e.g. SECRETS_COOKIE, DSN; variables of keys the stack owns are not passed, and listed)")
	f.Bool(&c.KeepOffline, "keep-offline", "keep the settings of -kc.kratos-config that need the internet (haveibeenpwned, web hooks to hosts that do not answer) as written; by default they are switched off and listed")
	f.String(&c.Break, "break", "providers that render Kratos' config: break it on purpose: "+fixtures.BreakageNames())
	f.String(&c.Policy, "policy", "what security findings count as: guide (warnings: the deployment guide's bar) or asvs-l2 (failures naming the OWASP ASVS 4.0.3 level 2 item: no throttling of wrong passwords or TOTP codes, sessions that survive a password change or recovery, look-alike identifiers)")
	f.String(&c.ExpectedFailures, "expected-failures", "YAML file of requirements known to fail (id, reason, expires), relative to the repository root; empty: none. See docs/expected-failures.md")
	f.String(&c.UpgradeFrom, "upgrade-from", "older Kratos to start the stack on, oldest first, comma-separated (process: binaries; containers and kind: images); after seeding data the suite runs the tested Kratos' migrations while it serves, rolls serve and the courier to it and checks the data survived (make certify-upgrade)")
	f.String(&c.Load, "load", "load stage after the specs: off | smoke | capacity (load/profiles/), or a workload file")
	f.String(&c.Workload, "workload", "a workload file (YAML, like load/profiles/capacity.yaml): identities, sessions, step windows, search bounds, scenarios with their SLOs; runs the load stage with it instead of -kc.load's profile")
	f.String(&c.LoadAfter, "load-after", "start the load stage only once this file exists (another stack on this machine is done), waiting at most the load-after interval")
	f.Duration(&c.SLOWhoami, "slo-whoami", "p99 latency a whoami load step must meet")
	f.Duration(&c.SLOLogin, "slo-login", "p99 latency a login load step must meet")
	f.Duration(&c.Soak, "soak", "after the load stage's mix, hold it this long and judge drift (serve memory, p99, table growth); 0: no soak")
	f.Duration(&c.SoakWindow, "soak-window", "one judged window of the soak")
	f.Duration(&c.SoakMax, "soak-max", "the longest soak accepted; raise it to soak longer")
	f.Float(&c.SoakFraction, "soak-fraction", "the share of the mix's max sustainable total rate the soak holds")
	f.Float(&c.RolloutDropBudget, "rollout-drop-budget", "share of requests a rolling restart of serve may drop in transport (REPLICA-002, -kc.faults); the default 0.01 allows the close race of a pod without a preStop drain (the guide's drops 0-0.2%); 0 for a deployment that drains; a Recreate strategy drops far more")
	f.String(&c.LoadGeneratorCPU, "load-generator-cpu", "CPU request and limit of each load generator pod (-kc.load-generators), e.g. 500m")
	f.String(&c.LoadPush, "load-push", "a Prometheus Pushgateway URL (http://host:9091) the load stage's figures are pushed to, grouped by job kratos_conformance and the run's id; a refusal is a warning, the files are written anyway")
	f.String(&c.LoadRemoteWrite, "load-remote-write", "a Prometheus remote-write URL (http://prometheus:9090/api/v1/write, or Mimir's, Thanos' or VictoriaMetrics') the load stage's figures are written to, labelled job kratos_conformance and the run's id, stamped with the stage's end; a refusal is a warning, the files are written anyway")
	f.Counts(&c.LoadReplicas, "load-replicas", "measure the load workload at each of these counts of serve replicas, e.g. 1,2,3, and report the scaling efficiency and sizing from it (kind)")
	f.Int(&c.LoadGenerators, "load-generators", "run whoami's and alive's load steps on this many generator pods, an Indexed Job of the suite's image beside Kratos (kubernetes with -kc.k8s-suite-image, kind with -kc.kind-in-cluster); 0: from this process")
	if v := os.Getenv(envName("intervals")); v != "" {
		if err := c.Intervals.Set(v); err != nil {
			c.envErrs = append(c.envErrs, fmt.Errorf("KC_INTERVALS: %w", err))
		}
	}
	fs.Func("kc.intervals", "override named timeouts, e.g. kratos-ready=90s,mail-arrival=30s; names: "+
		strings.Join(c.Intervals.Names(), ", ")+" (env KC_INTERVALS)", c.Intervals.Set)
	for _, r := range registry {
		f.owner = r.name
		c.providers[r.name].Flags(f)
	}
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

// Complete runs once the flags are parsed: it notes which were given, lets
// the providers fold in what their flags imply (a target file), validates,
// then lets the chosen provider read what its flags name (Preparer).
func (c *Config) Complete(fs *flag.FlagSet) error {
	fs.Visit(func(f *flag.Flag) {
		c.providerSet = c.providerSet || f.Name == "kc.provider"
		if _, ok := c.flagOwner[f.Name]; ok {
			c.given = append(c.given, f.Name)
		}
	})
	if c.Workload != "" {
		c.Load = c.Workload
	}
	if c.OwnFiles != "" {
		if err := c.applyOwnFiles(); err != nil {
			return err
		}
	}
	for _, r := range registry {
		if cp, ok := c.providers[r.name].(Completer); ok {
			implied, err := cp.Complete()
			if err != nil {
				return err
			}
			if err := c.apply(implied); err != nil {
				return err
			}
		}
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if p, ok := c.providers[c.Provider].(Preparer); ok {
		return p.Prepare()
	}
	return nil
}

// apply takes what a provider's file implies where no flag gave a value; a
// provider it names must not contradict -kc.provider.
func (c *Config) apply(im Implied) error {
	if im.Provider != "" {
		if c.Provider != im.Provider && c.providerSet {
			return fmt.Errorf("%s describes a deployment for -kc.provider=%s; drop -kc.provider=%s", im.By, im.Provider, c.Provider)
		}
		c.Provider = im.Provider
	}
	for _, f := range []struct {
		dst *string
		val string
	}{{&c.KratosConfig, im.KratosConfig}, {&c.IdentitySchema, im.IdentitySchema}, {&c.EmailDomain, im.EmailDomain}} {
		if *f.dst == "" {
			*f.dst = f.val
		}
	}
	return nil
}

// Validate names the flag to fix. It touches nothing, so a bad value costs no time.
func (c *Config) Validate() error {
	errs := slices.Clone(c.envErrs)
	if p, ok := c.providers[c.Provider]; !ok {
		errs = append(errs, fmt.Errorf("-kc.provider=%q is not a provider; use one of: %s", c.Provider, strings.Join(ProviderNames(), ", ")))
	} else if err := p.Validate(c); err != nil {
		errs = append(errs, err)
	}
	if p, ok := c.providers[c.Provider].(UpgradeProvider); c.UpgradeFrom != "" && !ok {
		errs = append(errs, fmt.Errorf("-kc.upgrade-from: the %s provider cannot start on an older Kratos and upgrade it; the process (binaries), containers and kind (images) providers can", c.Provider))
	} else if ok && c.UpgradeFrom != "" {
		errs = append(errs, p.ValidateUpgradeFrom(c.UpgradeFrom))
	}
	// Another provider's flag would be ignored: a run that quietly tests
	// something other than what was asked (an upgrade that never happened).
	for _, name := range c.given {
		if owner := c.flagOwner[name]; owner != c.Provider {
			errs = append(errs, fmt.Errorf("-%s is a flag of the %s provider; -kc.provider=%s does not read it (drop it, or use -kc.provider=%s)", name, owner, c.Provider, owner))
		}
	}
	if c.Policy != PolicyGuide && c.Policy != PolicyASVSL2 {
		errs = append(errs, fmt.Errorf("-kc.policy=%q: use %s or %s", c.Policy, PolicyGuide, PolicyASVSL2))
	}
	if c.Race < 0 {
		errs = append(errs, fmt.Errorf("-kc.race=%d: give a number of starts, or 0 to skip the scenario", c.Race))
	}
	if c.LoadGenerators < 0 || c.LoadGenerators > 0 && c.Load == "off" {
		errs = append(errs, fmt.Errorf("-kc.load-generators=%d: give a number of generator pods for the load stage (-kc.load smoke or capacity), or 0", c.LoadGenerators))
	}
	if len(c.LoadReplicas) > 0 && (c.Load == "off" || len(c.LoadReplicas) < 2 || slices.Min(c.LoadReplicas) < 1) {
		errs = append(errs, fmt.Errorf("-kc.load-replicas=%v: give two or more counts of serve replicas, each 1 or more (e.g. 1,2,3), and a load workload (-kc.load)", c.LoadReplicas))
	}
	for _, p := range []struct{ flag, val, example string }{
		{"load-push", c.LoadPush, "a Pushgateway's http(s) URL like http://pushgateway:9091"},
		{"load-remote-write", c.LoadRemoteWrite, "a remote-write http(s) URL like http://prometheus:9090/api/v1/write"},
	} {
		if p.val == "" {
			continue
		}
		if u, err := url.Parse(p.val); err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || c.Load == "off" {
			errs = append(errs, fmt.Errorf("-kc.%s=%q: give %s, and a load workload (-kc.load)", p.flag, p.val, p.example))
		}
	}
	if c.Soak < 0 || c.Soak > c.SoakMax {
		errs = append(errs, fmt.Errorf("-kc.soak=%s: a duration up to -kc.soak-max (%s); raise -kc.soak-max to soak longer", c.Soak, c.SoakMax))
	}
	if c.Soak > 0 && (c.Load == "off" || c.SoakWindow <= 0 || c.SoakWindow > c.Soak || c.SoakFraction <= 0 || c.SoakFraction > 1) {
		errs = append(errs, fmt.Errorf("-kc.soak needs a load workload with a mix (-kc.load=mix), -kc.soak-window within the soak (%s) and -kc.soak-fraction within 0..1 (%g)", c.SoakWindow, c.SoakFraction))
	}
	if strings.ContainsAny(c.EmailDomain, "@ /") {
		errs = append(errs, fmt.Errorf("-kc.email-domain=%q is not a domain like mail.example.com", c.EmailDomain))
	}
	if _, err := fixtures.ForProfile(c.Profile); err != nil {
		errs = append(errs, fmt.Errorf("-kc.profile: %w", err))
	}
	if c.KratosConfig != "" {
		if _, ok := c.providers[c.Provider].(OwnConfigProvider); !ok {
			errs = append(errs, fmt.Errorf("-kc.kratos-config: the %s provider cannot run an operator's config; process and containers run it, external reads it", c.Provider))
		}
	} else if c.KratosEnv != "" || c.KeepOffline {
		errs = append(errs, errors.New("-kc.kratos-env and -kc.keep-offline go with -kc.kratos-config (the operator's config they apply to)"))
	}
	errs = append(errs, CheckFile("kratos-config", c.KratosConfig), CheckFile("kratos-env", c.KratosEnv))
	if c.Break != "" {
		if _, err := fixtures.LookupBreakage(c.Break); err != nil {
			errs = append(errs, fmt.Errorf("-kc.break: %w", err))
		}
	}
	if c.SLOWhoami <= 0 || c.SLOLogin <= 0 {
		errs = append(errs, fmt.Errorf("-kc.slo-whoami and -kc.slo-login must be positive durations like 50ms"))
	}
	if c.RolloutDropBudget < 0 || c.RolloutDropBudget >= 1 {
		errs = append(errs, fmt.Errorf("-kc.rollout-drop-budget=%g: a share from 0 to below 1, e.g. 0.01", c.RolloutDropBudget))
	}
	return errors.Join(errs...)
}

// CheckPort names -kc.<flag> when port is not 0 (a free one) or a TCP port.
func CheckPort(flag string, port int) error {
	if port < 0 || port > 65535 {
		return fmt.Errorf("-kc.%s=%d is not a TCP port (0 picks a free one)", flag, port)
	}
	return nil
}

// CheckFile names -kc.<flag> when path is given and is not a file.
func CheckFile(flag, path string) error {
	if path == "" {
		return nil
	}
	if st, err := os.Stat(path); err != nil || st.IsDir() {
		return fmt.Errorf("-kc.%s=%q is not a file", flag, path)
	}
	return nil
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

// HostAliases is a resolve flag's value (host=ip or .domain=ip pairs the
// client dials instead of DNS), parsed once when it is set. A bad value is
// kept in Err for Validate, which names the flag, instead of stopping the
// flag parser without a summary.
type HostAliases struct {
	Map map[string]string
	Err error
	raw string
}

func (h *HostAliases) String() string {
	if h == nil {
		return ""
	}
	return h.raw
}

// Set parses s; it never fails, so the error reaches Validate.
func (h *HostAliases) Set(s string) error {
	h.raw = s
	h.Map, h.Err = ParseResolve(s)
	return nil
}

// Given reports whether a flag, variable or file set it.
func (h *HostAliases) Given() bool { return h.raw != "" || h.Map != nil }

// SetMap takes pairs from a file (a target's resolve:), checked as the flag's are.
func (h *HostAliases) SetMap(m map[string]string, from string) {
	h.Map, h.Err = map[string]string{}, nil
	for host, ip := range m {
		if host == "" || net.ParseIP(ip) == nil {
			h.Err = fmt.Errorf("%s: %q: %q is not an IP address", from, host, ip)
			return
		}
		h.Map[host] = ip
	}
}

// BaseURL is a URL flag's value, parsed once when it is set. A bad value is
// kept in Err for Validate, which names the flag, as HostAliases does.
type BaseURL struct {
	URL *url.URL // nil when not given or bad
	Err error
	raw string
}

func (b *BaseURL) String() string {
	if b == nil {
		return ""
	}
	return b.raw
}

// Set parses s; it never fails, so the error reaches Validate.
func (b *BaseURL) Set(s string) error {
	b.raw, b.URL, b.Err = s, nil, nil
	if s == "" {
		return nil
	}
	if b.Err = CheckBaseURL(s); b.Err == nil {
		b.URL, _ = url.Parse(s)
	}
	return nil
}

// Given reports whether a flag, variable or file set it.
func (b *BaseURL) Given() bool { return b.raw != "" }

// Check is why a required URL is missing or bad, or nil.
func (b *BaseURL) Check() error {
	if !b.Given() {
		return errors.New("is empty")
	}
	return b.Err
}

// WithSlash is a copy of the URL whose path ends in "/", for joining; nil when not given.
func (b *BaseURL) WithSlash() *url.URL {
	if b.URL == nil {
		return nil
	}
	u := *b.URL
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return &u
}

// CheckBaseURL returns why s is not an absolute http(s) URL, or nil.
func CheckBaseURL(s string) error {
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
