package load

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func init() {
	registerKind(Kind{Name: "admin-identity", Search: Plan{Rate: 50, MaxRate: 5000}, Requirement: "LOAD-007", DefaultSLO: whoamiSLO,
		Build: func(b Build) *Scenario { return AdminIdentity(b.In.Endpoints.KratosAdmin, b.Pop, b.SLO) }})
	registerKind(Kind{Name: "admin-identity-list", Search: Plan{Rate: 50, MaxRate: 5000}, Requirement: "LOAD-012", DefaultSLO: whoamiSLO,
		Build: func(b Build) *Scenario { return AdminIdentityList(b.In.Endpoints.KratosAdmin, b.Pop, b.SLO) }})
}

// AdminIdentity is GET /admin/identities/{id} through the seeded identities,
// as a back office or another service reads users; the index in the query
// string (ignored by Kratos) tells Check which identity must answer.
func AdminIdentity(admin *url.URL, pop *Population, slo time.Duration) *Scenario {
	targets := make([]vegeta.Target, len(pop.Identities))
	for i, id := range pop.Identities {
		targets[i] = vegeta.Target{Method: http.MethodGet, URL: admin.JoinPath("admin", "identities", id.ID).String() + "?kc=" + strconv.Itoa(i),
			Header: http.Header{"Accept": {"application/json"}}}
	}
	return adminRead("admin-identity", slo, targets, func(i int, r *vegeta.Result) string {
		if !bytes.Contains(r.Body, []byte(`"id":"`+pop.Identities[i].ID+`"`)) {
			return wrongAnswer + "another identity"
		}
		return ""
	})
}

// AdminIdentityList is GET /admin/identities filtered by a login identifier
// (credentials_identifier), as a back office finds a user: the list must
// hold exactly the identity that owns it.
func AdminIdentityList(admin *url.URL, pop *Population, slo time.Duration) *Scenario {
	targets := make([]vegeta.Target, len(pop.Identities))
	for i, id := range pop.Identities {
		q := url.Values{"credentials_identifier": {id.Identifier}, "kc": {strconv.Itoa(i)}}
		targets[i] = vegeta.Target{Method: http.MethodGet, URL: admin.JoinPath("admin", "identities").String() + "?" + q.Encode(),
			Header: http.Header{"Accept": {"application/json"}}}
	}
	return adminRead("admin-identity-list", slo, targets, func(i int, r *vegeta.Result) string {
		var list []struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(r.Body, &list); err != nil {
			return "200 unreadable body"
		}
		if len(list) != 1 || list[0].ID != pop.Identities[i].ID {
			return wrongAnswer + "not exactly the identity with that identifier"
		}
		return ""
	})
}

// adminRead is an admin API read through the seeded identities: targets
// rotate, each answer must be a 200 for its own target's identity (the kc
// index), and check judges the body for identity i.
func adminRead(name string, slo time.Duration, targets []vegeta.Target, check func(i int, r *vegeta.Result) string) *Scenario {
	return &Scenario{
		Name: name,
		SLO:  slo,
		Prepare: func(context.Context, int) (vegeta.Targeter, *FlowSetup, error) {
			return rotate(targets), nil, nil
		},
		Check: func(r *vegeta.Result) string {
			i, ok := targetIndex(r.URL, len(targets))
			if !ok {
				return "unknown target " + r.URL
			}
			if key := statusKey(r, http.StatusOK); key != "" {
				return key
			}
			return check(i, r)
		},
	}
}
