package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ory "github.com/ory/kratos-client-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"kratos-conformance/harness/client/kratosflow"
)

func init() {
	registerKind(Kind{Name: "recovery", Search: Plan{Rate: 2, MaxRate: 200}, Requirement: "LOAD-011", DefaultSLO: func(in Input) time.Duration { return in.SLOLogin },
		Build: func(b Build) *Scenario { return Recovery(b.In, b.Native, b.Pop, b.SLO) }})
}

// recoveryOffset keeps recovered identities apart from seeded and registered ones.
const recoveryOffset = 2_000_000

// Recovery is the API recovery flow's request by email (method code): the
// flow state sent_email, and the code's mail followed to the inbox after
// the window. Each request recovers an identity imported ahead of the
// window with an address of its own, so each mail is known by its address;
// Cleanup removes them. The code's submit is not loaded: it waits on a mail.
func Recovery(in Input, agent *kratosflow.Agent, pop *Population, slo time.Duration) *Scenario {
	var (
		mu     sync.Mutex
		expect = map[string]string{} // flow id -> the address it recovers
		window []registered
		next   atomic.Uint64
	)
	sc := &Scenario{Name: "recovery", SLO: slo}
	sc.Prepare = func(ctx context.Context, n int) (vegeta.Targeter, *FlowSetup, error) {
		if !in.RecoveryMail || in.Inbox == nil {
			return nil, nil, errors.New("recovery under load needs a schema that recovers by the address it verifies, selfservice.flows.recovery enabled with use: code, and the deployment's inbox: this deployment lacks one of them")
		}
		admin, err := kratosflow.NewAdmin(in.Endpoints, in.Intervals.HTTPRequest)
		if err != nil {
			return nil, nil, err
		}
		targets, setup, err := prepareAhead(n, 8, func(int) (vegeta.Target, time.Duration, error) {
			traits, _, email, err := in.NewIdentity(recoveryOffset + int(next.Add(1)))
			if err != nil {
				return vegeta.Target{}, 0, err
			}
			body := ory.NewCreateIdentityBody(in.SchemaID, traits)
			body.Credentials = &ory.IdentityWithCredentials{Password: &ory.IdentityWithCredentialsPassword{
				Config: &ory.IdentityWithCredentialsPasswordConfig{HashedPassword: &pop.Hash}}}
			id, _, err := admin.IdentityAPI.CreateIdentity(ctx).CreateIdentityBody(*body).Execute()
			if err != nil {
				return vegeta.Target{}, 0, fmt.Errorf("import an identity to recover: %w (%s)", err, kratosflow.ErrorBody(err))
			}
			pop.addRegistered(id.Id)
			began := time.Now()
			flow, _, err := agent.API.FrontendAPI.CreateNativeRecoveryFlow(ctx).Execute()
			took := time.Since(began)
			if err != nil {
				return vegeta.Target{}, took, fmt.Errorf("create recovery flow: %w (%s)", err, kratosflow.ErrorBody(err))
			}
			mu.Lock()
			expect[flow.Id] = email
			mu.Unlock()
			submit, _ := json.Marshal(map[string]string{"method": "code", "email": email})
			return vegeta.Target{Method: http.MethodPost, URL: in.Endpoints.KratosPublic.JoinPath("self-service", "recovery").String() + "?flow=" + flow.Id, Body: submit,
				Header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}}, took, nil
		})
		if err != nil {
			return nil, nil, err
		}
		mu.Lock()
		window = nil
		mu.Unlock()
		return once(targets), setup, nil
	}
	sc.Check = func(r *vegeta.Result) string {
		if key := statusKey(r, http.StatusOK); key != "" {
			return key
		}
		var flow struct {
			ID    string `json:"id"`
			State string `json:"state"`
		}
		if err := json.Unmarshal(r.Body, &flow); err != nil {
			return "200 unreadable body"
		}
		_, flowID, _ := strings.Cut(r.URL, "flow=")
		mu.Lock()
		defer mu.Unlock()
		address, ok := expect[flowID]
		if flow.ID != flowID || !ok {
			return wrongAnswer + "another flow"
		}
		if flow.State != "sent_email" {
			return "200 state " + flow.State
		}
		window = append(window, registered{address: address, sent: r.Timestamp})
		return ""
	}
	sc.Mail = func(ctx context.Context) *MailFigures {
		mu.Lock()
		defer mu.Unlock()
		return followMail(ctx, in, window)
	}
	return sc
}
