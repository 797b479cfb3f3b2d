package kratosflow

import (
	"context"
	"fmt"
	"net/http"

	ory "github.com/ory/kratos-client-go"
)

// LoggedIn is what a completed login gives back; on a refused submit,
// Response still holds Kratos' answer.
type LoggedIn struct {
	Result   *ory.SuccessfulNativeLogin
	Response *http.Response
}

// LoginOption varies a login flow.
type LoginOption func(*loginOptions)

type loginOptions struct{ refresh bool }

// Refresh asks for re-authentication of the current session, as the
// guide's ?refresh=true does (browser flows).
func Refresh() LoginOption { return func(o *loginOptions) { o.refresh = true } }

// Login walks the login flow with identifier and password as the agent's
// kind of client does: the browser flow with CSRF, or the API flow, whose
// Result carries the session token.
func (a *Agent) Login(ctx context.Context, identifier, password string, opts ...LoginOption) (LoggedIn, error) {
	var o loginOptions
	for _, opt := range opts {
		opt(&o)
	}
	if !a.Browser() {
		req := a.API.FrontendAPI.CreateNativeLoginFlow(ctx)
		if o.refresh {
			req = req.Refresh(true)
		}
		flow, _, err := req.Execute()
		if err != nil {
			return LoggedIn{}, fmt.Errorf("init API login: %w (%s)", err, ErrorBody(err))
		}
		return a.SubmitLogin(ctx, flow.Id, identifier, password, nil)
	}
	req := a.API.FrontendAPI.CreateBrowserLoginFlow(ctx)
	if o.refresh {
		req = req.Refresh(true)
	}
	flow, _, err := req.Execute()
	if err != nil {
		return LoggedIn{}, fmt.Errorf("init browser login: %w (%s)", err, ErrorBody(err))
	}
	csrf, err := CSRFToken(flow.Ui)
	if err != nil {
		return LoggedIn{}, err
	}
	return a.SubmitLogin(ctx, flow.Id, identifier, password, &csrf)
}

// LoginBody is the password method's submit; csrf is nil on API flows.
func LoginBody(identifier, password string, csrf *string) ory.UpdateLoginFlowBody {
	return ory.UpdateLoginFlowWithPasswordMethodAsUpdateLoginFlowBody(&ory.UpdateLoginFlowWithPasswordMethod{
		Method: "password", Identifier: identifier, Password: password, CsrfToken: csrf,
	})
}

// SubmitLogin submits the password method on a login flow made earlier;
// csrf is nil on API flows.
func (a *Agent) SubmitLogin(ctx context.Context, flowID, identifier, password string, csrf *string) (LoggedIn, error) {
	res, resp, err := a.API.FrontendAPI.UpdateLoginFlow(ctx).Flow(flowID).UpdateLoginFlowBody(LoginBody(identifier, password, csrf)).Execute()
	if err != nil {
		return LoggedIn{Response: resp}, fmt.Errorf("submit login: %w (%s)", err, ErrorBody(err))
	}
	return LoggedIn{Result: res, Response: resp}, nil
}
