package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Provider brings up one kind of deployment. Each provider package registers
// itself from init with RegisterProvider, with its own flags and checks; the
// suite picks one by -kc.provider and never switches on provider names.
type Provider interface {
	// Flags adds the provider's own kc.* flags. It runs once per flag set,
	// before parsing; the values land in the provider, not in Config.
	Flags(f *Flags)
	// Validate runs once the flags are parsed, only for the chosen provider,
	// and names the flag to fix. It reads the parsed values only: it opens,
	// starts and changes nothing, so a bad value costs no time.
	Validate(c *Config) error
	// New resolves what the stack needs (binaries, the engine) and starts nothing.
	New(ctx context.Context, in StackInput) (Stack, error)
}

// Completer is implemented by providers whose flags name a file that fills
// in their own options and implies shared settings (a target file chooses the
// provider and names the config). Complete runs for every provider after
// parsing, before Validate; the harness applies what it implies where no flag
// gave a value, so no provider writes into the shared Config.
type Completer interface {
	Complete() (Implied, error)
}

// Implied is what a provider's file says about the shared settings; empty
// fields imply nothing.
type Implied struct {
	By             string // the flag that named the file, for errors: "-kc.target"
	Provider       string // the provider the file describes
	KratosConfig   string
	IdentitySchema string
	EmailDomain    string
}

// Preparer is implemented by providers that read what their flags name (a
// kubeconfig, the images a cache holds) into typed values. Prepare runs for
// the chosen provider once Validate passed; it dials and starts nothing, and
// its error is bad input, reported like Validate's.
type Preparer interface {
	Prepare() error
}

// OwnConfigProvider is implemented by providers that take an operator's own
// Kratos config (-kc.kratos-config): to run it, or to read it.
type OwnConfigProvider interface {
	TakesOwnConfig()
}

// UpgradeProvider is implemented by providers that read -kc.upgrade-from
// (Config.UpgradeFrom) and whose stacks are Upgraders when it is given.
type UpgradeProvider interface {
	// ValidateUpgradeFrom checks the value names what the provider starts
	// (a binary, an image) without starting anything.
	ValidateUpgradeFrom(from string) error
}

// StackInput is what every provider's New gets besides its own flags.
type StackInput struct {
	Config   StackConfig
	RepoRoot string    // for pinned builds; empty outside the repository (binaries must then be given)
	RunID    string    // unique per run: names and labels what the run starts
	LogDir   string    // the run folder: component logs go here
	BuildLog io.Writer // build output on a cold cache; nil discards
}

// Validate checks the fields every provider relies on.
func (in StackInput) Validate() error {
	if in.RunID == "" || in.LogDir == "" {
		return errors.New("harness.StackInput.RunID and LogDir are required")
	}
	return nil
}

type registration struct {
	name, summary string
	factory       func() Provider
}

// registry is filled from the providers' init functions, before any flag set
// is built; RegisterFlags makes one Provider per flag set from it.
var registry []registration

// RegisterProvider makes a provider selectable by -kc.provider=name.
// factory returns a fresh Provider whose flags are not yet registered.
func RegisterProvider(name, summary string, factory func() Provider) {
	if slices.ContainsFunc(registry, func(r registration) bool { return r.name == name }) {
		panic("harness.RegisterProvider: " + name + " is registered twice")
	}
	registry = append(registry, registration{name, summary, factory})
}

// ProviderNames lists the registered providers, in registration order.
func ProviderNames() []string {
	var names []string
	for _, r := range registry {
		names = append(names, r.name)
	}
	return names
}

func providerUsage() string {
	var parts []string
	for _, r := range registry {
		parts = append(parts, r.name+" ("+r.summary+")")
	}
	return strings.Join(parts, " | ")
}

// NewStack asks the chosen provider for a stack; it starts nothing.
func (c *Config) NewStack(ctx context.Context, in StackInput) (Stack, error) {
	p, ok := c.providers[c.Provider]
	if !ok {
		return nil, fmt.Errorf("-kc.provider=%q is not a provider; use one of: %s", c.Provider, strings.Join(ProviderNames(), ", "))
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	in.Config = c.Stack()
	s, err := p.New(ctx, in)
	if err != nil {
		// A provider's typed nil (*Stack)(nil) in the interface would pass
		// for a stack: every later "is it a ConfigSource?" would say yes.
		return nil, err
	}
	return s, nil
}

// Chosen is the provider -kc.provider names, holding its parsed flags; nil
// when the name is not registered.
func (c *Config) Chosen() Provider { return c.providers[c.Provider] }
