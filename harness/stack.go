// Package harness brings up a Kratos deployment for the specs and load stage:
// the Stack interface every provider implements, the run configuration, named
// readiness waits and the test-side HTTP client.
package harness

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"kratos-conformance/reports"
)

// Stack is one deployment under test. Providers implement it; specs and load
// only ever see Endpoints.
type Stack interface {
	// Up starts every component and returns once all named readiness waits
	// passed. It runs once, from the suite's setup. On error, whatever it had
	// started stays registered for Down, which the caller always calls.
	Up(ctx context.Context) error
	// Endpoints is where the specs reach the deployment; valid after Up.
	Endpoints() Endpoints
	// Environment records what is deployed (versions, hasher, provider); valid after Up.
	Environment() Environment
	// CollectLogs makes sure each component's log is in dir. It runs after the
	// specs and before Down, so logs are taken while the components exist.
	CollectLogs(ctx context.Context, dir string) error
	// Down stops and removes everything Up started. Safe after a failed Up
	// and safe to call twice.
	Down(ctx context.Context) error
	// Keep leaves everything running (the user asked for it) and returns how
	// to reach and stop it by hand.
	Keep() string
}

// Endpoints is what every provider yields, so specs never know which ran.
type Endpoints struct {
	// KratosPublic is the public API as browsers and apps address it,
	// e.g. https://kratos.example.test:4433/.
	KratosPublic *url.URL
	// KratosAdmin is the admin API's base URL; Kratos serves it under /admin/.
	KratosAdmin *url.URL
	// MailpitAPI is the base URL of the Mailpit that receives the courier's
	// mail; nil when there is none (mail is then read from the courier API).
	MailpitAPI *url.URL
	// UIBase is the self-service UI's origin on the shared cookie domain; nil
	// when the target did not say (specs that need it are then N/A).
	UIBase *url.URL
	// CookieDomain is the configured cookies.domain, leading dot included.
	CookieDomain string
	// CAPEM holds extra roots the test client trusts (the run's throwaway CA); nil: system roots only.
	CAPEM []byte
	// HostAliases maps a host name, or a ".suffix" for a whole domain, to the
	// IP the test client dials instead of asking DNS; a "host:port" key maps
	// that address to another "ip:port" (a port-forward). Nothing on the machine is edited.
	HostAliases map[string]string
	// PublicForwarded: the public API is reached through a client-go
	// port-forward, which ends (and is opened again) when the pod resets one
	// connection; a spec that provokes a reset on purpose leaves it out.
	PublicForwarded bool
	// PostgresDSN and RedisAddr are empty when the provider cannot reach them.
	PostgresDSN string
	RedisAddr   string
}

// Environment is the run's record of what was under test; providers fill it
// and the summary carries it as it is.
type Environment = reports.Environment

// Borrowed is implemented by stacks that reach a deployment the suite did not
// start and that outlives the run: the suite removes what it made there, and
// its load generator does not share the deployment's machine.
type Borrowed interface {
	Borrowed()
}

// Upgrader is implemented by providers that can start the stack on an older
// Kratos (-kc.upgrade-from) and upgrade it in place the way Ory's chart
// does: the new Kratos' migrations as their own step while the old serve
// keeps answering, then serve and the courier restarted on the new binary.
//
// -kc.upgrade-from may name a path of several older Kratos; each Migrate and
// Roll is one hop, to the next one on the path and at last the tested one.
type Upgrader interface {
	// UpgradingFrom is the Kratos version the stack runs until the next Roll;
	// "" once it runs the Kratos under test.
	UpgradingFrom() string
	// UpgradingTo is the version the next Migrate and Roll move to.
	UpgradingTo() string
	// Migrate runs the next Kratos' migrations against the running stack's database.
	Migrate(ctx context.Context) error
	// Roll restarts serve and the courier (stopped or not) on the next Kratos
	// and returns once serve is ready and the courier has started.
	Roll(ctx context.Context) error
}

