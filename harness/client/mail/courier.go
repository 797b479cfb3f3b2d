package mail

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	ory "github.com/ory/kratos-client-go"
)

// Courier reads Kratos' record of every message it queued, through the admin
// API (GET /admin/courier/messages). It shows the messages of serve's network
// only: a courier polling another network never sees them.
type Courier struct{ admin *ory.APIClient }

// NewCourier reads the courier's record through an admin API client.
func NewCourier(admin *ory.APIClient) *Courier { return &Courier{admin: admin} }

// Name says where Received reads.
func (c *Courier) Name() string { return "Kratos' courier API (status sent)" }

// Messages lists every message to addr, oldest first, whatever its status.
func (c *Courier) Messages(ctx context.Context, addr string) ([]Mail, error) {
	msgs, _, err := c.admin.CourierAPI.ListCourierMessages(ctx).Recipient(addr).Execute()
	if err != nil {
		return nil, fmt.Errorf("GET /admin/courier/messages?recipient=%s: %w", addr, err)
	}
	out := make([]Mail, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, Mail{ID: m.Id, Recipient: m.Recipient, Subject: m.Subject, Text: m.Body, TemplateType: m.TemplateType,
			Status: string(m.Status), SendCount: m.SendCount, At: m.CreatedAt})
	}
	slices.SortStableFunc(out, func(a, b Mail) int { return a.At.Compare(b.At) })
	return out, nil
}

// Received lists the messages to addr the courier handed to its SMTP server.
func (c *Courier) Received(ctx context.Context, addr string) ([]Mail, error) {
	all, err := c.Messages(ctx, addr)
	return slices.DeleteFunc(all, func(m Mail) bool { return m.Status != StatusSent }), err
}

// Diagnose says why mail to addr has not arrived in inbox, from the courier's
// record: never created, queued and never picked up, retried, abandoned, or
// sent somewhere else than inbox.
func (c *Courier) Diagnose(ctx context.Context, addr string, inbox Inbox) string {
	all, err := c.Messages(ctx, addr)
	if err != nil {
		return "courier diagnosis: cannot read the courier API: " + err.Error()
	}
	if len(all) == 0 {
		return "courier diagnosis: Kratos never created a message to " + addr + "; check the flow's config " +
			"(verification or recovery enabled with use: code, the identity schema's ory.sh/kratos verification/recovery via email)"
	}
	var lines []string
	for _, m := range all {
		line := fmt.Sprintf("message %s (%s) is %s after %d send attempt(s)", m.ID, m.TemplateType, m.Status, m.SendCount)
		switch {
		case m.Status == StatusQueued && m.SendCount == 0:
			line += ": no courier ever picked it up. Is `kratos courier watch` running against this database, " +
				"and on serve's network? (serve and a courier started at the same instant on a fresh database can each create " +
				"their own network; with a Postgres DSN, CL-COURIER-002 counts them)"
		case m.Status == StatusAbandoned:
			line += ": the courier gave up (courier.message_retries); " + c.lastError(ctx, m.ID)
		case m.Status == StatusQueued || m.Status == StatusProcessing:
			line += ": the courier is retrying; " + c.lastError(ctx, m.ID)
		case m.Status == StatusSent:
			line += fmt.Sprintf(": the courier delivered it to its SMTP server, which is not %s (check courier.smtp.connection_uri)", inbox.Name())
		}
		lines = append(lines, line)
	}
	return "courier diagnosis: " + strings.Join(lines, "; ")
}

// lastError is the newest failed dispatch's error, as SMTP reported it.
func (c *Courier) lastError(ctx context.Context, id string) string {
	m, _, err := c.admin.CourierAPI.GetCourierMessage(ctx, id).Execute()
	if err != nil {
		return "its dispatches are unreadable: " + err.Error()
	}
	for _, d := range m.Dispatches {
		if len(d.Error) > 0 {
			b, _ := json.Marshal(d.Error)
			return "the SMTP server refused it: " + string(b)
		}
	}
	return "no dispatch recorded an error"
}
