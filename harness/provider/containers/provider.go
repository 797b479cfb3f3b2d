package containers

import (
	"context"
	"errors"
	"fmt"
	"os"

	"kratos-conformance/harness"
)

func init() {
	harness.RegisterProvider("containers", "testcontainers-go on a Docker engine",
		func() harness.Provider {
			return &provider{o: Options{KratosImage: "oryd/kratos:v1.3.1", PostgresImage: "postgres:15-bookworm",
				RedisImage: "redis:7-bookworm", MailpitImage: "axllent/mailpit:v1.33.1"}}
		})
}

// Options are the containers provider's own flags: images (official names by
// default; make images builds local ones on machines without a registry).
type Options struct {
	KratosImage   string
	PostgresImage string
	RedisImage    string
	MailpitImage  string
}

type provider struct{ o Options }

func (p *provider) Flags(f *harness.Flags) {
	f.String(&p.o.KratosImage, "kratos-image", "containers: Kratos image (yours, or make images' local build)")
	f.String(&p.o.PostgresImage, "postgres-image", "containers: Postgres image honouring the official POSTGRES_* contract")
	f.String(&p.o.RedisImage, "redis-image", "containers: Redis image")
	f.String(&p.o.MailpitImage, "mailpit-image", "containers: Mailpit image")
}

func (p *provider) Validate(*harness.Config) error {
	var errs []error
	for _, img := range []struct{ flag, val string }{{"kratos-image", p.o.KratosImage}, {"postgres-image", p.o.PostgresImage}, {"redis-image", p.o.RedisImage}, {"mailpit-image", p.o.MailpitImage}} {
		if img.val == "" {
			errs = append(errs, fmt.Errorf("-kc.%s is empty: name an image", img.flag))
		}
	}
	return errors.Join(errs...)
}

// ValidateUpgradeFrom: -kc.upgrade-from names a Kratos image; whether the
// engine has it shows when the stack starts (no engine is asked here).
func (p *provider) ValidateUpgradeFrom(from string) error {
	if st, err := os.Stat(from); err == nil && !st.IsDir() {
		return fmt.Errorf("-kc.upgrade-from=%q: the containers provider starts on an older Kratos image (repository:tag), not a file", from)
	}
	return nil
}

// TakesOwnConfig: the containers stack runs -kc.kratos-config.
func (p *provider) TakesOwnConfig() {}

func (p *provider) New(ctx context.Context, in harness.StackInput) (harness.Stack, error) {
	return New(ctx, in, p.o)
}
