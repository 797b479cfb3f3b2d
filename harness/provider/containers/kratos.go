package containers

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"kratos-conformance/internal/wait"

	"github.com/moby/moby/api/types/container"
	dockernet "github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	tcwait "github.com/testcontainers/testcontainers-go/wait"

	"kratos-conformance/fixtures"
	"kratos-conformance/harness"
	"kratos-conformance/internal/build"
)

// startKratos runs the one Kratos image three ways, as the guide's Deployment:
// the migrate initContainer to completion, then serve, then courier watch.
func (s *Stack) startKratos(ctx context.Context) error {
	// Kratos writes its public base URL into every flow (ui.action, logout_url),
	// so it must be the address clients use. Host ports are picked first and
	// bound explicitly, so the URL is known before the container starts; a
	// random mapping would only be known after, when the config is already in.
	publicPort, err := harness.FreePort()
	if err != nil {
		return err
	}
	adminPort, err := harness.FreePort()
	if err != nil {
		return err
	}
	site := harness.SiteOf(s.own)
	ca, publicBase, adminBase, err := harness.LocalTLS(s.logDir, site, publicPort, adminPort)
	if err != nil {
		return err
	}

	// The image's version decides its config's version key and its migrate
	// command; with -kc.upgrade-from the stack starts on the older image.
	if s.up.TestedVersion, err = s.imageVersion(ctx, s.opts.KratosImage, "-kc.kratos-image"); err != nil {
		return err
	}
	for _, old := range s.up.Images {
		v, err := s.imageVersion(ctx, old, "-kc.upgrade-from")
		if err != nil {
			return err
		}
		s.up.Versions = append(s.up.Versions, v)
	}
	image, version := s.up.Current(), cmp.Or(s.up.From(), s.up.TestedVersion)
	rc, err := s.cfg.OwnDeployment(fixtures.Deployment{
		KratosVersion: version,
		DSN:           s.kratosDSN, SMTPURI: "smtp://mailpit:1025/?disable_starttls=true",
		IdentitySchemaURL: "file://" + schemaDir + "/default.json",
		PublicBaseURL:     publicBase.String(), PublicHost: "0.0.0.0", PublicPort: 4433,
		AdminBaseURL: adminBase.String(), AdminHost: "0.0.0.0", AdminPort: 4434,
		TLSCertFile: tlsDir + "/tls.crt", TLSKeyFile: tlsDir + "/tls.key",
	}, s.own, ownDir).Render()
	if err != nil {
		return err
	}
	rendered := rc.YAML
	s.config = rc.Effective
	s.cfg.RecordConfig(&s.env, rc)
	env := map[string]string{}
	for _, kv := range rc.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	// A fresh option per container: each copy consumes its readers.
	s.kratosFiles = func() testcontainers.CustomizeRequestOption {
		files := []testcontainers.ContainerFile{
			file(rendered, configDir+"/configs.yaml"),
			file(fixtures.IdentitySchema(), schemaDir+"/default.json"),
			file(ca.CertPEM, tlsDir+"/tls.crt"),
			file(ca.KeyPEM, tlsDir+"/tls.key"),
		}
		for name, b := range rc.Files {
			files = append(files, file(b, ownDir+"/"+name))
		}
		return func(req *testcontainers.GenericContainerRequest) error {
			if err := testcontainers.WithFiles(files...)(req); err != nil {
				return err
			}
			return testcontainers.WithEnv(env)(req)
		}
	}
	s.ports = map[string]int{"4433/tcp": publicPort, "4434/tcp": adminPort}

	local := harness.LocalEndpoints(site, publicBase, adminBase, s.endpoints.MailpitAPI, ca)
	local.PostgresDSN, local.RedisAddr = s.endpoints.PostgresDSN, s.endpoints.RedisAddr
	s.endpoints = local

	// The initContainer: migrations run to completion before serve starts.
	if err := s.migrate(ctx, harness.ComponentMigrate, image, version); err != nil {
		return err
	}
	if err := s.startServe(ctx, image); err != nil {
		return err
	}
	client, err := s.endpoints.HTTPClient(nil, s.cfg.Intervals.HTTPRequest)
	if err != nil {
		return err
	}
	// The version serve reports is the record; upgrading, the record is the
	// tested image's (what the run certifies) and the one it came from.
	served, err := harness.KratosVersion(ctx, client, adminBase)
	if err != nil {
		return err
	}
	s.env.KratosVersion = served
	if s.up.From() != "" {
		s.env.KratosVersion, s.env.UpgradedFrom = s.up.TestedVersion, strings.Join(s.up.Versions, " -> ")
	}
	return s.startCourier(ctx, image)
}

