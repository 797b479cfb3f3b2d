package load

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"kratos-conformance/harness/client/kratosflow"
)

// Scenario is one kind of request under load. A response counts as a success
// only when Check says so: vegeta alone would count any 2xx-3xx.
type Scenario struct {
	Name string
	SLO  time.Duration // p99 bound of a passing step
	// MinSuccess is the share of right answers a passing step needs; 0: 0.999.
	MinSuccess float64
	// Prepare returns a targeter for an attack of at most n requests; login
	// creates its flows here, ahead of the attack, and says how that went.
	Prepare func(ctx context.Context, n int) (vegeta.Targeter, *FlowSetup, error)
	// Check returns "" for a valid response, else the error's key for the
	// breakdown, e.g. "401 session_inactive" or "200 wrong identity".
	Check func(*vegeta.Result) string
	// Mail, when set, follows the last window's mails to the inbox after it
	// (registration's verification mail); the step records the figures.
	Mail func(ctx context.Context) *MailFigures
	// Sessions are whoami's sessions, from which a remote generator rebuilds
	// the scenario (each gets every N-th); nil: none needed.
	Sessions []Session
}

// Prepared runs Prepare now, for an attack of at most n requests, and returns
// the scenario with that targeter: an attack that must begin at a set moment
// (beside another) then does not first spend seconds creating flows.
func (s *Scenario) Prepared(ctx context.Context, n int) (*Scenario, error) {
	tr, setup, err := s.Prepare(ctx, n)
	if err != nil {
		return nil, err
	}
	p := *s
	p.Prepare = func(context.Context, int) (vegeta.Targeter, *FlowSetup, error) { return tr, setup, nil }
	return &p, nil
}

// wrongAnswer starts the key of a response that carried another user's data
// (or none): a correctness failure, which fails the run at once and is never
// part of a step's error budget.
const wrongAnswer = "wrong answer: "

// IsWrongAnswer reports whether an error key is a correctness failure.
func IsWrongAnswer(key string) bool { return strings.HasPrefix(key, wrongAnswer) }

// FlowSetup is the figure for creating login flows ahead of an attack.
type FlowSetup struct {
	Flows      int     `json:"flows"`
	Seconds    float64 `json:"seconds"`
	PerSecond  float64 `json:"per_second"`
	P50Millis  float64 `json:"p50_ms"`
	P99Millis  float64 `json:"p99_ms"`
	MaxMillis  float64 `json:"max_ms"`
	Concurrent int     `json:"concurrency"`
}

func rotate(targets []vegeta.Target) vegeta.Targeter {
	var next atomic.Uint64
	return func(t *vegeta.Target) error {
		*t = targets[(next.Add(1)-1)%uint64(len(targets))]
		return nil
	}
}

func targetIndex(u string, n int) (int, bool) {
	at := strings.LastIndex(u, "kc=")
	if at < 0 {
		return 0, false
	}
	i, err := strconv.Atoi(u[at+3:])
	return i, err == nil && i >= 0 && i < n
}

// statusKey is "" when the status is want and the request did not fail,
// else "<status> <kratos error id>" or "transport: <error>".
func statusKey(r *vegeta.Result, want int) string {
	if r.Code == 0 {
		return "transport: " + shorten(r.Error)
	}
	if int(r.Code) == want {
		return ""
	}
	if id := kratosflow.ErrorIDOf(r.Body); id != "" {
		return strconv.Itoa(int(r.Code)) + " " + id
	}
	return strconv.Itoa(int(r.Code))
}

func shorten(s string) string {
	// Keep the cause (after the last colon) so errors group: "context deadline exceeded".
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

// Kind is a scenario the load stage runs, with everything that is its own:
// its row in the verdict matrix, how hard each profile drives it, how it is
// built for a run, and the bound its capacity is compared with. Adding a
// scenario is one file that calls registerKind from init.
type Kind struct {
	Name        string
	Requirement string // its row in docs/requirements.md, judged by its SLO
	// Search is its plan in a searching workload that runs every scenario
	// (every_scenario, the capacity profile) without listing it: the first
	// rate and the ceiling that fit what one request costs.
	Search Plan
	// DefaultSLO is the p99 bound when the workload's plan sets none: the
	// suite's flag for this kind of request.
	DefaultSLO func(Input) time.Duration
	Build      func(b Build) *Scenario
	// Ratio, when set, relates the highest sustained rate to a bound
	// measured in the same run, so figures compare across machines.
	Ratio func(c Capacity, r *Result, sameMachine bool)
	// HashPerRequest: each request is one password-hash compare, so the
	// hash bound caps it (limited_by says how close it came).
	HashPerRequest bool
}

// Build is what a scenario is built from in one run.
type Build struct {
	In     Input
	Pop    *Population
	Native *kratosflow.Agent // an API-flow client of the deployment
	SLO    time.Duration     // the plan's, or the kind's default
}

// Kinds are the registered scenarios, in the order of their requirements.
var Kinds []Kind

func registerKind(k Kind) {
	Kinds = append(Kinds, k)
	slices.SortFunc(Kinds, func(a, b Kind) int { return strings.Compare(a.Requirement, b.Requirement) })
}
