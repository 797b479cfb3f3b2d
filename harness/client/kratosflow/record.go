package kratosflow

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Recorder keeps the last exchanges of the agents given it (WithRecorder),
// so a failed spec's report shows what was asked and answered.
type Recorder struct {
	mu   sync.Mutex
	max  int
	list []exchange
}

type exchange struct {
	at             time.Time
	took           time.Duration
	method, url    string
	status         int
	err            string
	reqBody, reply string
}

// recordedBody is how much of each body is kept: enough for Kratos' error
// and the flow's messages, not a whole page.
const recordedBody = 2048

// NewRecorder keeps the last max exchanges.
func NewRecorder(max int) *Recorder { return &Recorder{max: max} }

func (r *Recorder) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		e := exchange{at: time.Now(), method: req.Method, url: req.URL.String()}
		if req.GetBody != nil {
			if b, err := req.GetBody(); err == nil {
				head, _ := io.ReadAll(io.LimitReader(b, recordedBody))
				b.Close()
				e.reqBody = masked(head)
			}
		}
		resp, err := next.RoundTrip(req)
		e.took = time.Since(e.at)
		if err != nil {
			e.err = err.Error()
		} else {
			e.status = resp.StatusCode
			head, _ := io.ReadAll(io.LimitReader(resp.Body, recordedBody))
			e.reply = masked(head)
			// The caller still reads the whole body: what was taken, then the rest.
			resp.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
		}
		r.mu.Lock()
		r.list = append(r.list, e)
		if len(r.list) > r.max {
			r.list = r.list[len(r.list)-r.max:]
		}
		r.mu.Unlock()
		return resp, err
	})
}

// secrets are masked in what is recorded: passwords, session tokens and codes.
var secrets = regexp.MustCompile(`("(?:password|session_token|code|csrf_token)"\s*:\s*")[^"]*(")|((?:password|code|csrf_token)=)[^&]*`)

func masked(b []byte) string {
	return secrets.ReplaceAllString(string(b), "${1}${3}***${2}")
}

// String lists the recorded exchanges, oldest first.
func (r *Recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, e := range r.list {
		fmt.Fprintf(&b, "%s %s %s", e.at.Format("15:04:05.000"), e.method, e.url)
		if e.err != "" {
			fmt.Fprintf(&b, " -> error after %s: %s\n", e.took.Round(time.Millisecond), e.err)
			continue
		}
		fmt.Fprintf(&b, " -> %d in %s\n", e.status, e.took.Round(time.Millisecond))
		if e.reqBody != "" {
			fmt.Fprintf(&b, "  sent: %s\n", oneLine(e.reqBody))
		}
		if e.reply != "" {
			fmt.Fprintf(&b, "  got:  %s\n", oneLine(e.reply))
		}
	}
	return b.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// roundTripFunc is an http.RoundTripper from a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
