package harness

import (
	"context"
	"errors"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// The real providers register from their own packages, which import this
// one; DefaultConfig names process, so a provider of that name with no flags
// of its own stands in for it here.
func init() {
	RegisterProvider("process", "stand-in", func() Provider { return stubProvider{} })
	RegisterProvider("other", "stand-in with a flag", func() Provider { return &flaggedProvider{} })
}

// flaggedProvider has one flag of its own, -kc.other-thing.
type flaggedProvider struct {
	stubProvider
	thing string
}

func (p *flaggedProvider) Flags(f *Flags) { f.String(&p.thing, "other-thing", "other: a thing") }

type stubProvider struct{}

func (stubProvider) Flags(*Flags)           {}
func (stubProvider) Validate(*Config) error { return nil }
func (stubProvider) New(context.Context, StackInput) (Stack, error) {
	return nil, errors.New("a stand-in starts nothing")
}

func TestValidateNamesTheFlag(t *testing.T) {
	for flag, mutate := range map[string]func(*Config){
		"-kc.provider":     func(c *Config) { c.Provider = "podman" },
		"-kc.race":         func(c *Config) { c.Race = -1 },
		"-kc.email-domain": func(c *Config) { c.EmailDomain = "a@b" },
		"-kc.profile":      func(c *Config) { c.Profile = "nope" },
		"-kc.break":        func(c *Config) { c.Break = "nope" },
		"-kc.load-push":    func(c *Config) { c.Load, c.LoadPush = "smoke", "pushgateway:9091" },
		"-kc.load-remote-write": func(c *Config) {
			c.Load, c.LoadRemoteWrite = "smoke", "prometheus:9090/api/v1/write"
		},
	} {
		c := DefaultConfig()
		mutate(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("breaking %s: got %v, want an error naming it", flag, err)
		}
	}
	if c := DefaultConfig(); c.Validate() != nil {
		t.Errorf("the default config must be valid: %v", c.Validate())
	}
}

func TestIntervalsSet(t *testing.T) {
	iv := DefaultIntervals()
	if err := iv.Set("kratos-ready=90s, poll=250ms"); err != nil {
		t.Fatal(err)
	}
	if iv.KratosReady != 90*time.Second || iv.Poll != 250*time.Millisecond {
		t.Errorf("Set did not apply: %+v", iv)
	}
	if err := iv.Set("kratos-redy=1s"); err == nil || !strings.Contains(err.Error(), "kratos-ready") {
		t.Errorf("an unknown name must list the known ones, got %v", err)
	}
	if err := iv.Set("poll=-1s"); err == nil {
		t.Error("a negative duration must be refused")
	}
}

func TestHostAliases(t *testing.T) {
	aliases, err := ParseResolve(".example.test=127.0.0.1,db.internal=10.0.0.5")
	if err != nil {
		t.Fatal(err)
	}
	e := Endpoints{HostAliases: aliases}
	for host, want := range map[string]string{
		"kratos.example.test": "127.0.0.1", "auth.example.test": "127.0.0.1",
		"db.internal": "10.0.0.5", "example.org": "", "notexample.test": "",
	} {
		if got := e.aliasFor(host); got != want {
			t.Errorf("aliasFor(%q) = %q, want %q", host, got, want)
		}
	}
	e.HostAliases["kratos.example.test:4433"] = "127.0.0.1:40001" // a port-forward
	for addr, want := range map[string]string{
		"kratos.example.test:4433": "127.0.0.1:40001", "kratos.example.test:443": "127.0.0.1:443", "example.org:443": "example.org:443",
	} {
		if got := e.DialAddr(addr); got != want {
			t.Errorf("DialAddr(%q) = %q, want %q", addr, got, want)
		}
	}
}

// A KC_* value that does not parse is reported like a bad flag, naming both.
// A provider's flag given to a run of another provider would be ignored; the
// run must stop instead, naming the flag and its provider.
func TestAnotherProvidersFlagIsRefused(t *testing.T) {
	parse := func(args ...string) error {
		c := DefaultConfig()
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		RegisterFlags(fs, &c)
		if err := fs.Parse(args); err != nil {
			return err
		}
		return c.Complete(fs)
	}
	err := parse("-kc.other-thing=x")
	if err == nil || !strings.Contains(err.Error(), "-kc.other-thing is a flag of the other provider") {
		t.Errorf("-kc.other-thing with the process provider: got %v, want it refused", err)
	}
	if err := parse("-kc.provider=other", "-kc.other-thing=x"); err != nil {
		t.Errorf("-kc.other-thing with its own provider: %v", err)
	}
}

func TestBadEnvironmentValuesAreReported(t *testing.T) {
	for env, value := range map[string]string{
		"KC_RACE": "ten", "KC_KEEP": "yes please", "KC_SLO_WHOAMI": "50", "KC_INTERVALS": "kratos-ready=soon", "KC_FAULTS": "sure",
	} {
		t.Setenv(env, value)
		c := DefaultConfig()
		RegisterFlags(flag.NewFlagSet("t", flag.ContinueOnError), &c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), env) {
			t.Errorf("%s=%q: got %v, want an error naming it", env, value, err)
		}
		os.Unsetenv(env)
	}
	t.Setenv("KC_KEEP", "1")
	c := DefaultConfig()
	RegisterFlags(flag.NewFlagSet("t", flag.ContinueOnError), &c)
	if err := c.Validate(); err != nil || !c.Keep {
		t.Errorf("KC_KEEP=1 is true: keep %v, %v", c.Keep, err)
	}
}

