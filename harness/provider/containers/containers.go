// Package containers is the testcontainers-go provider: Postgres and Redis
// through their modules, Mailpit as a generic container, and one Kratos image
// run three ways as the guide's Deployment does (migrate to completion, serve,
// courier watch), all on one user-defined network.
package containers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"

	"kratos-conformance/internal/wait"

	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"
	tcredis "github.com/testcontainers/testcontainers-go/modules/redis"
	"github.com/testcontainers/testcontainers-go/network"
	tcwait "github.com/testcontainers/testcontainers-go/wait"

	"kratos-conformance/fixtures"
	"kratos-conformance/harness"
)

// Stack is the containers provider's harness.Stack.
type Stack struct {
	cfg        harness.StackConfig
	opts       Options
	runID      string
	logDir     string
	network    *testcontainers.DockerNetwork
	ctrs       []named // in start order; Down terminates them in reverse
	endpoints  harness.Endpoints
	env        harness.Environment
	components map[string]string
	kratosDSN  string        // as Kratos reaches Postgres on the network
	config     []byte        // the Kratos config as Kratos reads it (the operator's environment on top)
	own        *fixtures.Own // -kc.kratos-config; nil: the guide's
	// What every Kratos container gets: the config, schema and TLS files,
	// and serve's fixed loopback ports (kept across restarts and the upgrade).
	kratosFiles func() testcontainers.CustomizeRequestOption
	ports       map[string]int
	up          harness.ImagePath // -kc.upgrade-from, to -kc.kratos-image
}

type named struct {
	name harness.Component
	c    testcontainers.Container
}

var _ harness.Stack = (*Stack)(nil)

const (
	labelComponent = "org.kratos-conformance.component"
	labelPID       = "org.kratos-conformance.pid" // the suite process; a dead one's objects are swept
	labelKept      = "org.kratos-conformance.kept"
	configDir      = "/identity/configs" // the guide's mount paths
	schemaDir      = "/identity/schemas"
	tlsDir         = "/identity/tls"
	ownDir         = "/identity/files" // the files an operator's config names (-kc.kratos-config)
)

// New checks the engine answers and sweeps what dead runs left; it starts nothing.
func New(ctx context.Context, in harness.StackInput, o Options) (*Stack, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	cli, err := dockerClient(ctx, in.Config.Intervals.HTTPRequest)
	if err != nil {
		return nil, err
	}
	err = testcontainersEnv(ctx, cli)
	cli.Close()
	if err != nil {
		return nil, err
	}
	sweepDeadRuns(ctx)
	own, err := in.Config.Own()
	if err != nil {
		return nil, err
	}
	return &Stack{cfg: in.Config, opts: o, runID: in.RunID, logDir: in.LogDir, components: map[string]string{}, up: harness.ImagePath{Images: harness.UpgradePath(in.Config.UpgradeFrom), Tested: o.KratosImage},
		own: own, env: harness.Environment{Provider: "containers", KratosBinary: o.KratosImage}}, nil
}

// testcontainersEnv checks the two settings testcontainers-go reads from the
// environment, once per process, that decide whether it works here; the suite
// does not change its own environment, so the command that starts it sets them
// (make images writes both into .cache/images.env).
func testcontainersEnv(ctx context.Context, cli *testcontainers.DockerClient) error {
	// The reaper's image cannot be pulled on machines without a registry; the
	// harness removes everything by label itself, so the reaper is not needed.
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") != "true" && !imagePresent(ctx, cli, reaperImage) {
		return fmt.Errorf("testcontainers-go would start its reaper, and its image %s is not on this machine: "+
			"set TESTCONTAINERS_RYUK_DISABLED=true (the suite removes its containers by label itself; make images writes it into .cache/images.env)", reaperImage)
	}
	// Inside a container testcontainers guesses the host from /.dockerenv and
	// dials the gateway; a local engine's mapped ports are on loopback, the
	// only place this suite sends traffic.
	if _, err := os.Stat("/.dockerenv"); err == nil && localEngine() && os.Getenv("TESTCONTAINERS_HOST_OVERRIDE") == "" {
		return errors.New("this machine is a container with a local Docker engine: set TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 " +
			"so testcontainers-go reaches the mapped ports on loopback (make images writes it into .cache/images.env)")
	}
	return nil
}

func imagePresent(ctx context.Context, cli *testcontainers.DockerClient, image string) bool {
	_, err := cli.ImageInspect(ctx, image)
	return err == nil
}

// reaperImage is testcontainers-go v0.45's reaper (Ryuk).
const reaperImage = "testcontainers/ryuk:0.14.0"

// localEngine is true when Docker is reached through its local unix socket.
func localEngine() bool {
	host := os.Getenv("DOCKER_HOST")
	return host == "" || strings.HasPrefix(host, "unix://")
}

func (s *Stack) labels(component string) map[string]string {
	l := map[string]string{LabelRun: s.runID, labelComponent: component, labelPID: strconv.Itoa(os.Getpid())}
	if s.cfg.Keep {
		l[labelKept] = "true"
	}
	return l
}

// run starts one container and registers it for Down before checking the error.
func (s *Stack) run(ctx context.Context, name harness.Component, start func() (testcontainers.Container, error)) (testcontainers.Container, error) {
	c, err := start()
	if !isNil(c) {
		s.ctrs = append(s.ctrs, named{name, c})
		if inspect, ierr := c.Inspect(ctx); ierr == nil {
			s.components[string(name)] = inspect.Config.Image + " " + inspect.ID[:12]
		}
	}
	if err != nil {
		return nil, fmt.Errorf("start %s: %w%s", name, err, s.logTail(ctx, c))
	}
	return c, nil
}

