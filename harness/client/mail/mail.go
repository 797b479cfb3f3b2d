// Package mail reads the mail a Kratos deployment sends: from the Mailpit its
// courier delivers to, or, when there is none (a real SMTP provider), from
// Kratos' courier_messages table (the courier API redacts bodies unless Kratos
// runs --dev). It finds a mail by recipient and Kratos' template type, never
// by text an operator can change, and when a mail does not come it says why,
// from the courier's record of the message (GET /admin/courier/messages).
package mail

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"kratos-conformance/internal/wait"
)

// Mail is one message to one recipient.
type Mail struct {
	ID        string
	Recipient string
	Subject   string // for reports only; templates are the operator's, never asserted
	Text      string // plaintext body
	// TemplateType is Kratos' name for what the mail is (verification_code_valid,
	// recovery_code_valid, ...); empty when the source cannot tell.
	TemplateType string
	Status       string // courier status: queued, processing, sent, abandoned
	SendCount    int64
	At           time.Time
	// ReceivedAt is when the receiving side took it, to the millisecond
	// (Mailpit); zero where the source cannot tell (then At, the Date header).
	ReceivedAt time.Time
}

// Courier statuses (Kratos' courier_messages.status).
const (
	StatusQueued     = "queued"
	StatusProcessing = "processing"
	StatusSent       = "sent"
	StatusAbandoned  = "abandoned"
)

// Kratos' template types of the code mails the suite reads.
const (
	TypeVerificationCode = "verification_code_valid"
	TypeRecoveryCode     = "recovery_code_valid"
)

// Inbox is where delivered mail is read.
type Inbox interface {
	// Received lists the mails to addr that reached the receiving side, oldest first.
	Received(ctx context.Context, addr string) ([]Mail, error)
	// Name says where, for error messages.
	Name() string
}

// Reader waits for mail in an inbox and asks the courier API why when none comes.
type Reader struct {
	Inbox   Inbox
	Courier *Courier
	Timeout time.Duration // Intervals.MailArrival
	Poll    time.Duration // Intervals.Poll
}

// Want names the mails a wait is for.
type Want struct {
	To   string
	Type string // a template type; "" for any mail
	// Count is how many such mails must have arrived; 0 means 1.
	Count int
}

// Wait returns the mails to want.To of want.Type once at least want.Count
// arrived, oldest first. On timeout the error carries the courier's diagnosis.
func (r Reader) Wait(ctx context.Context, want Want) ([]Mail, error) {
	count := max(want.Count, 1)
	var got []Mail
	err := wait.For(ctx, wait.Input{
		Name: fmt.Sprintf("%d mail(s) %sto %s in %s", count, typeWords(want.Type), want.To, r.Inbox.Name()), Timeout: r.Timeout, Interval: r.Poll,
		Check: func(ctx context.Context) error {
			all, err := r.Received(ctx, want.To)
			if err != nil {
				return err
			}
			got = ofType(all, want.Type)
			if len(got) < count {
				return fmt.Errorf("%d of %d so far", len(got), count)
			}
			return nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%w\n%s", err, r.Courier.Diagnose(context.WithoutCancel(ctx), want.To, r.Inbox))
	}
	return got, nil
}

// Received lists what the inbox holds for addr, with each mail's template type
// taken from the courier's record when the inbox cannot tell (Mailpit): by
// subject where a subject belongs to one type, else by position, since the
// courier sends a recipient's mails in the order it queued them.
func (r Reader) Received(ctx context.Context, addr string) ([]Mail, error) {
	got, err := r.Inbox.Received(ctx, addr)
	if err != nil || !slices.ContainsFunc(got, func(m Mail) bool { return m.TemplateType == "" }) {
		return got, err
	}
	records, err := r.Courier.Messages(ctx, addr)
	if err != nil {
		return nil, err
	}
	records = slices.DeleteFunc(records, func(m Mail) bool { return m.Status == StatusAbandoned })
	types := map[string]map[string]bool{} // subject -> template types
	for _, rec := range records {
		if types[rec.Subject] == nil {
			types[rec.Subject] = map[string]bool{}
		}
		types[rec.Subject][rec.TemplateType] = true
	}
	for i := range got {
		switch {
		case len(types[got[i].Subject]) == 1:
			for t := range types[got[i].Subject] {
				got[i].TemplateType = t
			}
		case i < len(records):
			got[i].TemplateType = records[i].TemplateType
		}
	}
	return got, nil
}

func ofType(mails []Mail, templateType string) []Mail {
	if templateType == "" {
		return mails
	}
	return slices.DeleteFunc(slices.Clone(mails), func(m Mail) bool { return m.TemplateType != templateType })
}

func typeWords(templateType string) string {
	if templateType == "" {
		return ""
	}
	return "of type " + templateType + " "
}

// redacted is what GET /admin/courier/messages shows for a body outside dev mode.
const redacted = "<redacted-unless-dev-mode>"

var (
	sixDigits = regexp.MustCompile(`\b(\d{6})\b`)
	codeParam = regexp.MustCompile(`[?&]code=(\d{6})\b`)
)

// Code finds the one-time code in a Kratos code mail without knowing its
// template: the only six-digit number in the text, or, when the text holds
// several, the one in a link's code= parameter. The spec proves it by using it.
func Code(m Mail) (string, error) {
	var candidates []string
	for _, match := range sixDigits.FindAllStringSubmatch(m.Text, -1) {
		if !slices.Contains(candidates, match[1]) {
			candidates = append(candidates, match[1])
		}
	}
	switch {
	case len(candidates) == 0 && strings.Contains(m.Text, redacted):
		return "", fmt.Errorf("Kratos redacts mail bodies in its courier API unless it runs --dev; to read codes give the target a mailpit_url (the SMTP server's Mailpit) or a postgres_dsn (the suite then reads courier_messages)")
	case len(candidates) == 0:
		return "", fmt.Errorf("the mail to %s (%q) holds no six-digit code: %.300q", m.Recipient, m.Subject, m.Text)
	case len(candidates) == 1:
		return candidates[0], nil
	}
	if p := codeParam.FindStringSubmatch(m.Text); p != nil {
		return p[1], nil
	}
	return "", fmt.Errorf("the mail to %s (%q) holds several six-digit numbers (%s) and no code= link to tell the code: %.300q",
		m.Recipient, m.Subject, strings.Join(candidates, ", "), m.Text)
}
