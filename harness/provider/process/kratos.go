package process

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"kratos-conformance/internal/wait"

	"kratos-conformance/fixtures"
	"kratos-conformance/harness"
)

// startKratos renders the guide's config (or the operator's), then runs Kratos as the guide's
// Deployment does: migrate (initContainer), serve, and courier watch.
func (s *Stack) startKratos(ctx context.Context) error {
	publicPort, err := portOrFree(s.opts.PublicPort, "public-port")
	if err != nil {
		return err
	}
	adminPort, err := portOrFree(s.opts.AdminPort, "admin-port")
	if err != nil {
		return err
	}
	site := harness.SiteOf(s.own)
	ca, publicBase, adminBase, err := harness.LocalTLS(s.logDir, site, publicPort, adminPort)
	if err != nil {
		return err
	}
	dir := filepath.Join(s.tmp, "kratos")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	files := map[string][]byte{
		"tls.crt": ca.CertPEM, "tls.key": ca.KeyPEM, "ca.crt": ca.CAPEM,
		"identity.default.schema.json": fixtures.IdentitySchema(),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return err
		}
	}
	// With -kc.upgrade-from the stack starts on the oldest Kratos; each Roll
	// moves it one step along the path, the last to the tested one.
	first := s.kratos
	if len(s.path) > 0 {
		first = s.path[0]
	}
	rc, err := s.cfg.OwnDeployment(fixtures.Deployment{
		KratosVersion: first.Version,
		DSN:           s.endpoints.PostgresDSN, SMTPURI: s.smtpURI,
		IdentitySchemaURL: "file://" + filepath.Join(dir, "identity.default.schema.json"),
		PublicBaseURL:     publicBase.String(), PublicHost: "127.0.0.1", PublicPort: publicPort,
		AdminBaseURL: adminBase.String(), AdminHost: "127.0.0.1", AdminPort: adminPort,
		TLSCertFile: filepath.Join(dir, "tls.crt"), TLSKeyFile: filepath.Join(dir, "tls.key"),
		CookieSecret: s.secrets.cookie, CipherSecret: s.secrets.cipher,
	}, s.own, filepath.Join(dir, "files")).Render()
	if err != nil {
		return err
	}
	for name, b := range rc.Files {
		path := filepath.Join(dir, "files", name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return err
		}
	}
	s.config, s.kratosEnv = rc.Effective, rc.Env
	configPath := filepath.Join(dir, "kratos.yaml")
	s.configPath = configPath
	if err := os.WriteFile(configPath, rc.YAML, 0o600); err != nil {
		return err
	}
	s.cfg.RecordConfig(&s.env, rc)

	local := harness.LocalEndpoints(site, publicBase, adminBase, s.endpoints.MailpitAPI, ca)
	local.PostgresDSN, local.RedisAddr = s.endpoints.PostgresDSN, s.endpoints.RedisAddr
	s.endpoints = local

	// The initContainer: migrations run to completion before serve starts.
	migrate := procInput{Name: harness.ComponentMigrate, Path: first.Path, LogPath: s.logPath(harness.ComponentMigrate), Env: s.kratosEnv,
		Args: append([]string{"-c", configPath}, harness.MigrateArgs(first.Version)...)}
	if err := runStep(ctx, migrate, s.cfg.Intervals.ProcessStep); err != nil {
		return s.cfg.ConfigRejected(err, harness.TailFile(migrate.LogPath, 60))
	}
	s.record(migrate)

	// The kratos container: serve, in production mode (no --dev, no --watch-courier).
	serve := procInput{Name: harness.ComponentKratos, Path: first.Path, LogPath: s.logPath(harness.ComponentKratos), Keep: s.cfg.Keep,
		Env: s.kratosEnv, Args: []string{"-c", configPath, "serve"}}
	s.record(serve)
	err = s.start(ctx, serve, func(ctx context.Context, p *proc, _ int64) error {
		if err := harness.WaitForKratos(ctx, s.endpoints, s.cfg.Intervals, p.exited); err != nil {
			return s.cfg.ConfigRejected(fmt.Errorf("%w\nlast lines of %s:\n%s", err, serve.LogPath, harness.TailFile(serve.LogPath, 15)), harness.TailFile(serve.LogPath, 60))
		}
		return nil
	})
	if err != nil {
		return err
	}

	// The courier container: a separate process draining the mail queue.
	courier := procInput{Name: harness.ComponentCourier, Path: first.Path, LogPath: s.logPath(harness.ComponentCourier), Keep: s.cfg.Keep,
		Args: []string{"-c", configPath, "courier", "watch"},
		// Debug adds one line per mail sent ("Courier sent out message."):
		// the courier's log then shows what it delivered.
		Env: append(slices.Clone(s.kratosEnv), "LOG_LEVEL=debug")}
	s.record(courier)
	// Named wait: the courier has no health endpoint (its metrics port option
	// only works when admin listens on 4434), so wait for its start-up log line.
	err = s.start(ctx, courier, func(ctx context.Context, p *proc, logFrom int64) error {
		return wait.For(ctx, wait.Input{
			Name: "Kratos courier worker started", Timeout: s.cfg.Intervals.CourierReady, Interval: s.cfg.Intervals.Poll,
			Alive: p.exited,
			Check: func(context.Context) error {
				if !strings.Contains(harness.ReadFrom(p.in.LogPath, logFrom), harness.CourierStartLine) {
					return fmt.Errorf("no %q line in %s yet", harness.CourierStartLine, p.in.LogPath)
				}
				return nil
			},
		})
	})
	return err
}