// isNil is true for a nil Container, including a typed nil pointer (the
// modules' Run returns one on failure).
func isNil(c testcontainers.Container) bool {
	v := reflect.ValueOf(c)
	return c == nil || v.Kind() == reflect.Pointer && v.IsNil()
}

// common are the options every container gets: labels and the network alias.
func (s *Stack) common(name harness.Component) []testcontainers.ContainerCustomizer {
	return []testcontainers.ContainerCustomizer{
		testcontainers.WithLabels(s.labels(string(name))),
		network.WithNetwork([]string{string(name)}, s.network),
	}
}

// Up starts Redis, Postgres, Mailpit, then Kratos migrate, serve and courier.
func (s *Stack) Up(ctx context.Context) error {
	nw, err := network.New(ctx, network.WithLabels(s.labels("network")))
	if err != nil {
		return fmt.Errorf("create the run's Docker network: %w", err)
	}
	s.network = nw
	for _, step := range []func(context.Context) error{s.startRedis, s.startPostgres, s.startMailpit, s.startKratos} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	s.env.Components = s.components
	return nil
}

func (s *Stack) startRedis(ctx context.Context) error {
	c, err := s.run(ctx, harness.ComponentRedis, func() (testcontainers.Container, error) {
		return tcredis.Run(ctx, s.opts.RedisImage, s.common(harness.ComponentRedis)...)
	})
	if err != nil {
		return imageHint(err, "-kc.redis-image", s.opts.RedisImage)
	}
	addr, err := hostAddr(ctx, c, "6379/tcp")
	if err != nil {
		return err
	}
	s.endpoints.RedisAddr = addr
	s.env.RedisVersion, err = harness.CheckRedisVersion(ctx, addr)
	return err
}

func (s *Stack) startPostgres(ctx context.Context) error {
	password := fixtures.NewSecret(24)
	hostPort, err := harness.FreePort()
	if err != nil {
		return err
	}
	opts := append(s.common(harness.ComponentPostgres), loopbackPorts(map[string]int{"5432/tcp": hostPort}),
		// Fast shutdown: SIGTERM would wait for Kratos' pooled connections to end.
		testcontainers.WithConfigModifier(func(c *container.Config) { c.StopSignal = "SIGINT" }),
		tcpostgres.WithDatabase("kratos"), tcpostgres.WithUsername("kratos"), tcpostgres.WithPassword(password),
		// The module's default command turns fsync off; run Postgres as the process provider does.
		testcontainers.WithCmd("postgres"),
		// Named wait: the server logs readiness once recovery is done; the
		// port check makes sure the mapping is usable from the host.
		testcontainers.WithWaitStrategyAndDeadline(s.cfg.Intervals.PostgresReady,
			tcwait.ForLog("database system is ready to accept connections"), tcwait.ForListeningPort("5432/tcp").SkipInternalCheck()),
	)
	c, err := s.run(ctx, harness.ComponentPostgres, func() (testcontainers.Container, error) {
		return tcpostgres.Run(ctx, s.opts.PostgresImage, opts...)
	})
	if err != nil {
		return imageHint(err, "-kc.postgres-image", s.opts.PostgresImage)
	}
	addr, err := hostAddr(ctx, c, "5432/tcp")
	if err != nil {
		return err
	}
	s.endpoints.PostgresDSN = fmt.Sprintf("postgres://kratos:%s@%s/kratos?sslmode=disable", password, addr)
	s.kratosDSN = fmt.Sprintf("postgres://kratos:%s@postgres:5432/kratos?sslmode=disable", password)
	s.env.PostgresVersion, err = harness.CheckPostgresVersion(ctx, s.endpoints.PostgresDSN)
	return err
}

func (s *Stack) startMailpit(ctx context.Context) error {
	apiPort, err := harness.FreePort()
	if err != nil {
		return err
	}
	c, err := s.run(ctx, harness.ComponentMailpit, func() (testcontainers.Container, error) {
		return testcontainers.Run(ctx, s.opts.MailpitImage, append(s.common(harness.ComponentMailpit),
			testcontainers.WithExposedPorts("8025/tcp", "1025/tcp"), loopbackPorts(map[string]int{"8025/tcp": apiPort}),
			testcontainers.WithCmd(harness.MailpitFlags...))...)
	})
	if err != nil {
		return imageHint(err, "-kc.mailpit-image", s.opts.MailpitImage)
	}
	addr, err := hostAddr(ctx, c, "8025/tcp")
	if err != nil {
		return err
	}
	s.endpoints.MailpitAPI = &url.URL{Scheme: "http", Host: addr, Path: "/"}
	if err := s.mailpitReady(ctx, c); err != nil {
		return err
	}
	s.env.MailpitVersion, err = mailpitVersion(ctx, s.endpoints.MailpitAPI)
	return err
}

// mailpitReady is Mailpit's named wait: /readyz answers once both the API and the SMTP listener are up.
func (s *Stack) mailpitReady(ctx context.Context, c testcontainers.Container) error {
	return wait.For(ctx, wait.Input{
		Name: "Mailpit /readyz", Timeout: s.cfg.Intervals.MailpitReady, Interval: s.cfg.Intervals.Poll,
		Alive: s.alive(ctx, harness.ComponentMailpit, c),
		Check: wait.HTTPStatus(http.DefaultClient, s.endpoints.MailpitAPI.JoinPath("readyz").String(), http.StatusOK),
	})
}

// mailpitVersion reads the Version field of Mailpit's /api/v1/info.
func mailpitVersion(ctx context.Context, api *url.URL) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api.JoinPath("api", "v1", "info").String(), nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var info struct{ Version string }
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		return "", fmt.Errorf("read Mailpit's version from %s: %w", req.URL, err)
	}
	return info.Version, nil
}
