// Package load applies vegeta load to whoami and login against a Stack's
// Endpoints, searches for the saturation point and measures the bounds that
// make its figures ratios. It returns data and never asserts; the suite gates.
package load

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	ory "github.com/ory/kratos-client-go"

	"kratos-conformance/fixtures"
	"kratos-conformance/harness"
	"kratos-conformance/harness/client/kratosflow"
)

// Identity is one seeded account; every seeded account shares Password.
type Identity struct {
	ID         string
	Identifier string // what its password login types
}

// NewIdentity makes the traits of identity i from the deployment's identity
// schema, the identifier a password login uses, and the address Kratos
// mails verification codes to ("" when the schema verifies none).
type NewIdentity func(i int) (traits map[string]any, identifier, email string, err error)

// Session is a real session from a real login, with what proves its owner.
type Session struct {
	IdentityID string
	SessionID  string
	Token      string // API flow: X-Session-Token
	Cookie     string // browser flow: the session cookie as a Cookie header pair, name=value
}

// Population is what the load stage works with.
type Population struct {
	Password   string
	Hash       string // the one hash every identity was imported with
	Hasher     Hasher // its algorithm and parameters: the deployment's
	Identities []Identity
	Tokens     []Session
	Cookies    []Session

	mu         sync.Mutex
	registered []string // identities the registration scenario made, removed by Cleanup too
}

// addRegistered records an identity the load made, so Cleanup removes it.
func (pop *Population) addRegistered(id string) {
	pop.mu.Lock()
	defer pop.mu.Unlock()
	pop.registered = append(pop.registered, id)
}

// SeedInput says how many identities and sessions to make.
type SeedInput struct {
	Endpoints   harness.Endpoints
	Intervals   harness.Intervals
	SchemaID    string      // the identity schema the identities are created with
	NewIdentity NewIdentity // their traits
	Identities  int         // imported through the admin API
	Sessions    int         // real logins, half API flow (tokens), half browser (cookies)
	Hasher      Hasher      // the deployment's, from a hash it made: a login pays the stored hash's cost
	Concurrency int         // parallel logins while seeding
	// SessionCookie is the deployment's session cookie name (session.cookie.name).
	SessionCookie string
	Progress      func(string)
}

func (in SeedInput) validate() error {
	switch {
	case in.Endpoints.KratosAdmin == nil || in.Endpoints.KratosPublic == nil:
		return errors.New("load.SeedInput.Endpoints needs the Kratos public and admin URLs")
	case in.SchemaID == "" || in.NewIdentity == nil:
		return errors.New("load.SeedInput.SchemaID and NewIdentity are required: identities fit the deployment's schema")
	case in.Identities < 1 || in.Sessions < 2:
		return fmt.Errorf("load.SeedInput needs at least 1 identity and 2 sessions, got %d and %d", in.Identities, in.Sessions)
	case in.Hasher.Name == "":
		return errors.New("load.SeedInput.Hasher is required: identities are seeded with the deployment's own hasher")
	case in.SessionCookie == "":
		return errors.New("load.SeedInput.SessionCookie is required: the deployment's session cookie name")
	case in.Concurrency < 1:
		return errors.New("load.SeedInput.Concurrency must be at least 1")
	}
	return nil
}

// batchSize is how many identities one admin batch request creates.
const batchSize = 250

// Seed imports in.Identities identities with one precomputed hash (seconds,
// not minutes of hashing) and logs in in.Sessions times for real sessions.
func Seed(ctx context.Context, in SeedInput) (*Population, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	admin, err := kratosflow.NewAdmin(in.Endpoints, in.Intervals.HTTPRequest)
	if err != nil {
		return nil, err
	}
	pop := &Population{Password: fixtures.NewPassword()}
	hash, err := in.Hasher.Hash(pop.Password)
	if err != nil {
		return nil, err
	}
	pop.Hash, pop.Hasher = hash, in.Hasher
	report(in.Progress, "load: seeding %d identities in batches of %d, then %d logins for sessions", in.Identities, batchSize, in.Sessions)
	for start := 0; start < in.Identities; start += batchSize {
		var patches []ory.IdentityPatch
		identifiers := map[string]string{} // patch id (a UUID, as Kratos requires) -> identifier
		for i := start; i < min(start+batchSize, in.Identities); i++ {
			traits, identifier, _, err := in.NewIdentity(i)
			if err != nil {
				return nil, err
			}
			body := ory.NewCreateIdentityBody(in.SchemaID, traits)
			body.Credentials = &ory.IdentityWithCredentials{Password: &ory.IdentityWithCredentialsPassword{
				Config: &ory.IdentityWithCredentialsPasswordConfig{HashedPassword: &pop.Hash}}}
			patchID := uuid.NewString()
			identifiers[patchID] = identifier
			patches = append(patches, ory.IdentityPatch{Create: body, PatchId: &patchID})
		}
		res, _, err := admin.IdentityAPI.BatchPatchIdentities(ctx).PatchIdentitiesBody(ory.PatchIdentitiesBody{Identities: patches}).Execute()
		if err != nil {
			return nil, fmt.Errorf("import identities %d..%d: %w (%s)", start, start+len(patches)-1, err, kratosflow.ErrorBody(err))
		}
		for _, r := range res.Identities {
			identifier := identifiers[r.GetPatchId()]
			if r.GetAction() != "create" || identifier == "" {
				return nil, fmt.Errorf("import of %s answered %q: %v", identifier, r.GetAction(), r.Error)
			}
			pop.Identities = append(pop.Identities, Identity{ID: r.GetIdentity(), Identifier: identifier})
		}
	}
	report(in.Progress, "load: imported %d identities with one %s hash", len(pop.Identities), in.Hasher)
	if err := pop.login(ctx, in); err != nil {
		return nil, err
	}
	report(in.Progress, "load: %d token sessions and %d cookie sessions from real logins", len(pop.Tokens), len(pop.Cookies))
	return pop, nil
}

