package process

import (
	"context"
	"errors"
	"fmt"
	"os"

	"kratos-conformance/harness"
)

func init() {
	harness.RegisterProvider("process", "default: Postgres, Redis, Mailpit and Kratos as local processes",
		func() harness.Provider { return &provider{} })
}

// Options are the process provider's own flags.
type Options struct {
	KratosBin      string // empty: build the pinned Kratos (harness/kratosbuild)
	MailpitBin     string // empty: build the Mailpit pinned in go.mod
	PostgresBinDir string // empty: PATH, then /usr/lib/postgresql/<newest>/bin
	RedisBin       string // empty: redis-server from PATH
	PublicPort     int    // 0: a free port
	AdminPort      int    // 0: a free port
}

type provider struct{ o Options }

func (p *provider) Flags(f *harness.Flags) {
	f.String(&p.o.KratosBin, "kratos-bin", "process: Kratos binary to test; default: build the pinned v1.3.1 from the module proxy")
	f.String(&p.o.MailpitBin, "mailpit-bin", "process: Mailpit binary; default: build the version pinned in go.mod")
	f.String(&p.o.PostgresBinDir, "postgres-bin-dir", "process: folder with initdb and postgres; default: PATH, then /usr/lib/postgresql/<newest>/bin")
	f.String(&p.o.RedisBin, "redis-bin", "process: redis-server binary; default: from PATH")
	f.Int(&p.o.PublicPort, "public-port", "process: Kratos public port; 0 picks a free one")
	f.Int(&p.o.AdminPort, "admin-port", "process: Kratos admin port; 0 picks a free one")
}

func (p *provider) Validate(*harness.Config) error { return p.o.Validate() }

// Validate names the flag to fix; it touches nothing but the file system.
func (o Options) Validate() error {
	errs := []error{harness.CheckPort("public-port", o.PublicPort), harness.CheckPort("admin-port", o.AdminPort)}
	if o.PublicPort != 0 && o.PublicPort == o.AdminPort {
		errs = append(errs, fmt.Errorf("-kc.public-port and -kc.admin-port are both %d; they must differ", o.PublicPort))
	}
	for _, f := range []struct{ flag, path string }{{"kratos-bin", o.KratosBin}, {"mailpit-bin", o.MailpitBin}, {"redis-bin", o.RedisBin}} {
		errs = append(errs, harness.CheckFile(f.flag, f.path))
	}
	if o.PostgresBinDir != "" {
		if st, err := os.Stat(o.PostgresBinDir); err != nil || !st.IsDir() {
			errs = append(errs, fmt.Errorf("-kc.postgres-bin-dir=%q is not a folder", o.PostgresBinDir))
		}
	}
	return errors.Join(errs...)
}

// ValidateUpgradeFrom: -kc.upgrade-from names Kratos binaries, oldest first.
func (p *provider) ValidateUpgradeFrom(from string) error {
	var errs []error
	for _, bin := range harness.UpgradePath(from) {
		errs = append(errs, harness.CheckFile("upgrade-from", bin))
	}
	return errors.Join(errs...)
}

// TakesOwnConfig: the process stack runs -kc.kratos-config.
func (p *provider) TakesOwnConfig() {}

func (p *provider) New(ctx context.Context, in harness.StackInput) (harness.Stack, error) {
	return New(ctx, in, p.o)
}
