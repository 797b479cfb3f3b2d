package load

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"kratos-conformance/harness/client/kratosflow"
)

func init() {
	registerKind(Kind{Name: "logout", Search: Plan{Rate: 2, MaxRate: 20}, Requirement: "LOAD-008", DefaultSLO: whoamiSLO,
		Build: func(b Build) *Scenario { return Logout(b.Native, b.In.Endpoints.KratosPublic, b.Pop, b.SLO) }})
}

// Logout is the API logout (DELETE /self-service/logout/api with the session
// token): each request ends a session logged in ahead of the window, so the
// attack measures the revocation alone. Only 204 counts: Kratos answers
// that once it has revoked the token.
func Logout(agent *kratosflow.Agent, public *url.URL, pop *Population, slo time.Duration) *Scenario {
	var next atomic.Uint64
	return &Scenario{
		Name: "logout",
		SLO:  slo,
		Prepare: func(ctx context.Context, n int) (vegeta.Targeter, *FlowSetup, error) {
			sessions, setup, err := freshSessions(ctx, agent, pop, n, 8, &next)
			if err != nil {
				return nil, nil, err
			}
			targets := make([]vegeta.Target, len(sessions))
			for i, s := range sessions {
				body, _ := json.Marshal(map[string]string{"session_token": s.Token})
				targets[i] = vegeta.Target{Method: http.MethodDelete, URL: public.JoinPath("self-service", "logout", "api").String(), Body: body,
					Header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}}
			}
			return once(targets), setup, nil
		},
		Check: func(r *vegeta.Result) string { return statusKey(r, http.StatusNoContent) },
	}
}
