package external

import (
	"flag"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kratos-conformance/harness"
)

func writeTarget(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "staging.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A target file fills what no flag gave, makes the run external, and resolves
// its files next to itself; a flag wins over the file.
func TestTargetFileFillsTheConfig(t *testing.T) {
	path := writeTarget(t, `
public_url: https://kratos.staging.example.com/
admin_url: http://127.0.0.1:4434/
ca_file: ca.pem
kratos_config: configs.yaml
resolve: {.staging.example.com: 10.0.0.7}
email_domain: sink.example.com
`)
	for _, f := range []string{"ca.pem", "configs.yaml"} {
		if err := os.WriteFile(filepath.Join(filepath.Dir(path), f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := harness.DefaultConfig()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	harness.RegisterFlags(fs, &c)
	if err := fs.Parse([]string{"-kc.target=" + path, "-kc.admin-url=http://127.0.0.1:9434/"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Complete(fs); err != nil {
		t.Fatal(err)
	}
	p, ok := c.Chosen().(*provider)
	if !ok {
		t.Fatalf("provider %q, want external", c.Provider)
	}
	if o := p.o; o.PublicURL.String() != "https://kratos.staging.example.com/" || o.AdminURL.String() != "http://127.0.0.1:9434/" {
		t.Errorf("public %q, admin %q: want the file's public URL and the flag's admin URL", o.PublicURL.String(), o.AdminURL.String())
	}
	if o := p.o; o.CAFile != filepath.Join(filepath.Dir(path), "ca.pem") || !maps.Equal(o.Resolve.Map, map[string]string{".staging.example.com": "10.0.0.7"}) || c.MailDomain() != "sink.example.com" {
		t.Errorf("ca %q, resolve %v, mail domain %q", o.CAFile, o.Resolve.Map, c.MailDomain())
	}
}

func TestTargetFileErrorsNameTheFix(t *testing.T) {
	for name, c := range map[string]struct{ body, args, want string }{
		"a typo":              {"public_url: https://k.example.com/\nadmin_ulr: http://127.0.0.1:4434/\n", "", "admin_ulr"},
		"no admin URL":        {"public_url: https://k.example.com/\n", "", "admin_url"},
		"another provider":    {"public_url: https://k.example.com/\nadmin_url: http://127.0.0.1:4434/\n", "-kc.provider=process", "drop -kc.provider=process"},
		"a break on external": {"public_url: https://k.example.com/\nadmin_url: http://127.0.0.1:4434/\n", "-kc.break=noop-cipher", "-kc.break"},
		"a resolve to no IP":  {"public_url: https://k.example.com/\nadmin_url: http://127.0.0.1:4434/\nresolve: {.example.com: gateway}\n", "", "the target file's resolve"},
		"a bad -kc.resolve":   {"public_url: https://k.example.com/\nadmin_url: http://127.0.0.1:4434/\n", "-kc.resolve=k.example.com", "-kc.resolve"},
	} {
		cfg := harness.DefaultConfig()
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		harness.RegisterFlags(fs, &cfg)
		args := []string{"-kc.target=" + writeTarget(t, c.body)}
		if c.args != "" {
			args = append(args, c.args)
		}
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := cfg.Complete(fs); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error naming %q", name, err, c.want)
		}
	}
	c := harness.DefaultConfig()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	harness.RegisterFlags(fs, &c)
	if err := fs.Parse([]string{"-kc.target=/nonexistent/target.yaml"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Complete(fs); err == nil || !strings.Contains(err.Error(), "-kc.target") {
		t.Errorf("a missing file: got %v, want an error naming -kc.target", err)
	}
}

// The annotated example in docs/ stays a valid target file.
func TestTheDocumentedExampleLoads(t *testing.T) {
	tg, err := LoadTarget(filepath.Join("..", "..", "..", "docs", "target.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if tg.PublicURL == "" || tg.AdminURL == "" || tg.PostgresDSN == "" || len(tg.Resolve) != 1 {
		t.Errorf("the example lost fields: %+v", tg)
	}
}
