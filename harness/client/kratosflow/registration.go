package kratosflow

import (
	"context"
	"fmt"
	"net/http"

	ory "github.com/ory/kratos-client-go"
)

// Registered is what a completed registration gives back; on a refused
// submit, Response still holds Kratos' answer.
type Registered struct {
	Result   *ory.SuccessfulNativeRegistration
	Response *http.Response
}

// InitRegistration starts a registration flow as the agent's kind of client
// does: the browser flow (which sets the CSRF cookie) or the API flow. Both
// take ReturnTo.
func (a *Agent) InitRegistration(ctx context.Context, opts ...FlowOption) (Flow[ory.RegistrationFlow], error) {
	o, err := flowOpts("a registration flow", opts, takesReturnTo)
	if err != nil {
		return Flow[ory.RegistrationFlow]{}, err
	}
	if !a.Browser() {
		req := a.API.FrontendAPI.CreateNativeRegistrationFlow(ctx)
		if o.returnTo != "" {
			req = req.ReturnTo(o.returnTo)
		}
		f, resp, err := req.Execute()
		return shown(false, f, resp, err, "init API registration")
	}
	req := a.API.FrontendAPI.CreateBrowserRegistrationFlow(ctx)
	if o.returnTo != "" {
		req = req.ReturnTo(o.returnTo)
	}
	f, resp, err := req.Execute()
	return shown(true, f, resp, err, "init browser registration")
}

// GetRegistrationFlow reads a registration flow by id, e.g. the replacement of an expired one.
func (a *Agent) GetRegistrationFlow(ctx context.Context, id string) (Flow[ory.RegistrationFlow], error) {
	f, resp, err := a.API.FrontendAPI.GetRegistrationFlow(ctx).Id(id).Execute()
	return shown(a.Browser(), f, resp, err, "get registration flow "+id)
}

// Register walks the registration flow with the password method as the
// agent's kind of client does: a browser inits the browser flow (which sets
// the CSRF cookie) and sends csrf_token; an app inits the API flow. Kratos
// accepts this one submit whether it renders the one-step form or the
// two-step one (traits first), so it works on either.
func (a *Agent) Register(ctx context.Context, traits map[string]any, password string) (Registered, error) {
	f, err := a.InitRegistration(ctx)
	if err != nil {
		return Registered{}, err
	}
	if !a.Browser() {
		return a.SubmitRegistration(ctx, f.Flow.Id, traits, password, nil)
	}
	csrf, err := CSRFToken(f.Flow.Ui)
	if err != nil {
		return Registered{}, err
	}
	return a.SubmitRegistration(ctx, f.Flow.Id, traits, password, &csrf)
}

// RegistrationBody is the password method's submit; csrf is nil on API flows.
func RegistrationBody(traits map[string]any, password string, csrf *string) ory.UpdateRegistrationFlowBody {
	return ory.UpdateRegistrationFlowWithPasswordMethodAsUpdateRegistrationFlowBody(&ory.UpdateRegistrationFlowWithPasswordMethod{
		Method: "password", Password: password, Traits: traits, CsrfToken: csrf,
	})
}

// SubmitRegistration submits the password method on a registration flow;
// csrf is nil on API flows.
func (a *Agent) SubmitRegistration(ctx context.Context, flowID string, traits map[string]any, password string, csrf *string) (Registered, error) {
	res, resp, err := a.API.FrontendAPI.UpdateRegistrationFlow(ctx).Flow(flowID).UpdateRegistrationFlowBody(RegistrationBody(traits, password, csrf)).Execute()
	if err != nil {
		return Registered{Response: resp}, fmt.Errorf("submit registration: %w (%s)", err, ErrorBody(err))
	}
	return Registered{Result: res, Response: resp}, nil
}
