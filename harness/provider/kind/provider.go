package kind

import (
	"context"

	"kratos-conformance/harness"
)

func init() {
	harness.RegisterProvider("kind", "a kind cluster with kind/'s manifests; preflight only so far",
		func() harness.Provider { return provider{} })
}

type provider struct{}

func (provider) Flags(*harness.Flags)           {}
func (provider) Validate(*harness.Config) error { return nil }

// New runs the preflight, which names what this machine lacks.
func (provider) New(ctx context.Context, in harness.StackInput) (harness.Stack, error) {
	return nil, Preflight(ctx, in.Config.Intervals.HTTPRequest)
}