// migrate runs `migrate sql` of image to completion, as the initContainer (or
// the chart's migration Job) does.
func (s *Stack) migrate(ctx context.Context, name harness.Component, image, version string) error {
	migrate, err := s.run(ctx, name, func() (testcontainers.Container, error) {
		return testcontainers.Run(ctx, image, append(s.common(name), s.kratosFiles(),
			testcontainers.WithCmd(append([]string{"-c", configDir + "/configs.yaml"}, harness.MigrateArgs(version)...)...),
			testcontainers.WithWaitStrategyAndDeadline(s.cfg.Intervals.ProcessStep, tcwait.ForExit()))...)
	})
	if err != nil {
		return imageHint(err, s.imageFlag(image), image)
	}
	if st, err := migrate.State(ctx); err != nil || st.ExitCode != 0 {
		return s.cfg.ConfigRejected(fmt.Errorf("%s exited with %v (%v)%s", name, exitCode(st), err, s.logTail(ctx, migrate)), s.logs(ctx, migrate))
	}
	return nil
}

// startServe runs the kratos container (serve, production mode) on the fixed
// loopback ports and waits until it is ready.
func (s *Stack) startServe(ctx context.Context, image string) error {
	serve, err := s.run(ctx, harness.ComponentKratos, func() (testcontainers.Container, error) {
		return testcontainers.Run(ctx, image, append(s.common(harness.ComponentKratos), s.kratosFiles(),
			testcontainers.WithCmd("-c", configDir+"/configs.yaml", "serve"),
			testcontainers.WithExposedPorts("4433/tcp", "4434/tcp"), loopbackPorts(s.ports))...)
	})
	if err != nil {
		return err
	}
	if err := harness.WaitForKratos(ctx, s.endpoints, s.cfg.Intervals, s.alive(ctx, harness.ComponentKratos, serve)); err != nil {
		return s.cfg.ConfigRejected(fmt.Errorf("%w%s", err, s.logTail(ctx, serve)), s.logs(ctx, serve))
	}
	return nil
}

// startCourier runs the courier container, a separate process draining the
// mail queue, and waits for its start-up line.
func (s *Stack) startCourier(ctx context.Context, image string) error {
	courier, err := s.run(ctx, harness.ComponentCourier, func() (testcontainers.Container, error) {
		return testcontainers.Run(ctx, image, append(s.common(harness.ComponentCourier), s.kratosFiles(), s.courierLogLevel(),
			testcontainers.WithCmd("-c", configDir+"/configs.yaml", "courier", "watch"))...)
	})
	if err != nil {
		return err
	}
	return s.courierStarted(ctx, courier, 0)
}

// courierLogLevel: the wait reads the courier's info-level start-up line,
// and an operator's config may log less (warning): their courier runs at
// debug (listed as an overlay). The guide's logs at info already.
func (s *Stack) courierLogLevel() testcontainers.CustomizeRequestOption {
	env := map[string]string{}
	if s.own != nil {
		env["LOG_LEVEL"] = "debug"
	}
	return testcontainers.WithEnv(env)
}

// imageVersion runs the Kratos image once with `version` and reads what it prints.
func (s *Stack) imageVersion(ctx context.Context, image, flag string) (string, error) {
	c, err := s.run(ctx, "kratos-version", func() (testcontainers.Container, error) {
		return testcontainers.Run(ctx, image, append(s.common("kratos-version"), testcontainers.WithCmd("version"),
			testcontainers.WithWaitStrategyAndDeadline(s.cfg.Intervals.ProcessStep, tcwait.ForExit()))...)
	})
	if err != nil {
		return "", imageHint(err, flag, image)
	}
	return build.ParseVersion(s.logs(ctx, c)), nil
}

// courierStarted is the courier's named wait: it has no health endpoint, so
// wait for its start-up line, the (starts+1)th after a restart.
func (s *Stack) courierStarted(ctx context.Context, courier testcontainers.Container, starts int) error {
	return wait.For(ctx, wait.Input{
		Name: "Kratos courier worker started", Timeout: s.cfg.Intervals.CourierReady, Interval: s.cfg.Intervals.Poll,
		Alive: s.alive(ctx, harness.ComponentCourier, courier),
		Check: func(ctx context.Context) error {
			if strings.Count(s.logs(ctx, courier), harness.CourierStartLine) <= starts {
				return fmt.Errorf("no new %q line in the courier's log yet", harness.CourierStartLine)
			}
			return nil
		},
	})
}

// loopbackPorts publishes container ports on fixed loopback ports: the
// addresses stay the same when a fault scenario restarts the container.
func loopbackPorts(ports map[string]int) testcontainers.CustomizeRequestOption {
	return testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
		hc.PortBindings = dockernet.PortMap{}
		for port, host := range ports {
			hc.PortBindings[dockernet.MustParsePort(port)] = []dockernet.PortBinding{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: strconv.Itoa(host)}}
		}
	})
}

func file(b []byte, path string) testcontainers.ContainerFile {
	// World-readable: the image's user differs between images (65532 here, ory in oryd/kratos).
	return testcontainers.ContainerFile{Reader: bytes.NewReader(b), ContainerFilePath: path, FileMode: 0o644}
}
