package kratosflow

import (
	"testing"

	ory "github.com/ory/kratos-client-go"
)

func TestFlowOptsRefusesWhatTheRequestLacks(t *testing.T) {
	o, err := flowOpts("a browser login flow", []FlowOption{Refresh(), AAL2(), ReturnTo("https://x.example/")}, takesRefresh|takesAAL|takesReturnTo)
	if err != nil || !o.refresh || !o.aal2 || o.returnTo != "https://x.example/" {
		t.Fatalf("allowed options: got %+v, %v", o, err)
	}
	_, err = flowOpts("a browser settings flow", []FlowOption{ReturnTo("/r"), SessionToken("t"), Refresh()}, takesReturnTo)
	if err == nil || err.Error() != "a browser settings flow takes no Refresh or SessionToken option" {
		t.Fatalf("an option the request lacks: got %v", err)
	}
	if _, err := flowOpts("a recovery flow", nil, 0); err != nil {
		t.Fatalf("no options: %v", err)
	}
}

func TestShownReadsTheCSRFTokenOfBrowserFlowsOnly(t *testing.T) {
	csrf := ory.UiNode{Attributes: ory.UiNodeAttributes{UiNodeInputAttributes: &ory.UiNodeInputAttributes{Name: "csrf_token", Value: "tok"}}}
	flow := &ory.LoginFlow{Ui: ory.UiContainer{Nodes: []ory.UiNode{csrf}}}
	got, err := shown(true, flow, nil, nil, "init")
	if err != nil || got.CSRF == nil || *got.CSRF != "tok" {
		t.Fatalf("browser flow: got %v, %v", got.CSRF, err)
	}
	if got, _ := shown(false, flow, nil, nil, "init"); got.CSRF != nil {
		t.Fatalf("API flow: got csrf %q, want none", *got.CSRF)
	}
	if got, _ := shown(true, &ory.LoginFlow{}, nil, nil, "init"); got.CSRF != nil {
		t.Fatalf("browser flow without csrf_token: got %q, want nil", *got.CSRF)
	}
}
