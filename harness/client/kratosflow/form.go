package kratosflow

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

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
