package load

import (
	"context"
	"time"
)

// MailFigures follow a step's mails from submit to the inbox: how many
// reached it within the mail-arrival interval, and how long they took.
type MailFigures struct {
	Queued    int     `json:"queued"` // successful submits that must mail
	Delivered int     `json:"delivered"`
	P50Millis float64 `json:"p50_ms"` // submit to the inbox's receipt
	P99Millis float64 `json:"p99_ms"`
	MaxMillis float64 `json:"max_ms"`
	// DrainedSeconds is from the window's end until the last mail arrived
	// (or the interval ran out): the courier's backlog.
	DrainedSeconds float64 `json:"drained_s"`
}

// followMail waits (within Intervals.MailArrival, polling every
// Intervals.Poll) until every address has mail sent after its submit, and
// measures each one's latency from the inbox's receipt time.
func followMail(ctx context.Context, in Input, sent []registered) *MailFigures {
	f := &MailFigures{Queued: len(sent)}
	if len(sent) == 0 {
		return f
	}
	windowEnd := time.Now()
	deadline := windowEnd.Add(in.Intervals.MailArrival)
	arrived := make([]time.Duration, 0, len(sent))
	pending := append([]registered(nil), sent...)
	for len(pending) > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		var still []registered
		for _, r := range pending {
			mails, err := in.Inbox.Received(ctx, r.address)
			if err != nil || len(mails) == 0 {
				still = append(still, r)
				continue
			}
			at := mails[0].ReceivedAt
			if at.IsZero() {
				at = mails[0].At
			}
			arrived = append(arrived, at.Sub(r.sent))
		}
		pending = still
		if len(pending) > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(in.Intervals.Poll):
			}
		}
	}
	f.DrainedSeconds = round3(time.Since(windowEnd).Seconds())
	f.Delivered = len(arrived)
	q := quantiles(arrived)
	f.P50Millis, f.P99Millis, f.MaxMillis = round3(q(0.5)), round3(q(0.99)), round3(q(1))
	return f
}
