package load

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"kratos-conformance/harness/client/kratosflow"
)

// freshSessions logs n identities in ahead of an attack that spends each
// session once (logout ends it; a password change wants it privileged):
// real API logins, each a password hash, made before the window and
// measured apart. They are identities no seeded session belongs to, so a
// deployment that revokes sessions on a password change cannot end whoami's.
func freshSessions(ctx context.Context, agent *kratosflow.Agent, pop *Population, n, concurrency int, next *atomic.Uint64) ([]Session, *FlowSetup, error) {
	spare := pop.Identities[min(len(pop.Tokens)+len(pop.Cookies), len(pop.Identities)):]
	if len(spare) == 0 {
		return nil, nil, errors.New("every seeded identity has a whoami session: give the workload more identities than sessions")
	}
	return prepareAhead(n, concurrency, func(int) (Session, time.Duration, error) {
		id := spare[(next.Add(1)-1)%uint64(len(spare))]
		began := time.Now()
		res, err := agent.Login(ctx, id.Identifier, pop.Password)
		took := time.Since(began)
		if err != nil {
			return Session{}, took, fmt.Errorf("log %s in ahead: %w", id.Identifier, err)
		}
		return Session{IdentityID: res.Result.Session.Identity.Id, SessionID: res.Result.Session.Id, Token: res.Result.GetSessionToken()}, took, nil
	})
}

// once sends each target once, then stops: a flow or session is spent.
func once(targets []vegeta.Target) vegeta.Targeter {
	var used atomic.Uint64
	return func(t *vegeta.Target) error {
		i := used.Add(1) - 1
		if i >= uint64(len(targets)) {
			return vegeta.ErrNoTargets
		}
		*t = targets[i]
		return nil
	}
}
