package kratosflow

import (
	"context"
	"fmt"
	"net/http"

	ory "github.com/ory/kratos-client-go"
)

// InitVerification starts a verification flow as the agent's kind of
// client does: the browser flow (which sets the CSRF cookie) or the API
// flow. Both take ReturnTo.
func (a *Agent) InitVerification(ctx context.Context, opts ...FlowOption) (Flow[ory.VerificationFlow], error) {
	o, err := flowOpts("a verification flow", opts, takesReturnTo)
	if err != nil {
		return Flow[ory.VerificationFlow]{}, err
	}
	if !a.Browser() {
		req := a.API.FrontendAPI.CreateNativeVerificationFlow(ctx)
		if o.returnTo != "" {
			req = req.ReturnTo(o.returnTo)
		}
		f, resp, err := req.Execute()
		return shown(false, f, resp, err, "init API verification")
	}
	req := a.API.FrontendAPI.CreateBrowserVerificationFlow(ctx)
	if o.returnTo != "" {
		req = req.ReturnTo(o.returnTo)
	}
	f, resp, err := req.Execute()
	return shown(true, f, resp, err, "init browser verification")
}

// GetVerificationFlow reads a verification flow by id, e.g. the one a
// registration's continue_with names.
func (a *Agent) GetVerificationFlow(ctx context.Context, id string) (Flow[ory.VerificationFlow], error) {
	f, resp, err := a.API.FrontendAPI.GetVerificationFlow(ctx).Id(id).Execute()
	return shown(a.Browser(), f, resp, err, "get verification flow "+id)
}

// SubmitVerification submits body (VerificationEmailBody, VerificationCodeBody)
// on a verification flow.
func (a *Agent) SubmitVerification(ctx context.Context, flowID string, body ory.UpdateVerificationFlowBody) (*ory.VerificationFlow, *http.Response, error) {
	res, resp, err := a.API.FrontendAPI.UpdateVerificationFlow(ctx).Flow(flowID).UpdateVerificationFlowBody(body).Execute()
	if err != nil {
		return res, resp, fmt.Errorf("submit verification: %w (%s)", err, ErrorBody(err))
	}
	return res, resp, nil
}

// StartVerification asks a new verification flow to mail a code to email,
// as a user who lost the first mail does; it returns the flow in sent_email.
func (a *Agent) StartVerification(ctx context.Context, email string) (*ory.VerificationFlow, *http.Response, error) {
	f, err := a.InitVerification(ctx)
	if err != nil {
		return nil, f.Response, err
	}
	return a.SubmitVerification(ctx, f.Flow.Id, VerificationEmailBody(email, f.CSRF))
}

// VerificationEmailBody asks the code method to mail a code to email; csrf is nil on API flows.
func VerificationEmailBody(email string, csrf *string) ory.UpdateVerificationFlowBody {
	return ory.UpdateVerificationFlowWithCodeMethodAsUpdateVerificationFlowBody(&ory.UpdateVerificationFlowWithCodeMethod{
		Method: "code", Email: &email, CsrfToken: csrf,
	})
}

// VerificationCodeBody submits a mailed code; csrf is nil on API flows.
func VerificationCodeBody(code string, csrf *string) ory.UpdateVerificationFlowBody {
	return ory.UpdateVerificationFlowWithCodeMethodAsUpdateVerificationFlowBody(&ory.UpdateVerificationFlowWithCodeMethod{
		Method: "code", Code: &code, CsrfToken: csrf,
	})
}
