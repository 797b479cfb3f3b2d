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

// InitLogin starts a login flow as the agent's kind of client does: the
// browser flow (which sets the CSRF cookie) or the API flow. Both take
// Refresh, AAL2 and ReturnTo; the API flow also SessionToken.
func (a *Agent) InitLogin(ctx context.Context, opts ...FlowOption) (Flow[ory.LoginFlow], error) {
	if !a.Browser() {
		o, err := flowOpts("an API login flow", opts, takesRefresh|takesAAL|takesReturnTo|takesToken)
		if err != nil {
			return Flow[ory.LoginFlow]{}, err
		}
		req := withLoginOptions(a.API.FrontendAPI.CreateNativeLoginFlow(ctx), o)
		if o.token != "" {
			req = req.XSessionToken(o.token)
		}
		f, resp, err := req.Execute()
		return shown(false, f, resp, err, "init API login")
	}
	o, err := flowOpts("a browser login flow", opts, takesRefresh|takesAAL|takesReturnTo)
	if err != nil {
		return Flow[ory.LoginFlow]{}, err
	}
	f, resp, err := withLoginOptions(a.API.FrontendAPI.CreateBrowserLoginFlow(ctx), o).Execute()
	return shown(true, f, resp, err, "init browser login")
}

// loginInit is what the browser and API login inits share: kratos-client-go
// makes them two types with the same setters.
type loginInit[R any] interface {
	Refresh(bool) R
	Aal(string) R
	ReturnTo(string) R
}

// withLoginOptions sets Refresh, AAL2 and ReturnTo on either login init.
func withLoginOptions[R loginInit[R]](req R, o flowOptions) R {
	if o.refresh {
		req = req.Refresh(true)
	}
	if o.aal2 {
		req = req.Aal("aal2")
	}
	if o.returnTo != "" {
		req = req.ReturnTo(o.returnTo)
	}
	return req
}

// GetLoginFlow reads a login flow by id, e.g. the replacement of an expired one.
func (a *Agent) GetLoginFlow(ctx context.Context, id string) (Flow[ory.LoginFlow], error) {
	f, resp, err := a.API.FrontendAPI.GetLoginFlow(ctx).Id(id).Execute()
	return shown(a.Browser(), f, resp, err, "get login flow "+id)
}

// Login walks the login flow with identifier and password as the agent's
// kind of client does: the browser flow with CSRF, or the API flow, whose
// Result carries the session token. opts vary the flow (InitLogin).
func (a *Agent) Login(ctx context.Context, identifier, password string, opts ...FlowOption) (LoggedIn, error) {
	f, err := a.InitLogin(ctx, opts...)
	if err != nil {
		return LoggedIn{}, err
	}
	if !a.Browser() {
		return a.SubmitLogin(ctx, f.Flow.Id, identifier, password, nil)
	}
	csrf, err := CSRFToken(f.Flow.Ui)
	if err != nil {
		return LoggedIn{}, err
	}
	return a.SubmitLogin(ctx, f.Flow.Id, identifier, password, &csrf)
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

// SubmitTOTP submits a TOTP code on an API flow started with AAL2, for the
// session given with SessionToken: the second factor that raises it to aal2.
func (a *Agent) SubmitTOTP(ctx context.Context, flowID, code string, opts ...FlowOption) (LoggedIn, error) {
	o, err := flowOpts("a TOTP submit", opts, takesToken)
	if err != nil {
		return LoggedIn{}, err
	}
	req := a.API.FrontendAPI.UpdateLoginFlow(ctx).Flow(flowID).UpdateLoginFlowBody(
		ory.UpdateLoginFlowWithTotpMethodAsUpdateLoginFlowBody(&ory.UpdateLoginFlowWithTotpMethod{Method: "totp", TotpCode: code}))
	if o.token != "" {
		req = req.XSessionToken(o.token)
	}
	res, resp, err := req.Execute()
	if err != nil {
		return LoggedIn{Response: resp}, fmt.Errorf("submit TOTP: %w (%s)", err, ErrorBody(err))
	}
	return LoggedIn{Result: res, Response: resp}, nil
}
