package load

import (
	"context"
	"net/http"
	"net/url"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Alive is GET /health/alive on the public API: no session and no database,
// Kratos' HTTP stack alone. It is the baseline whoami's figures read
// against, and a target cheap enough that a run with remote generators
// measures the generators rather than Kratos.
func Alive(public *url.URL, slo time.Duration) *Scenario {
	target := vegeta.Target{Method: http.MethodGet, URL: public.JoinPath("health", "alive").String()}
	return &Scenario{
		Name: "alive",
		SLO:  slo,
		Prepare: func(context.Context, int) (vegeta.Targeter, *FlowSetup, error) {
			return func(t *vegeta.Target) error { *t = target; return nil }, nil, nil
		},
		Check: func(r *vegeta.Result) string { return statusKey(r, http.StatusOK) },
	}
}

func init() {
	registerKind(Kind{Name: "alive", Search: Plan{Rate: 100, MaxRate: 20000}, Requirement: "LOAD-005", DefaultSLO: whoamiSLO,
		Build: func(b Build) *Scenario { return Alive(b.In.Endpoints.KratosPublic, b.SLO) }})
}
