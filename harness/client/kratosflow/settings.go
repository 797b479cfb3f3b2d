package kratosflow

import (
	"context"
	"fmt"
	"net/http"

	ory "github.com/ory/kratos-client-go"
)

// InitSettings starts a settings flow of the agent's session: the browser
// flow with its cookie (takes ReturnTo), or the API flow with the app's
// token (takes SessionToken).
func (a *Agent) InitSettings(ctx context.Context, opts ...FlowOption) (Flow[ory.SettingsFlow], error) {
	if !a.Browser() {
		o, err := flowOpts("an API settings flow", opts, takesToken)
		if err != nil {
			return Flow[ory.SettingsFlow]{}, err
		}
		req := a.API.FrontendAPI.CreateNativeSettingsFlow(ctx)
		if o.token != "" {
			req = req.XSessionToken(o.token)
		}
		f, resp, err := req.Execute()
		return shown(false, f, resp, err, "init API settings")
	}
	o, err := flowOpts("a browser settings flow", opts, takesReturnTo)
	if err != nil {
		return Flow[ory.SettingsFlow]{}, err
	}
	req := a.API.FrontendAPI.CreateBrowserSettingsFlow(ctx)
	if o.returnTo != "" {
		req = req.ReturnTo(o.returnTo)
	}
	f, resp, err := req.Execute()
	return shown(true, f, resp, err, "init browser settings")
}

// GetSettingsFlow reads a settings flow by id, with the agent's cookies or
// the app's SessionToken: only its own identity's flow is shown.
func (a *Agent) GetSettingsFlow(ctx context.Context, id string, opts ...FlowOption) (Flow[ory.SettingsFlow], error) {
	o, err := flowOpts("a settings flow read", opts, takesToken)
	if err != nil {
		return Flow[ory.SettingsFlow]{}, err
	}
	req := a.API.FrontendAPI.GetSettingsFlow(ctx).Id(id)
	if o.token != "" {
		req = req.XSessionToken(o.token)
	}
	f, resp, err := req.Execute()
	return shown(a.Browser(), f, resp, err, "get settings flow "+id)
}

// SubmitSettings submits body (SettingsPasswordBody, SettingsProfileBody,
// SettingsTOTPBody) on a settings flow, with the agent's cookies or the
// app's SessionToken.
func (a *Agent) SubmitSettings(ctx context.Context, flowID string, body ory.UpdateSettingsFlowBody, opts ...FlowOption) (*ory.SettingsFlow, *http.Response, error) {
	o, err := flowOpts("a settings submit", opts, takesToken)
	if err != nil {
		return nil, nil, err
	}
	req := a.API.FrontendAPI.UpdateSettingsFlow(ctx).Flow(flowID).UpdateSettingsFlowBody(body)
	if o.token != "" {
		req = req.XSessionToken(o.token)
	}
	res, resp, err := req.Execute()
	if err != nil {
		return res, resp, fmt.Errorf("submit settings: %w (%s)", err, ErrorBody(err))
	}
	return res, resp, nil
}

// SettingsPasswordBody is the settings flow's password method submit; csrf is nil on API flows.
func SettingsPasswordBody(password string, csrf *string) ory.UpdateSettingsFlowBody {
	return ory.UpdateSettingsFlowWithPasswordMethodAsUpdateSettingsFlowBody(&ory.UpdateSettingsFlowWithPasswordMethod{
		Method: "password", Password: password, CsrfToken: csrf,
	})
}

// SettingsProfileBody is the profile method's submit of new traits; csrf is nil on API flows.
func SettingsProfileBody(traits map[string]any, csrf *string) ory.UpdateSettingsFlowBody {
	return ory.UpdateSettingsFlowWithProfileMethodAsUpdateSettingsFlowBody(&ory.UpdateSettingsFlowWithProfileMethod{
		Method: "profile", Traits: traits, CsrfToken: csrf,
	})
}

// SettingsTOTPBody links TOTP with a code of the flow's totp_secret_key; csrf is nil on API flows.
func SettingsTOTPBody(code string, csrf *string) ory.UpdateSettingsFlowBody {
	return ory.UpdateSettingsFlowWithTotpMethodAsUpdateSettingsFlowBody(&ory.UpdateSettingsFlowWithTotpMethod{
		Method: "totp", TotpCode: &code, CsrfToken: csrf,
	})
}
