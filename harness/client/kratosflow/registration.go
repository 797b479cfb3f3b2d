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

// Register walks the registration flow with the password method as the
// agent's kind of client does: a browser inits the browser flow (which sets
// the CSRF cookie) and sends csrf_token; an app inits the API flow. Kratos
// accepts this one submit whether it renders the one-step form or the
// two-step one (traits first), so it works on either.
func (a *Agent) Register(ctx context.Context, traits map[string]any, password string) (Registered, error) {
	if !a.Browser() {
		flow, _, err := a.API.FrontendAPI.CreateNativeRegistrationFlow(ctx).Execute()
		if err != nil {
			return Registered{}, fmt.Errorf("init API registration: %w (%s)", err, ErrorBody(err))
		}
		return a.SubmitRegistration(ctx, flow.Id, traits, password, nil)
	}
	flow, _, err := a.API.FrontendAPI.CreateBrowserRegistrationFlow(ctx).Execute()
	if err != nil {
		return Registered{}, fmt.Errorf("init browser registration: %w (%s)", err, ErrorBody(err))
	}
	csrf, err := CSRFToken(flow.Ui)
	if err != nil {
		return Registered{}, err
	}
	return a.SubmitRegistration(ctx, flow.Id, traits, password, &csrf)
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
