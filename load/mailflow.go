package load

import (
	"cmp"
	"context"
	"fmt"
	"math"
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
	// Climb is the seconds of delay each second of the window added to
	// the mails (the slope of delay against submit time): about 0 while the
	// courier keeps pace, 1 - its rate / the submit rate when it falls
	// behind, so the queue grows without end however long the window.
	// ClimbStdErr is its standard error.
	Climb       float64 `json:"climb"`
	ClimbStdErr float64 `json:"climb_stderr"`
}

// A step's mails fell behind when their delay climbs by more than a tenth
// of a second per second (the courier sent under ~90% of what was queued),
// by more than three standard errors (a courier pulls in batches, so one
// mail's delay varies by its pull interval).
const (
	maxMailClimb    = 0.1
	mailClimbStdErr = 3
)

// fellBehind says why the courier did not keep pace, or "".
func (m *MailFigures) fellBehind() string {
	if m == nil || m.Climb <= maxMailClimb || m.Climb <= mailClimbStdErr*m.ClimbStdErr {
		return ""
	}
	return fmt.Sprintf("the mails' delay grew %.2f s per second of the window (±%.2f): the courier sent about %.0f%% of the mails the flow queued, so its queue grows at this rate",
		m.Climb, m.ClimbStdErr, (1-m.Climb)*100)
}

// followMail waits (within Intervals.MailArrival, polling every
// Intervals.Poll) until every address has mail sent after its submit, and
// measures each one's latency from the inbox's receipt time. Mails still
// queued then are waited for once more as long, unmeasured: the next step
// would otherwise be judged by this one's backlog.
func followMail(ctx context.Context, in Input, sent []registered) *MailFigures {
	f := &MailFigures{Queued: len(sent)}
	if len(sent) == 0 {
		return f
	}
	windowEnd := time.Now()
	deadline := windowEnd.Add(in.Intervals.MailArrival)
	pending, arrived := awaitMail(ctx, in, sent, deadline)
	f.DrainedSeconds = round3(time.Since(windowEnd).Seconds())
	f.Delivered = len(arrived)
	delays := make([]time.Duration, len(arrived))
	for i, a := range arrived {
		delays[i] = a.delay
	}
	q := quantiles(delays)
	f.P50Millis, f.P99Millis, f.MaxMillis = round3(q(0.5)), round3(q(0.99)), round3(q(1))
	f.Climb, f.ClimbStdErr = climb(arrived)
	awaitMail(ctx, in, pending, deadline.Add(in.Intervals.MailArrival))
	return f
}

// awaitMail polls the inbox until each address has its mail or the
// deadline passes: what is still pending, and what arrived.
func awaitMail(ctx context.Context, in Input, pending []registered, deadline time.Time) ([]registered, []arrival) {
	var arrived []arrival
	for len(pending) > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		var still []registered
		for _, r := range pending {
			mails, err := in.Inbox.Received(ctx, r.address)
			if err != nil || len(mails) == 0 {
				still = append(still, r)
				continue
			}
			at := cmp.Or(mails[0].ReceivedAt, mails[0].At)
			arrived = append(arrived, arrival{sent: r.sent, delay: at.Sub(r.sent)})
		}
		if pending = still; len(pending) > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(in.Intervals.Poll):
			}
		}
	}
	return pending, arrived
}

// arrival is one mail followed: when its flow was submitted, and how long
// until the inbox received it.
type arrival struct {
	sent  time.Time
	delay time.Duration
}

// climb is the least-squares slope of delay against submit time, and its
// standard error; 0, 0 with fewer than 3 mails or all sent at once.
func climb(as []arrival) (slope, stderr float64) {
	n := float64(len(as))
	if n < 3 {
		return 0, 0
	}
	var mx, my float64
	for _, a := range as {
		mx += a.sent.Sub(as[0].sent).Seconds() / n
		my += a.delay.Seconds() / n
	}
	var sxx, sxy float64
	for _, a := range as {
		dx, dy := a.sent.Sub(as[0].sent).Seconds()-mx, a.delay.Seconds()-my
		sxx, sxy = sxx+dx*dx, sxy+dx*dy
	}
	if sxx == 0 {
		return 0, 0
	}
	slope = sxy / sxx
	var sse float64
	for _, a := range as {
		r := a.delay.Seconds() - my - slope*(a.sent.Sub(as[0].sent).Seconds()-mx)
		sse += r * r
	}
	return round3(slope), round3(math.Sqrt(sse / (n - 2) / sxx))
}
