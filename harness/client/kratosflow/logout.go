package kratosflow

import (
	"context"
	"fmt"
	"net/http"

	ory "github.com/ory/kratos-client-go"
)

// InitLogout asks for the browser session's logout URL and token (logout
// flows are a browser's; an app logs out with its token). It takes ReturnTo.
func (a *Agent) InitLogout(ctx context.Context, opts ...FlowOption) (*ory.LogoutFlow, *http.Response, error) {
	o, err := flowOpts("a logout flow", opts, takesReturnTo)
	if err != nil {
		return nil, nil, err
	}
	req := a.API.FrontendAPI.CreateBrowserLogoutFlow(ctx)
	if o.returnTo != "" {
		req = req.ReturnTo(o.returnTo)
	}
	f, resp, err := req.Execute()
	if err != nil {
		return f, resp, fmt.Errorf("init logout: %w (%s)", err, ErrorBody(err))
	}
	return f, resp, nil
}

// FollowLogout opens a logout URL as a browser does (a GET with its
// cookies, redirects not followed) and returns Kratos' redirect.
func (a *Agent) FollowLogout(ctx context.Context, logoutURL string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, logoutURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return resp, nil
}

// Logout ends the agent's session as its kind of client does: a browser
// asks for the logout URL and follows it (token unused); an app revokes
// token (204).
func (a *Agent) Logout(ctx context.Context, token string) (*http.Response, error) {
	if !a.Browser() {
		resp, err := a.API.FrontendAPI.PerformNativeLogout(ctx).PerformNativeLogoutBody(ory.PerformNativeLogoutBody{SessionToken: token}).Execute()
		if err != nil {
			return resp, fmt.Errorf("logout: %w (%s)", err, ErrorBody(err))
		}
		return resp, nil
	}
	f, resp, err := a.InitLogout(ctx)
	if err != nil {
		return resp, err
	}
	return a.FollowLogout(ctx, f.LogoutUrl)
}
