package kratosflow

import (
	"context"
	"fmt"
	"net/http"

	ory "github.com/ory/kratos-client-go"
)

// InitRecovery starts a recovery flow as the agent's kind of client does:
// the browser flow (which sets the CSRF cookie, takes ReturnTo) or the API flow.
func (a *Agent) InitRecovery(ctx context.Context, opts ...FlowOption) (Flow[ory.RecoveryFlow], error) {
	if !a.Browser() {
		if _, err := flowOpts("an API recovery flow", opts, 0); err != nil {
			return Flow[ory.RecoveryFlow]{}, err
		}
		f, resp, err := a.API.FrontendAPI.CreateNativeRecoveryFlow(ctx).Execute()
		return shown(false, f, resp, err, "init API recovery")
	}
	o, err := flowOpts("a browser recovery flow", opts, takesReturnTo)
	if err != nil {
		return Flow[ory.RecoveryFlow]{}, err
	}
	req := a.API.FrontendAPI.CreateBrowserRecoveryFlow(ctx)
	if o.returnTo != "" {
		req = req.ReturnTo(o.returnTo)
	}
	f, resp, err := req.Execute()
	return shown(true, f, resp, err, "init browser recovery")
}

// GetRecoveryFlow reads a recovery flow by id, with its current csrf_token
// (Kratos renews it when a code succeeds).
func (a *Agent) GetRecoveryFlow(ctx context.Context, id string) (Flow[ory.RecoveryFlow], error) {
	f, resp, err := a.API.FrontendAPI.GetRecoveryFlow(ctx).Id(id).Execute()
	return shown(a.Browser(), f, resp, err, "get recovery flow "+id)
}

// SubmitRecovery submits body (RecoveryEmailBody, RecoveryCodeBody) on a recovery flow.
func (a *Agent) SubmitRecovery(ctx context.Context, flowID string, body ory.UpdateRecoveryFlowBody) (*ory.RecoveryFlow, *http.Response, error) {
	res, resp, err := a.API.FrontendAPI.UpdateRecoveryFlow(ctx).Flow(flowID).UpdateRecoveryFlowBody(body).Execute()
	if err != nil {
		return res, resp, fmt.Errorf("submit recovery: %w (%s)", err, ErrorBody(err))
	}
	return res, resp, nil
}

// StartRecovery asks a new recovery flow to mail a code to email, as the
// guide's "forgot password" does; it returns the flow in sent_email.
func (a *Agent) StartRecovery(ctx context.Context, email string) (*ory.RecoveryFlow, *http.Response, error) {
	f, err := a.InitRecovery(ctx)
	if err != nil {
		return nil, f.Response, err
	}
	return a.SubmitRecovery(ctx, f.Flow.Id, RecoveryEmailBody(email, f.CSRF))
}

// RecoveryEmailBody asks the code method to mail a recovery code to email; csrf is nil on API flows.
func RecoveryEmailBody(email string, csrf *string) ory.UpdateRecoveryFlowBody {
	return ory.UpdateRecoveryFlowWithCodeMethodAsUpdateRecoveryFlowBody(&ory.UpdateRecoveryFlowWithCodeMethod{
		Method: "code", Email: &email, CsrfToken: csrf,
	})
}

// RecoveryCodeBody submits a mailed recovery code; csrf is nil on API flows.
func RecoveryCodeBody(code string, csrf *string) ory.UpdateRecoveryFlowBody {
	return ory.UpdateRecoveryFlowWithCodeMethodAsUpdateRecoveryFlowBody(&ory.UpdateRecoveryFlowWithCodeMethod{
		Method: "code", Code: &code, CsrfToken: csrf,
	})
}
