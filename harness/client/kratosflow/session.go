package kratosflow

import (
	"context"
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
