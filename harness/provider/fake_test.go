package provider_test

import (
	"context"
	"errors"
	"flag"
	"net/url"
	"strings"
	"testing"

	"kratos-conformance/harness"
)

// A provider is one file: it registers a factory with its own flags and
// checks, and the run's configuration, flag help and NewStack pick it up.
func init() {
	harness.RegisterProvider("fake", "a deployment that exists only in this test",
		func() harness.Provider { return &fakeProvider{} })
}

type fakeProvider struct{ answer string }

func (p *fakeProvider) Flags(f *harness.Flags) {
	f.String(&p.answer, "fake-answer", "fake: the public URL its stack reports")
}

func (p *fakeProvider) Validate(*harness.Config) error {
	if err := harness.CheckBaseURL(p.answer); err != nil {
		return errors.New("-kc.fake-answer: " + err.Error())
	}
	return nil
}

func (p *fakeProvider) New(context.Context, harness.StackInput) (harness.Stack, error) {
	u, err := url.Parse(p.answer)
	return &fakeStack{public: u}, err
}

type fakeStack struct{ public *url.URL }

func (s *fakeStack) Up(context.Context) error { return nil }
func (s *fakeStack) Endpoints() harness.Endpoints {
	return harness.Endpoints{KratosPublic: s.public, KratosAdmin: s.public}
}
func (s *fakeStack) Environment() harness.Environment          { return harness.Environment{Provider: "fake"} }
func (s *fakeStack) CollectLogs(context.Context, string) error { return nil }
func (s *fakeStack) Down(context.Context) error                { return nil }
func (s *fakeStack) Keep() string                              { return "nothing to keep" }

func parse(t *testing.T, args ...string) (harness.Config, *flag.FlagSet) {
	t.Helper()
	c := harness.DefaultConfig()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	harness.RegisterFlags(fs, &c)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return c, fs
}

func TestAFakeProviderIsOneFile(t *testing.T) {
	c, fs := parse(t, "-kc.provider=fake", "-kc.fake-answer=https://kratos.fake.test/")
	if err := c.Complete(fs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fs.Lookup("kc.provider").Usage, "fake (a deployment that exists only in this test)") {
		t.Errorf("-kc.provider's help does not list the fake: %q", fs.Lookup("kc.provider").Usage)
	}
	stack, err := c.NewStack(context.Background(), harness.StackInput{RunID: "fake-run", LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if got := stack.Endpoints().KratosPublic.String(); got != "https://kratos.fake.test/" {
		t.Errorf("the fake's stack reports %q, want its flag's value", got)
	}

	c, fs = parse(t, "-kc.provider=fake", "-kc.fake-answer=kratos.fake.test")
	if err := c.Complete(fs); err == nil || !strings.Contains(err.Error(), "-kc.fake-answer") {
		t.Errorf("a bad -kc.fake-answer: got %v, want the fake's own check naming it", err)
	}
	t.Setenv("KC_PROVIDER", "fake")
	t.Setenv("KC_FAKE_ANSWER", "https://env.fake.test/")
	c, fs = parse(t)
	if err := c.Complete(fs); err != nil || c.Provider != "fake" {
		t.Errorf("KC_PROVIDER and KC_FAKE_ANSWER: provider %q, %v", c.Provider, err)
	}
}
