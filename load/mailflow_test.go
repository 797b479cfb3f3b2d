package load

import (
	"strings"
	"testing"
	"time"
)

// mailsOf submits at rate for window seconds to a courier that sends up to
// batch mails each second, oldest first, and returns each mail's arrival.
func mailsOf(rate, batch float64, window time.Duration) []arrival {
	start := time.Unix(1_700_000_000, 0)
	var queue []time.Time
	var out []arrival
	n := int(rate * window.Seconds())
	next := 0
	for pull := time.Second; len(out) < n; pull += time.Second {
		for next < n && time.Duration(float64(next)/rate*float64(time.Second)) < pull {
			queue = append(queue, start.Add(time.Duration(float64(next)/rate*float64(time.Second))))
			next++
		}
		for i := 0; i < int(batch) && len(queue) > 0; i++ {
			out = append(out, arrival{sent: queue[0], delay: start.Add(pull).Sub(queue[0])})
			queue = queue[1:]
		}
	}
	return out
}

// A courier that keeps pace passes at any rate, however its batches make
// single delays vary; one that sends half of what is queued fails, though
// every mail arrives.
func TestMailClimbTellsKeepingPaceFromFallingBehind(t *testing.T) {
	for _, tc := range []struct {
		name         string
		rate, batch  float64
		fallsBehind  bool
		climbAtLeast float64
	}{
		{"low rate, batches of 10", 2, 10, false, 0},
		{"at the courier's rate", 10, 10, false, 0},
		{"twice the courier's rate", 20, 10, true, 0.4},
		{"a fifth over it", 12, 10, true, 0.1},
	} {
		m := &MailFigures{}
		m.Climb, m.ClimbStdErr = climb(mailsOf(tc.rate, tc.batch, 5*time.Second))
		why := m.fellBehind()
		if (why != "") != tc.fallsBehind || (tc.fallsBehind && m.Climb < tc.climbAtLeast) {
			t.Errorf("%s: climb %.3f ± %.3f, why %q; want falling behind %v", tc.name, m.Climb, m.ClimbStdErr, why, tc.fallsBehind)
		}
		if tc.fallsBehind && !strings.Contains(why, "courier sent about") {
			t.Errorf("%s: %q does not say how much the courier sent", tc.name, why)
		}
	}
}
