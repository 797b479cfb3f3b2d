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

// SettingsPasswordBody is the settings flow's password method submit; csrf is nil on API flows.
func SettingsPasswordBody(password string, csrf *string) ory.UpdateSettingsFlowBody {
	return ory.UpdateSettingsFlowWithPasswordMethodAsUpdateSettingsFlowBody(&ory.UpdateSettingsFlowWithPasswordMethod{
		Method: "password", Password: password, CsrfToken: csrf,
	})
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
