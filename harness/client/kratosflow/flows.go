package kratosflow

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	ory "github.com/ory/kratos-client-go"
)

// Registered is what a completed registration gives back; on a refused
// submit, Response still holds Kratos' answer.
type Registered struct {
	Result   *ory.SuccessfulNativeRegistration
	Response *http.Response
}

// RegisterBrowser walks the browser registration flow with the password
// method: init (sets the CSRF cookie), then submit traits, password and
// csrf_token. Kratos accepts this one submit whether it renders the one-step
// form or the two-step one (traits first), so it works on either.
func (a *Agent) RegisterBrowser(ctx context.Context, traits map[string]any, password string) (Registered, error) {
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

// RegisterNative walks the API registration flow, as a mobile app does.
func (a *Agent) RegisterNative(ctx context.Context, traits map[string]any, password string) (Registered, error) {
	flow, _, err := a.API.FrontendAPI.CreateNativeRegistrationFlow(ctx).Execute()
	if err != nil {
		return Registered{}, fmt.Errorf("init API registration: %w (%s)", err, ErrorBody(err))
	}
	return a.SubmitRegistration(ctx, flow.Id, traits, password, nil)
}

// SubmitRegistration submits the password method on a registration flow;
// csrf is nil on API flows.
func (a *Agent) SubmitRegistration(ctx context.Context, flowID string, traits map[string]any, password string, csrf *string) (Registered, error) {
	body := ory.UpdateRegistrationFlowWithPasswordMethodAsUpdateRegistrationFlowBody(&ory.UpdateRegistrationFlowWithPasswordMethod{
		Method: "password", Password: password, Traits: traits, CsrfToken: csrf,
	})
	res, resp, err := a.API.FrontendAPI.UpdateRegistrationFlow(ctx).Flow(flowID).UpdateRegistrationFlowBody(body).Execute()
	if err != nil {
		return Registered{Response: resp}, fmt.Errorf("submit registration: %w (%s)", err, ErrorBody(err))
	}
	return Registered{Result: res, Response: resp}, nil
}

// LoggedIn is what a completed login gives back; on a refused submit,
// Response still holds Kratos' answer.
type LoggedIn struct {
	Result   *ory.SuccessfulNativeLogin
	Response *http.Response
}

// LoginBrowser walks the browser login flow with identifier and password;
// refresh asks for re-authentication as the guide's ?refresh=true does.
func (a *Agent) LoginBrowser(ctx context.Context, identifier, password string, refresh bool) (LoggedIn, error) {
	flow, _, err := a.API.FrontendAPI.CreateBrowserLoginFlow(ctx).Refresh(refresh).Execute()
	if err != nil {
		return LoggedIn{}, fmt.Errorf("init browser login: %w (%s)", err, ErrorBody(err))
	}
	csrf, err := CSRFToken(flow.Ui)
	if err != nil {
		return LoggedIn{}, err
	}
	return a.submitLogin(ctx, flow.Id, identifier, password, &csrf)
}

// LoginNative walks the API login flow and returns the session token in Result.
func (a *Agent) LoginNative(ctx context.Context, identifier, password string) (LoggedIn, error) {
	flow, _, err := a.API.FrontendAPI.CreateNativeLoginFlow(ctx).Execute()
	if err != nil {
		return LoggedIn{}, fmt.Errorf("init API login: %w (%s)", err, ErrorBody(err))
	}
	return a.submitLogin(ctx, flow.Id, identifier, password, nil)
}

func (a *Agent) submitLogin(ctx context.Context, flowID, identifier, password string, csrf *string) (LoggedIn, error) {
	body := ory.UpdateLoginFlowWithPasswordMethodAsUpdateLoginFlowBody(&ory.UpdateLoginFlowWithPasswordMethod{
		Method: "password", Identifier: identifier, Password: password, CsrfToken: csrf,
	})
	res, resp, err := a.API.FrontendAPI.UpdateLoginFlow(ctx).Flow(flowID).UpdateLoginFlowBody(body).Execute()
	if err != nil {
		return LoggedIn{Response: resp}, fmt.Errorf("submit login: %w (%s)", err, ErrorBody(err))
	}
	return LoggedIn{Result: res, Response: resp}, nil
}

// Whoami asks for the current session: with the agent's cookies, or with
// token when it is not empty.
func (a *Agent) Whoami(ctx context.Context, token string) (*ory.Session, *http.Response, error) {
	req := a.API.FrontendAPI.ToSession(ctx)
	if token != "" {
		req = req.XSessionToken(token)
	}
	return req.Execute()
}

// ProbeHash creates a throwaway identity with a password through the admin
// API, reads the hash Kratos stored, and deletes the identity. It tells what
// a deployment really hashes with, and with which parameters.
func ProbeHash(ctx context.Context, admin *ory.APIClient, schemaID string, traits map[string]any, password string) (string, error) {
	body := ory.CreateIdentityBody{SchemaId: schemaID, Traits: traits,
		Credentials: &ory.IdentityWithCredentials{Password: &ory.IdentityWithCredentialsPassword{
			Config: &ory.IdentityWithCredentialsPasswordConfig{Password: &password}}}}
	id, _, err := admin.IdentityAPI.CreateIdentity(ctx).CreateIdentityBody(body).Execute()
	if err != nil {
		return "", fmt.Errorf("create probe identity: %w (%s)", err, ErrorBody(err))
	}
	defer admin.IdentityAPI.DeleteIdentity(context.WithoutCancel(ctx), id.Id).Execute()
	got, _, err := admin.IdentityAPI.GetIdentity(ctx, id.Id).IncludeCredential([]string{"password"}).Execute()
	if err != nil {
		return "", fmt.Errorf("read probe identity: %w", err)
	}
	hash, _ := got.GetCredentials()["password"].Config["hashed_password"].(string)
	if hash == "" {
		return "", fmt.Errorf("the probe identity's password credential shows no hashed_password (include_credential=password)")
	}
	return hash, nil
}

// ParseHash names the algorithm of a stored password hash and its cost
// (bcrypt's log2 rounds, argon2's memory in KiB); unknown gives "unknown", 0.
func ParseHash(hash string) (string, int) {
	switch {
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		cost, _ := strconv.Atoi(strings.SplitN(hash[4:], "$", 2)[0])
		return "bcrypt", cost
	case strings.HasPrefix(hash, "$argon2id$"):
		var mem int
		if i := strings.Index(hash, "m="); i >= 0 {
			fmt.Sscanf(hash[i:], "m=%d", &mem)
		}
		return "argon2id", mem
	}
	return "unknown", 0
}

// SubmitHTMLForm posts form to action as a browser's HTML form does
// (form-encoded, Accept: text/html), so Kratos answers with redirects, not JSON.
func (a *Agent) SubmitHTMLForm(ctx context.Context, action string, form url.Values) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, action, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	resp, err := a.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return resp, nil
}
