// Package mailpit reads the courier's mail from Mailpit's REST API.
package mailpit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/axllent/mailpit/server/apiv1"

	"kratos-conformance/harness"
)

// Client reads one Mailpit.
type Client struct {
	base *url.URL
	http *http.Client
}

// New returns a client for the Mailpit API at base.
func New(base *url.URL, timeout time.Duration) *Client {
	return &Client{base: base, http: &http.Client{Timeout: timeout}}
}

// To lists the messages addressed to addr, newest first.
func (c *Client) To(ctx context.Context, addr string) ([]apiv1.MessageSummary, error) {
	u := c.base.JoinPath("api", "v1", "search")
	u.RawQuery = url.Values{"query": {fmt.Sprintf("to:%q", addr)}}.Encode()
	var res apiv1.MessagesSummary
	if err := c.get(ctx, u.String(), &res); err != nil {
		return nil, err
	}
	return res.Messages, nil
}

// Message returns one message with its text and HTML bodies.
func (c *Client) Message(ctx context.Context, id string) (apiv1.Message, error) {
	var m apiv1.Message
	err := c.get(ctx, c.base.JoinPath("api", "v1", "message", id).String(), &m)
	return m, err
}

// WaitInput names the mail to wait for and how long.
type WaitInput struct {
	To       string
	Timeout  time.Duration // Intervals.MailArrival
	Interval time.Duration // Intervals.Poll
}

// WaitForMail waits until at least one message to in.To has arrived and returns them all.
func (c *Client) WaitForMail(ctx context.Context, in WaitInput) ([]apiv1.MessageSummary, error) {
	var got []apiv1.MessageSummary
	err := harness.WaitFor(ctx, harness.WaitInput{
		Name: "mail to " + in.To + " in Mailpit", Timeout: in.Timeout, Interval: in.Interval,
		Check: func(ctx context.Context) error {
			msgs, err := c.To(ctx, in.To)
			if err != nil {
				return err
			}
			if len(msgs) == 0 {
				return fmt.Errorf("no message to %s yet", in.To)
			}
			got = msgs
			return nil
		},
	})
	return got, err
}

func (c *Client) get(ctx context.Context, u string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s answered %d: %s", u, resp.StatusCode, body)
	}
	return json.Unmarshal(body, into)
}

var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)

// Code extracts the 6-digit one-time code Kratos mails for verification and recovery.
func Code(text string) (string, error) {
	m := sixDigits.FindStringSubmatch(text)
	if m == nil {
		return "", fmt.Errorf("no 6-digit code in the mail text: %q", text)
	}
	return m[1], nil
}
