package kratosflow

import (
	"fmt"
	"net/http"
	"strings"

	ory "github.com/ory/kratos-client-go"
)

// Flow is a self-service flow as Kratos made or showed it, with what its
// submits need: the csrf_token a browser sends back, and Kratos' answer
// (kept on a refusal too, for its status and cookies).
type Flow[F any] struct {
	Flow *F
	// CSRF is the flow's csrf_token on browser flows; nil on API flows, and
	// on a browser flow whose UI shows none (Kratos then refuses its submits).
	CSRF     *string
	Response *http.Response
}

// shown wraps an init's or a GET's answer into a Flow, reading the
// csrf_token when the agent is a browser; what names the call in the error.
func shown[F any, P interface {
	*F
	GetUi() ory.UiContainer
}](browser bool, f P, resp *http.Response, err error, what string) (Flow[F], error) {
	out := Flow[F]{Flow: f, Response: resp}
	if err != nil {
		return out, fmt.Errorf("%s: %w (%s)", what, err, ErrorBody(err))
	}
	if browser {
		if csrf, err := CSRFToken(f.GetUi()); err == nil {
			out.CSRF = &csrf
		}
	}
	return out, nil
}

// FlowOption varies how a flow is started, read or submitted: the query
// parameters and headers kratos-client-go offers for it.
type FlowOption func(*flowOptions)

type flowOptions struct {
	refresh  bool
	aal2     bool
	returnTo string
	token    string
}

// Refresh asks for re-authentication of the current session, as the
// guide's ?refresh=true does (login flows).
func Refresh() FlowOption { return func(o *flowOptions) { o.refresh = true } }

// AAL2 asks a login flow for the current session's second factor (aal=aal2).
func AAL2() FlowOption { return func(o *flowOptions) { o.aal2 = true } }

// ReturnTo asks Kratos to send the browser to target once the flow is done
// (return_to), which it must refuse off the allowed return URLs.
func ReturnTo(target string) FlowOption { return func(o *flowOptions) { o.returnTo = target } }

// SessionToken sends an app's session as X-Session-Token, where a browser
// sends its cookie (API flows).
func SessionToken(token string) FlowOption { return func(o *flowOptions) { o.token = token } }

// takes is the set of options a request has a parameter for.
type takes uint8

const (
	takesRefresh takes = 1 << iota
	takesAAL
	takesReturnTo
	takesToken
)

// flowOpts applies opts and refuses any the request has no parameter for,
// so an option is never silently left off the wire; what names the request.
func flowOpts(what string, opts []FlowOption, allowed takes) (flowOptions, error) {
	var o flowOptions
	for _, opt := range opts {
		opt(&o)
	}
	var extra []string
	for _, c := range []struct {
		set  bool
		bit  takes
		name string
	}{
		{o.refresh, takesRefresh, "Refresh"}, {o.aal2, takesAAL, "AAL2"},
		{o.returnTo != "", takesReturnTo, "ReturnTo"}, {o.token != "", takesToken, "SessionToken"},
	} {
		if c.set && allowed&c.bit == 0 {
			extra = append(extra, c.name)
		}
	}
	if len(extra) > 0 {
		return o, fmt.Errorf("%s takes no %s option", what, strings.Join(extra, " or "))
	}
	return o, nil
}
