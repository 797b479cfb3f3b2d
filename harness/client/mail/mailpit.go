package mail

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/axllent/mailpit/server/apiv1"
)

// Mailpit reads the mail one Mailpit received over SMTP.
type Mailpit struct {
	base *url.URL
	http *http.Client
}

// NewMailpit returns a client for the Mailpit API at base.
func NewMailpit(base *url.URL, timeout time.Duration) *Mailpit {
	return &Mailpit{base: base, http: &http.Client{Timeout: timeout}}
}

// To lists the messages addressed to addr, newest first.
func (c *Mailpit) To(ctx context.Context, addr string) ([]apiv1.MessageSummary, error) {
	u := c.base.JoinPath("api", "v1", "search")
	u.RawQuery = url.Values{"query": {fmt.Sprintf("to:%q", addr)}}.Encode()
	var res apiv1.MessagesSummary
	if err := c.get(ctx, u.String(), &res); err != nil {
		return nil, err
	}
	return res.Messages, nil
}

// Message returns one message with its text and HTML bodies.
func (c *Mailpit) Message(ctx context.Context, id string) (apiv1.Message, error) {
	var m apiv1.Message
	err := c.get(ctx, c.base.JoinPath("api", "v1", "message", id).String(), &m)
	return m, err
}

func (c *Mailpit) get(ctx context.Context, u string, into any) error {
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

// Received lists the mails to addr Mailpit holds, oldest first, with their
// plaintext bodies (Mailpit's text part, or the HTML's text when there is none).
func (c *Mailpit) Received(ctx context.Context, addr string) ([]Mail, error) {
	summaries, err := c.To(ctx, addr)
	if err != nil {
		return nil, err
	}
	var out []Mail
	for i := len(summaries) - 1; i >= 0; i-- {
		m, err := c.Message(ctx, summaries[i].ID)
		if err != nil {
			return nil, err
		}
		text := m.Text
		if strings.TrimSpace(text) == "" {
			text = htmlText(m.HTML)
		}
		out = append(out, Mail{ID: m.ID, Recipient: addr, Subject: m.Subject, Text: text, Status: StatusSent, At: m.Date, ReceivedAt: summaries[i].Created})
	}
	return out, nil
}

var tags = regexp.MustCompile(`<[^>]*>`)

// htmlText is an HTML body's text, good enough to find a code in it.
func htmlText(html string) string { return tags.ReplaceAllString(html, " ") }

// Name says where Received reads.
func (c *Mailpit) Name() string { return "Mailpit at " + c.base.String() }