// login makes the sessions: even indexes through the API flow, odd ones
// through the browser flow, spread over the identities.
func (pop *Population) login(ctx context.Context, in SeedInput) error {
	sessions := make([]Session, in.Sessions)
	errs := make([]error, in.Sessions)
	var wg sync.WaitGroup
	slots := make(chan struct{}, in.Concurrency)
	for i := range sessions {
		wg.Add(1)
		slots <- struct{}{}
		go func(i int) {
			defer func() { <-slots; wg.Done() }()
			id := pop.Identities[i%len(pop.Identities)]
			sessions[i], errs[i] = loginOnce(ctx, in, id, pop.Password, i%2 == 0)
		}(i)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("seeding sessions: %w", err)
	}
	for i, s := range sessions {
		if i%2 == 0 {
			pop.Tokens = append(pop.Tokens, s)
		} else {
			pop.Cookies = append(pop.Cookies, s)
		}
	}
	return nil
}

func loginOnce(ctx context.Context, in SeedInput, id Identity, password string, native bool) (Session, error) {
	var agent *kratosflow.Agent
	var err error
	if native {
		agent, err = kratosflow.NewNative(in.Endpoints, in.Intervals.HTTPRequest)
	} else {
		agent, err = kratosflow.NewBrowser(in.Endpoints, in.Intervals.HTTPRequest)
	}
	if err != nil {
		return Session{}, err
	}
	res, err := agent.Login(ctx, id.Identifier, password)
	if err != nil {
		return Session{}, err
	}
	s := Session{IdentityID: res.Result.Session.Identity.Id, SessionID: res.Result.Session.Id, Token: res.Result.GetSessionToken()}
	if s.IdentityID != id.ID {
		return Session{}, fmt.Errorf("login as %s returned identity %s, want %s", id.Identifier, s.IdentityID, id.ID)
	}
	if !native {
		for _, c := range res.Response.Cookies() {
			if c.Name == in.SessionCookie {
				s.Cookie = c.Name + "=" + c.Value
			}
		}
		if s.Cookie == "" {
			return Session{}, fmt.Errorf("browser login as %s set no %s cookie (session.cookie.name)", id.Identifier, in.SessionCookie)
		}
	}
	return s, nil
}

// Cleanup deletes the seeded identities (and so their sessions): needed on a
// deployment that outlives the run.
func (pop *Population) Cleanup(ctx context.Context, ep harness.Endpoints, iv harness.Intervals) error {
	admin, err := kratosflow.NewAdmin(ep, iv.HTTPRequest)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range pop.Identities {
		if _, err := admin.IdentityAPI.DeleteIdentity(ctx, id.ID).Execute(); err != nil {
			errs = append(errs, fmt.Errorf("delete %s: %w", id.Identifier, err))
		}
	}
	pop.mu.Lock()
	defer pop.mu.Unlock()
	for _, id := range pop.registered {
		if _, err := admin.IdentityAPI.DeleteIdentity(ctx, id).Execute(); err != nil {
			errs = append(errs, fmt.Errorf("delete registered identity %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

func report(progress func(string), format string, args ...any) {
	if progress != nil {
		progress(strings.TrimSpace(fmt.Sprintf(format, args...)))
	}
}

// settle runs VACUUM ANALYZE so the seeded tables have fresh statistics
// before anything is measured.
func settle(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("settle the database after seeding: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, "VACUUM ANALYZE")
	return err
}
