package load

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"kratos-conformance/harness/client/kratosflow"
)

func init() {
	registerKind(Kind{Name: "registration", Search: Plan{Rate: 1, MaxRate: 100}, Requirement: "LOAD-006", DefaultSLO: func(in Input) time.Duration { return in.SLOLogin }, HashPerRequest: true,
		Build: func(b Build) *Scenario {
			return Registration(RegistrationInput{Agent: b.Native, In: b.In, Population: b.Pop, SLO: b.SLO, Concurrency: 8})
		}})
	registerKind(Kind{Name: "registration-browser", Search: Plan{Rate: 1, MaxRate: 100}, Requirement: "LOAD-010", DefaultSLO: func(in Input) time.Duration { return in.SLOLogin }, HashPerRequest: true,
		Build: func(b Build) *Scenario {
			return Registration(RegistrationInput{In: b.In, Population: b.Pop, SLO: b.SLO, Concurrency: 8, Browser: true})
		}})
}

// RegistrationInput is what the registration scenario needs.
type RegistrationInput struct {
	Agent *kratosflow.Agent // native: API flows
	// Browser: browser flows instead, each made by its own cookie jar, whose
	// CSRF cookie and token the submit carries, as a browser's form post does.
	Browser     bool
	In          Input       // the public URL, the schema's identities, the inbox
	Population  *Population // registered identities join it, so Cleanup removes them
	SLO         time.Duration
	Concurrency int // flow creation ahead of the attack
}

// registered is one registration of the window, for its verification mail.
type registered struct {
	address string
	sent    time.Time
}

// Registration is the API registration flow's password submit, with a new
// identity from the deployment's schema each time: a password hash, the
// identity and its addresses written, a session, and (where the schema
// verifies an address) the verification mail queued for the courier. The
// mail is followed to the inbox after the window (Scenario.Mail).
func Registration(in RegistrationInput) *Scenario {
	var (
		mu     sync.Mutex
		expect = map[string]registrationTarget{} // flow id -> what the new identity must carry
		window []registered                      // this attack's successful registrations
		next   atomic.Uint64
	)
	sc := &Scenario{Name: "registration", SLO: in.SLO}
	if in.Browser {
		sc.Name = "registration-browser"
	}
	sc.Prepare = func(ctx context.Context, n int) (vegeta.Targeter, *FlowSetup, error) {
		targets, setup, err := createRegistrationFlows(ctx, in, n, &next)
		if err != nil {
			return nil, nil, err
		}
		mu.Lock()
		window = nil
		sent := make([]vegeta.Target, len(targets))
		for i, t := range targets {
			sent[i] = t.target
			expect[t.flowID] = t
		}
		mu.Unlock()
		return once(sent), setup, nil
	}
	sc.Check = func(r *vegeta.Result) string {
		if key := statusKey(r, http.StatusOK); key != "" {
			return key
		}
		_, flowID, _ := strings.Cut(r.URL, "flow=")
		mu.Lock()
		want := expect[flowID]
		mu.Unlock()
		var body struct {
			Identity struct {
				ID     string         `json:"id"`
				Traits map[string]any `json:"traits"`
			} `json:"identity"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil || body.Identity.ID == "" {
			return "200 without an identity"
		}
		traits, _ := json.Marshal(body.Identity.Traits)
		if want.identifier == "" || !strings.Contains(strings.ToLower(string(traits)), strings.ToLower(want.identifier)) {
			return wrongAnswer + "an identity without the registered identifier"
		}
		in.Population.addRegistered(body.Identity.ID)
		mu.Lock()
		if want.email != "" {
			window = append(window, registered{address: want.email, sent: r.Timestamp})
		}
		mu.Unlock()
		return ""
	}
	if in.In.VerificationMail && in.In.Inbox != nil {
		sc.Mail = func(ctx context.Context) *MailFigures {
			mu.Lock()
			defer mu.Unlock()
			return followMail(ctx, in.In, window)
		}
	}
	return sc
}

type registrationTarget struct {
	target     vegeta.Target
	flowID     string
	identifier string
	email      string // where the verification mail goes; "" for none
}

// registrationOffset keeps registered identities apart from seeded ones
// (NewIdentity(i) for i below the population's size).
const registrationOffset = 1_000_000

func createRegistrationFlows(ctx context.Context, in RegistrationInput, n int, next *atomic.Uint64) ([]registrationTarget, *FlowSetup, error) {
	return prepareAhead(n, in.Concurrency, func(int) (registrationTarget, time.Duration, error) {
		traits, identifier, email, err := in.In.NewIdentity(registrationOffset + int(next.Add(1)))
		if err != nil {
			return registrationTarget{}, 0, err
		}
		// A password of its own, long and random: the deployment's policy
		// (length, similarity to the identifier, breach lists) accepts it.
		submit := map[string]any{"method": "password", "password": "Kc-" + rand.Text(), "traits": traits}
		header := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
		began := time.Now()
		flowID, err := createRegistrationFlow(ctx, in, submit, header)
		took := time.Since(began)
		if err != nil {
			return registrationTarget{}, took, err
		}
		body, _ := json.Marshal(submit)
		u := in.In.Endpoints.KratosPublic.JoinPath("self-service", "registration").String() + "?flow=" + flowID
		return registrationTarget{flowID: flowID, identifier: identifier, email: email, target: vegeta.Target{
			Method: http.MethodPost, URL: u, Body: body, Header: header}}, took, nil
	})
}

// createRegistrationFlow makes one flow: an API flow, or a browser flow by
// a fresh cookie jar, whose CSRF token joins submit and cookies join header.
func createRegistrationFlow(ctx context.Context, in RegistrationInput, submit map[string]any, header http.Header) (string, error) {
	if !in.Browser {
		flow, _, err := in.Agent.API.FrontendAPI.CreateNativeRegistrationFlow(ctx).Execute()
		if err != nil {
			return "", fmt.Errorf("create registration flow: %w", err)
		}
		return flow.Id, nil
	}
	browser, err := kratosflow.NewBrowser(in.In.Endpoints, in.In.Intervals.HTTPRequest)
	if err != nil {
		return "", err
	}
	flow, _, err := browser.API.FrontendAPI.CreateBrowserRegistrationFlow(ctx).Execute()
	if err != nil {
		return "", fmt.Errorf("create browser registration flow: %w (%s)", err, kratosflow.ErrorBody(err))
	}
	csrf, err := kratosflow.CSRFToken(flow.Ui)
	if err != nil {
		return "", err
	}
	submit["csrf_token"] = csrf
	var cookies []string
	for _, c := range browser.Jar.Cookies(in.In.Endpoints.KratosPublic) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	header.Set("Cookie", strings.Join(cookies, "; "))
	return flow.Id, nil
}
