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
	registerKind(Kind{Name: "settings", Search: Plan{Rate: 1, MaxRate: 20}, Requirement: "LOAD-009", DefaultSLO: func(in Input) time.Duration { return in.SLOLogin }, HashPerRequest: true,
		Build: func(b Build) *Scenario { return Settings(b.Native, b.In.Endpoints.KratosPublic, b.Pop, b.SLO) }})
}

// Settings is the API settings flow's password change: a session logged in
// ahead (so it is privileged) and its settings flow are made before the
// window; the attack measures the submit, one password hash and the
// identity's update. The new password is the seeded one again, so the
// identities stay usable by the other scenarios.
func Settings(agent *kratosflow.Agent, public *url.URL, pop *Population, slo time.Duration) *Scenario {
	var (
		next   atomic.Uint64
		mu     sync.Mutex
		expect = map[string]string{} // flow id -> the identity whose password it changes
	)
	return &Scenario{
		Name: "settings",
		SLO:  slo,
		Prepare: func(ctx context.Context, n int) (vegeta.Targeter, *FlowSetup, error) {
			sessions, setup, err := freshSessions(ctx, agent, pop, n, 8, &next)
			if err != nil {
				return nil, nil, err
			}
			targets := make([]vegeta.Target, len(sessions))
			body, _ := json.Marshal(map[string]string{"method": "password", "password": pop.Password})
			for i, s := range sessions {
				flow, _, err := agent.API.FrontendAPI.CreateNativeSettingsFlow(ctx).XSessionToken(s.Token).Execute()
				if err != nil {
					return nil, nil, fmt.Errorf("create settings flow: %w (%s)", err, kratosflow.ErrorBody(err))
				}
				mu.Lock()
				expect[flow.Id] = s.IdentityID
				mu.Unlock()
				targets[i] = vegeta.Target{Method: http.MethodPost, URL: public.JoinPath("self-service", "settings").String() + "?flow=" + flow.Id, Body: body,
					Header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}, "X-Session-Token": {s.Token}}}
			}
			return once(targets), setup, nil
		},
		Check: func(r *vegeta.Result) string {
			if key := statusKey(r, http.StatusOK); key != "" {
				return key
			}
			_, flowID, _ := strings.Cut(r.URL, "flow=")
			mu.Lock()
			want := expect[flowID]
			mu.Unlock()
			var flow struct {
				State    string `json:"state"`
				Identity struct {
					ID string `json:"id"`
				} `json:"identity"`
			}
			if err := json.Unmarshal(r.Body, &flow); err != nil {
				return "200 unreadable body"
			}
			if flow.Identity.ID != want {
				return wrongAnswer + "another identity's settings"
			}
			if flow.State != "success" {
				return "200 state " + flow.State
			}
			return ""
		},
	}
}