// UpgradePath splits -kc.upgrade-from: the older Kratos, oldest first.
func UpgradePath(from string) []string {
	var out []string
	for _, p := range strings.Split(from, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ProcessGroups is implemented by providers that run local processes: the
// process group id of each running component, for CPU accounting under load.
type ProcessGroups interface {
	ProcessGroups() map[Component]int
}

// PodCPU is implemented by providers whose components run as pods: each
// container's and node's CPU counter, from the kubelets' summary (keyed by
// pod/container and node/<name>; the nodes' component is "machine"), and
// the cores of those nodes.
type PodCPU interface {
	PodCPUSeconds(ctx context.Context) (counters map[string]CPUCounter, cores float64, err error)
}

// CPUCounter is CPU seconds used so far by one container or node, as read
// At: a kubelet refreshes each counter on its own every 10-15 s, so a rate
// over a window must use each counter's own time.
type CPUCounter struct {
	Component string
	Seconds   float64
	At        time.Time
}

// ConfigSource is implemented by providers that know the Kratos configuration
// they deployed (or were given), so the guide's checklist can read it.
type ConfigSource interface {
	KratosConfig() []byte
}

// Component is one part of a deployment the suite starts: the name of its
// log file, its label, its entry in Environment.Components, and what the
// fault scenarios stop and start again.
type Component string

const (
	ComponentPostgres Component = "postgres"
	ComponentRedis    Component = "redis"
	ComponentMailpit  Component = "mailpit"        // the SMTP server the courier sends to
	ComponentMigrate  Component = "kratos-migrate" // migrate sql, run to completion first
	ComponentKratos   Component = "kratos"         // serve only
	ComponentCourier  Component = "kratos-courier" // courier watch
)

// Faults is implemented by providers that can stop a component and start it
// again in place: same ports, data and config, the rest of the stack untouched.
type Faults interface {
	// Stop ends the component (Postgres: fast shutdown) and returns once it is gone.
	Stop(ctx context.Context, component Component) error
	// Start runs it again and returns once its own readiness check passes.
	Start(ctx context.Context, component Component) error
}

// TogetherStarter is implemented by providers that run several components in
// one pod (the guide's serve and courier): starting them together is one pod
// start, in the pod's own container order, as in production.
type TogetherStarter interface {
	StartTogether(ctx context.Context, components ...Component) error
}

// StartTogether starts stopped components at the same instant: as one pod
// where the provider runs them in one, else each in its own goroutine.
func StartTogether(ctx context.Context, f Faults, components ...Component) error {
	if t, ok := f.(TogetherStarter); ok {
		return t.StartTogether(ctx, components...)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(components))
	for i, c := range components {
		wg.Go(func() { errs[i] = f.Start(ctx, c) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Supervised is implemented by providers whose components a supervisor keeps
// running (Kubernetes' kubelet, by restart policy and probes): the suite
// signals a component's process in place and watches the supervisor act.
type Supervised interface {
	// Signal sends sig to the component's main process, where it runs.
	Signal(ctx context.Context, component Component, sig syscall.Signal) error
	// Restarts is how often the supervisor restarted the component so far.
	Restarts(ctx context.Context, component Component) (int, error)
	// Ready is the supervisor's readiness verdict on the component.
	Ready(ctx context.Context, component Component) (bool, error)
	// Liveness is the component's deployed liveness probe; ok is false without one.
	Liveness(ctx context.Context, component Component) (p Probe, ok bool, err error)
}

// Probe is a liveness probe's timing as deployed, with the grace its
// container gets between the kill's SIGTERM and SIGKILL.
type Probe struct {
	Period, Timeout, InitialDelay, TerminationGrace time.Duration
	FailureThreshold                                int
}

// RestartBound is the latest a hung process must be restarted by, per
// Kubernetes' documented probe semantics: FailureThreshold failed probes
// (each at most Period apart and Timeout long), then the kill's grace.
func (p Probe) RestartBound() time.Duration {
	return time.Duration(p.FailureThreshold)*(p.Period+p.Timeout) + p.TerminationGrace
}

// CourierStartLine is what Kratos' courier logs once its worker runs.
const CourierStartLine = "Courier worker started."

// CourierScaler is implemented by providers that can run several couriers on
// one mail queue (more processes, replicas or pods), as scaled deployments do.
type CourierScaler interface {
	// ScaleCouriers runs n couriers and returns once each has started.
	ScaleCouriers(ctx context.Context, n int) error
}

// Replicas is implemented by providers that can reach each Kratos serve
// replica on its own, past the Service that spreads clients over them.
type Replicas interface {
	// ReplicaEndpoints are the deployment's Endpoints, one per ready serve
	// replica, whose public API is that replica alone; close ends what they opened.
	ReplicaEndpoints(ctx context.Context) (eps []Endpoints, close func(), err error)
}

// ServeScaler is implemented by providers that can change how serve runs,
// as Kubernetes does: its replicas, and a rolling restart.
type ServeScaler interface {
	// ScaleServe runs n serve replicas and returns once all are ready.
	ScaleServe(ctx context.Context, n int) error
	// RestartServe replaces every serve replica the way kubectl rollout
	// restart does and returns once the rollout is done.
	RestartServe(ctx context.Context) error
}

// InCluster is implemented by stacks that can run the suite itself inside
// their cluster (INCLUSTER-001): the same certification, from a pod, reaching
// the deployment the way in-cluster clients do.
type InCluster interface {
	// SuiteImage is the suite's image the cluster runs; "" when none was given.
	SuiteImage() string
	// RunInCluster runs the certification in a pod against this deployment,
	// copies the pod's report folder into dir, removes what it created, and
	// says how the pod ended.
	RunInCluster(ctx context.Context, dir string) (InClusterRun, error)
}

// InClusterRun is how the certification inside the cluster ended.
type InClusterRun struct {
	Pod      string // namespace/name
	ExitCode int    // the suite's: 0 is PASS
	Log      string // the pod's log, saved beside the report folder
}

// LoadGenerators is implemented by stacks that can run load generators as
// pods beside the deployment (-kc.load-generators).
type LoadGenerators interface {
	// GeneratorEndpoints are the deployment as a pod in the cluster reaches it.
	GeneratorEndpoints(ctx context.Context) (Endpoints, error)
	// RunGenerators runs one generator pod per spec, starts them together
	// once all run, passes every line each prints to lines (one goroutine per
	// generator), and returns once all ended, having removed them.
	RunGenerators(ctx context.Context, specs [][]byte, lines func(generator int, line []byte)) error
}

// MailpitFlags are how every stack runs its Mailpit (kind's manifests
// carry the same): any SMTP login accepted, no version check, and no
// reverse DNS lookup of the sender, which on an offline cluster waits 4 s
// for each courier pod no Service selects, and so paced the courier to
// one mail per 4 s (Mailpit stands in for the operator's mail provider; its
// greeting delay is not the deployment's).
var MailpitFlags = []string{"--smtp-auth-accept-any", "--smtp-auth-allow-insecure", "--disable-version-check", "--smtp-disable-rdns"}
