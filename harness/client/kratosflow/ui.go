package kratosflow

import (
	"encoding/json"
	"errors"
	"fmt"

	ory "github.com/ory/kratos-client-go"
)

// InputValue returns the value of the input node called name, e.g. csrf_token.
func InputValue(ui ory.UiContainer, name string) (string, error) {
	for _, n := range ui.Nodes {
		if in := n.Attributes.UiNodeInputAttributes; in != nil && in.Name == name {
			if s, ok := in.Value.(string); ok {
				return s, nil
			}
			return "", fmt.Errorf("input %q has a non-string value %v", name, in.Value)
		}
	}
	return "", fmt.Errorf("the flow's UI has no input %q", name)
}

// TextValue returns the text of the text node with id, e.g. totp_secret_key,
// the secret Kratos shows beside the QR code when enrolling TOTP.
func TextValue(ui ory.UiContainer, id string) (string, error) {
	for _, n := range ui.Nodes {
		if t := n.Attributes.UiNodeTextAttributes; t != nil && t.Id == id {
			return t.Text.Text, nil
		}
	}
	return "", fmt.Errorf("the flow's UI has no text node %q", id)
}

// CSRFToken is the csrf_token a browser flow expects back in the body.
func CSRFToken(ui ory.UiContainer) (string, error) { return InputValue(ui, "csrf_token") }

// InputNames lists the flow's input names in order, e.g. csrf_token, traits.email, password, method.
func InputNames(ui ory.UiContainer) []string {
	var names []string
	for _, n := range ui.Nodes {
		if in := n.Attributes.UiNodeInputAttributes; in != nil {
			names = append(names, in.Name)
		}
	}
	return names
}

// MessageIDs lists the ids of the flow-level messages and of every node's messages.
func MessageIDs(ui ory.UiContainer) []MessageID {
	var ids []MessageID
	for _, m := range ui.Messages {
		ids = append(ids, MessageID(m.Id))
	}
	for _, n := range ui.Nodes {
		for _, m := range n.Messages {
			ids = append(ids, MessageID(m.Id))
		}
	}
	return ids
}

// VerificationFlowID finds the show_verification_ui item by its action; its
// position in continue_with differs between Kratos versions.
func VerificationFlowID(items []ory.ContinueWith) (string, bool) {
	for _, c := range items {
		if v := c.ContinueWithVerificationUi; v != nil && v.Action == "show_verification_ui" {
			return v.Flow.Id, true
		}
	}
	return "", false
}

// ContinueWithActions lists the action of every continue_with item, in order.
func ContinueWithActions(items []ory.ContinueWith) []string {
	var actions []string
	for _, c := range items {
		switch {
		case c.ContinueWithVerificationUi != nil:
			actions = append(actions, c.ContinueWithVerificationUi.Action)
		case c.ContinueWithRedirectBrowserTo != nil:
			actions = append(actions, c.ContinueWithRedirectBrowserTo.Action)
		case c.ContinueWithSetOrySessionToken != nil:
			actions = append(actions, c.ContinueWithSetOrySessionToken.Action)
		case c.ContinueWithSettingsUi != nil:
			actions = append(actions, c.ContinueWithSettingsUi.Action)
		case c.ContinueWithRecoveryUi != nil:
			actions = append(actions, c.ContinueWithRecoveryUi.Action)
		}
	}
	return actions
}

// ErrorBody is the response body kratos-client-go kept for a non-2xx answer.
func ErrorBody(err error) []byte {
	var apiErr *ory.GenericOpenAPIError
	if errors.As(err, &apiErr) {
		return apiErr.Body()
	}
	return nil
}

// ErrorID returns error.id of a Kratos error answer (e.g. session_inactive), or "".
func ErrorID(err error) string { return ErrorIDOf(ErrorBody(err)) }

// ErrorIDOf returns error.id of a Kratos error body, or "".
func ErrorIDOf(body []byte) string {
	var e struct {
		Error struct {
			ID string `json:"id"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Error.ID
}

// UseFlowID is the replacement flow Kratos names in a 410
// self_service_flow_expired answer, with the "flow expired" message on it.
func UseFlowID(err error) string {
	var body struct {
		UseFlowID string `json:"use_flow_id"`
	}
	if json.Unmarshal(ErrorBody(err), &body) != nil {
		return ""
	}
	return body.UseFlowID
}
