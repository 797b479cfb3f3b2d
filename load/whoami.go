package load

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// whoami targets rotate through the sessions; the index in the query string
// (ignored by Kratos) tells Check which identity and session must answer.
func whoami(name string, public *url.URL, sessions []Session, slo time.Duration, cookie bool) *Scenario {
	targets := make([]vegeta.Target, len(sessions))
	for i, s := range sessions {
		h := http.Header{"Accept": {"application/json"}}
		if cookie {
			h.Set("Cookie", s.Cookie)
		} else {
			h.Set("X-Session-Token", s.Token)
		}
		targets[i] = vegeta.Target{Method: http.MethodGet, URL: public.JoinPath("sessions", "whoami").String() + "?kc=" + strconv.Itoa(i), Header: h}
	}
	return &Scenario{
		Name:     name,
		SLO:      slo,
		Sessions: sessions,
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

func whoamiSLO(in Input) time.Duration { return in.SLOWhoami }

func init() {
	registerKind(Kind{Name: "whoami-token", Search: Plan{Rate: 50, MaxRate: 5000}, Requirement: "LOAD-002", DefaultSLO: whoamiSLO,
		Build: func(b Build) *Scenario { return WhoamiToken(b.In.Endpoints.KratosPublic, b.Pop, b.SLO) },
		// wrk's closed loop on one token is the deployment's whoami ceiling
		// as another client sees it; the generator's share says whether
		// this machine, not Kratos, was the limit.
		Ratio: func(c Capacity, r *Result, _ bool) {
			if r.Bounds.WrkWhoamiRPS > 0 {
				r.Ratios["whoami_token_max_over_wrk"] = round3(c.MaxSustainableRPS / r.Bounds.WrkWhoamiRPS)
			}
			for _, s := range c.Steps {
				if s.Pass && s.TargetRPS == c.MaxSustainableRPS {
					r.GeneratorShareAtWhoamiMax = s.CPU["generator"]
				}
			}
		}})
	registerKind(Kind{Name: "whoami-cookie", Search: Plan{Rate: 50, MaxRate: 5000}, Requirement: "LOAD-003", DefaultSLO: whoamiSLO,
		Build: func(b Build) *Scenario { return WhoamiCookie(b.In.Endpoints.KratosPublic, b.Pop, b.SLO) }})
}

// WhoamiToken is GET /sessions/whoami with X-Session-Token, as apps call it.
func WhoamiToken(public *url.URL, pop *Population, slo time.Duration) *Scenario {
	return whoami("whoami-token", public, pop.Tokens, slo, false)
}

// WhoamiCookie is GET /sessions/whoami with the session cookie, as browsers call it.
func WhoamiCookie(public *url.URL, pop *Population, slo time.Duration) *Scenario {
	return whoami("whoami-cookie", public, pop.Cookies, slo, true)
}
