// Package harness brings up a Kratos deployment for the specs and load stage:
// the Stack interface every provider implements, the run configuration, named
// readiness waits and the test-side HTTP client.
package harness

import (
	"context"
	"net/url"

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
	// IP the test client dials instead of asking DNS. Nothing on the machine is edited.
	HostAliases map[string]string
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

// ProcessGroups is implemented by providers that run local processes: the
// process group id of each running component, for CPU accounting under load.
type ProcessGroups interface {
	ProcessGroups() map[Component]int
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
