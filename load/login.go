package load

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"kratos-conformance/harness/client/kratosflow"
)

func init() {
	registerKind(Kind{Name: "login", Search: Plan{Rate: 2, MaxRate: 200}, Requirement: "LOAD-004", DefaultSLO: func(in Input) time.Duration { return in.SLOLogin }, HashPerRequest: true,
		Build: func(b Build) *Scenario {
			return Login(LoginInput{Agent: b.Native, Public: b.In.Endpoints.KratosPublic, Population: b.Pop, SLO: b.SLO, Concurrency: 8})
		},
		// Each login is one password-hash compare: on the machine Kratos
		// runs on, the hash bound caps it.
		Ratio: func(c Capacity, r *Result, sameMachine bool) {
			if r.Bounds.HashComparesPerSec > 0 && sameMachine {
				r.Ratios["login_max_over_hash_bound"] = round3(c.MaxSustainableRPS / r.Bounds.HashComparesPerSec)
			}
		}})
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
			sent := make([]vegeta.Target, len(targets))
			for i, t := range targets {
				sent[i] = t.target
				expect[t.flowID] = t.identityID
			}
			mu.Unlock()
			return once(sent), setup, nil
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
	return prepareAhead(n, in.Concurrency, func(int) (loginTarget, time.Duration, error) {
		began := time.Now()
		flow, _, err := in.Agent.API.FrontendAPI.CreateNativeLoginFlow(ctx).Execute()
		took := time.Since(began)
		if err != nil {
			return loginTarget{}, took, fmt.Errorf("create login flow: %w", err)
		}
		id := in.Population.Identities[(next.Add(1)-1)%uint64(len(in.Population.Identities))]
		body, _ := json.Marshal(map[string]string{"method": "password", "identifier": id.Identifier, "password": in.Population.Password})
		u := in.Public.JoinPath("self-service", "login").String() + "?flow=" + flow.Id
		return loginTarget{flowID: flow.Id, identityID: id.ID, target: vegeta.Target{
			Method: http.MethodPost, URL: u, Body: body,
			Header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}},
		}}, took, nil
	})
}
