package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
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
	// Prepare returns a targeter for an attack of at most n requests; login
	// creates its flows here, ahead of the attack, and says how that went.
	Prepare func(ctx context.Context, n int) (vegeta.Targeter, *FlowSetup, error)
	// Check returns "" for a valid response, else the error's key for the
	// breakdown, e.g. "401 session_inactive" or "200 wrong identity".
	Check func(*vegeta.Result) string
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

// whoami targets rotate through the sessions; the index in the query string
// (ignored by Kratos) tells Check which identity and session must answer.
func whoami(name string, public *url.URL, sessions []Session, slo time.Duration, cookie bool) *Scenario {
	targets := make([]vegeta.Target, len(sessions))
	for i, s := range sessions {
		h := http.Header{"Accept": {"application/json"}}
		if cookie {
			h.Set("Cookie", "ory_kratos_session="+s.Cookie)
		} else {
			h.Set("X-Session-Token", s.Token)
		}
		targets[i] = vegeta.Target{Method: http.MethodGet, URL: public.JoinPath("sessions", "whoami").String() + "?kc=" + strconv.Itoa(i), Header: h}
	}
	return &Scenario{
		Name: name,
		SLO:  slo,
		Prepare: func(context.Context, int) (vegeta.Targeter, *FlowSetup, error) {
			return rotate(targets), nil, nil
		},
		Check: func(r *vegeta.Result) string {
			i, ok := targetIndex(r.URL, len(sessions))
			if !ok {
				return "unknown target " + r.URL
			}
			if key := statusKey(r, http.StatusOK); key != "" {
				return key
			}
			if r.Headers.Get("X-Kratos-Authenticated-Identity-Id") != sessions[i].IdentityID {
				return wrongAnswer + "another identity"
			}
			if !bytes.Contains(r.Body, []byte(`"id":"`+sessions[i].SessionID+`"`)) {
				return wrongAnswer + "another session"
			}
			return ""
		},
	}
}

// WhoamiToken is GET /sessions/whoami with X-Session-Token, as apps call it.
func WhoamiToken(public *url.URL, pop *Population, slo time.Duration) *Scenario {
	return whoami("whoami-token", public, pop.Tokens, slo, false)
}

// WhoamiCookie is GET /sessions/whoami with the ory_kratos_session cookie, as browsers call it.
func WhoamiCookie(public *url.URL, pop *Population, slo time.Duration) *Scenario {
	return whoami("whoami-cookie", public, pop.Cookies, slo, true)
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
	var body struct {
		Error struct {
			ID string `json:"id"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &body)
	if body.Error.ID == "" {
		return strconv.Itoa(int(r.Code))
	}
	return strconv.Itoa(int(r.Code)) + " " + body.Error.ID
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

// LoginInput is what the login scenario needs.
type LoginInput struct {
	Agent       *kratosflow.Agent // native: API flows
	Public      *url.URL
	Population  *Population
	SLO         time.Duration
	Concurrency int // flow creation ahead of the attack
}

// Login is the API login flow's password submit. Its flows are created ahead
// of each attack (and measured on their own), so the attack measures the
// submit: the bcrypt compare and the session write.
func Login(in LoginInput) *Scenario {
	var mu sync.Mutex
	expect := map[string]string{} // flow id -> identity that must log in
	var next atomic.Uint64
	return &Scenario{
		Name: "login",
		SLO:  in.SLO,
		Prepare: func(ctx context.Context, n int) (vegeta.Targeter, *FlowSetup, error) {
			targets, setup, err := createLoginFlows(ctx, in, n, &next)
			if err != nil {
				return nil, nil, err
			}
			mu.Lock()
			for _, t := range targets {
				expect[t.flowID] = t.identityID
			}
			mu.Unlock()
			var used atomic.Uint64
			return func(t *vegeta.Target) error {
				i := used.Add(1) - 1
				if i >= uint64(len(targets)) {
					return vegeta.ErrNoTargets
				}
				*t = targets[i].target
				return nil
			}, setup, nil
		},
		Check: func(r *vegeta.Result) string {
			if key := statusKey(r, http.StatusOK); key != "" {
				return key
			}
			_, flowID, _ := strings.Cut(r.URL, "flow=")
			mu.Lock()
			want := expect[flowID]
			mu.Unlock()
			var body struct {
				Token   string `json:"session_token"`
				Session struct {
					Identity struct {
						ID string `json:"id"`
					} `json:"identity"`
				} `json:"session"`
			}
			if err := json.Unmarshal(r.Body, &body); err != nil {
				return "200 unreadable body"
			}
			if body.Token == "" || body.Session.Identity.ID != want {
				return wrongAnswer + "no session, or another identity's"
			}
			return ""
		},
	}
}

type loginTarget struct {
	target     vegeta.Target
	flowID     string
	identityID string
}

func createLoginFlows(ctx context.Context, in LoginInput, n int, next *atomic.Uint64) ([]loginTarget, *FlowSetup, error) {
	out := make([]loginTarget, n)
	lat := make([]time.Duration, n)
	errs := make(chan error, n)
	slots := make(chan struct{}, max(1, in.Concurrency))
	var wg sync.WaitGroup
	start := time.Now()
	for i := range out {
		wg.Add(1)
		slots <- struct{}{}
		go func(i int) {
			defer func() { <-slots; wg.Done() }()
			began := time.Now()
			flow, _, err := in.Agent.API.FrontendAPI.CreateNativeLoginFlow(ctx).Execute()
			lat[i] = time.Since(began)
			if err != nil {
				errs <- fmt.Errorf("create login flow: %w", err)
				return
			}
			id := in.Population.Identities[(next.Add(1)-1)%uint64(len(in.Population.Identities))]
			body, _ := json.Marshal(map[string]string{"method": "password", "identifier": id.Identifier, "password": in.Population.Password})
			u := in.Public.JoinPath("self-service", "login").String() + "?flow=" + flow.Id
			out[i] = loginTarget{flowID: flow.Id, identityID: id.ID, target: vegeta.Target{
				Method: http.MethodPost, URL: u, Body: body,
				Header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}},
			}}
		}(i)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, nil, err
	}
	elapsed := time.Since(start)
	q := quantiles(lat)
	return out, &FlowSetup{Flows: n, Seconds: elapsed.Seconds(), PerSecond: float64(n) / elapsed.Seconds(),
		P50Millis: q(0.5), P99Millis: q(0.99), MaxMillis: q(1), Concurrent: in.Concurrency}, nil
}