func TestUpgradePath(t *testing.T) {
	if got := UpgradePath(" /a/kratos-v1, /b/kratos-v25,, "); !slices.Equal(got, []string{"/a/kratos-v1", "/b/kratos-v25"}) {
		t.Errorf("UpgradePath: got %q", got)
	}
	if got := UpgradePath(""); got != nil {
		t.Errorf("UpgradePath of nothing: got %q, want no path", got)
	}
}

// An image path walks hop by hop to the tested image.
func TestImagePath(t *testing.T) {
	p := ImagePath{Images: []string{"k:1", "k:25"}, Versions: []string{"v1.3.1", "v25.4.0"}, Tested: "k:26", TestedVersion: "v26.2.0"}
	var hops []string
	for p.From() != "" {
		image, version := p.Next()
		hops = append(hops, p.Current()+">"+image+"@"+version)
		p.Advance()
	}
	if want := []string{"k:1>k:25@v25.4.0", "k:25>k:26@v26.2.0"}; !slices.Equal(hops, want) || p.Current() != "k:26" {
		t.Errorf("hops %q, now %s; want %q, then k:26", hops, p.Current(), want)
	}
}

// -kc.kratos-config goes to providers that take an operator's config; its
// companions need it; -kc.own-files names them relative to itself.
func TestOwnConfigFlags(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"kratos.yml": "{}", "k.env": "A=1", "own.yaml": "kratos_config: kratos.yml\nkratos_env: k.env\n", "typo.yaml": "kratos_cfg: x\n"} {
		if err := os.WriteFile(dir+"/"+name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := DefaultConfig()
	c.Provider, c.KratosConfig = "other", dir+"/kratos.yml"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "cannot run an operator's config") {
		t.Errorf("a provider without TakesOwnConfig: got %v", err)
	}
	c = DefaultConfig()
	c.KratosEnv = dir + "/k.env"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "go with -kc.kratos-config") {
		t.Errorf("-kc.kratos-env alone: got %v", err)
	}
	c = DefaultConfig()
	c.OwnFiles = dir + "/own.yaml"
	if err := c.applyOwnFiles(); err != nil || c.KratosConfig != dir+"/kratos.yml" || c.KratosEnv != dir+"/k.env" {
		t.Errorf("-kc.own-files: %v, config %q env %q", err, c.KratosConfig, c.KratosEnv)
	}
	c = DefaultConfig()
	c.OwnFiles = dir + "/typo.yaml"
	if err := c.applyOwnFiles(); err == nil || !strings.Contains(err.Error(), "kratos_cfg") {
		t.Errorf("an unknown key in -kc.own-files: got %v", err)
	}
}

// FreePort never hands out a port twice, though the kernel may offer the
// one it just gave again once that listener closed.
func TestFreePortNeverRepeats(t *testing.T) {
	seen := map[int]bool{}
	for range 2000 {
		p, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
	}
}
