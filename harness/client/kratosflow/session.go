package kratosflow

import (
	"context"
	"fmt"
	"net/http"

	ory "github.com/ory/kratos-client-go"
)

// Whoami asks for the current session: with the agent's cookies, or with
// token when it is not empty.
func (a *Agent) Whoami(ctx context.Context, token string) (*ory.Session, *http.Response, error) {
	req := a.API.FrontendAPI.ToSession(ctx)
	if token != "" {
		req = req.XSessionToken(token)
	}
	return req.Execute()
}

// WhoamiCookie asks for the session of a Cookie header given by hand (e.g.
// "ory_kratos_session=..."), not the jar's: a replayed or planted cookie.
func (a *Agent) WhoamiCookie(ctx context.Context, cookie string) (*ory.Session, *http.Response, error) {
	return a.API.FrontendAPI.ToSession(ctx).Cookie(cookie).Execute()
}

// MySessions lists the sessions of the identity whose session token is given (GET /sessions).
func (a *Agent) MySessions(ctx context.Context, token string) ([]ory.Session, *http.Response, error) {
	list, resp, err := a.API.FrontendAPI.ListMySessions(ctx).XSessionToken(token).Execute()
	if err != nil {
		return list, resp, fmt.Errorf("list my sessions: %w (%s)", err, ErrorBody(err))
	}
	return list, resp, nil
}

// RevokeMySession asks to revoke session id as the holder of token
// (DELETE /sessions/{id}), which Kratos allows for the holder's own sessions only.
func (a *Agent) RevokeMySession(ctx context.Context, id, token string) (*http.Response, error) {
	resp, err := a.API.FrontendAPI.DisableMySession(ctx, id).XSessionToken(token).Execute()
	if err != nil {
		return resp, fmt.Errorf("revoke my session %s: %w (%s)", id, err, ErrorBody(err))
	}
	return resp, nil
}
