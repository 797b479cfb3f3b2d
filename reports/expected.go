package reports

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// XFail is a requirement that failed as an operator said it would.
const XFail Status = "XFAIL"

// ExpectedFailure is an operator's entry: a requirement known to fail on
// their deployment, on which Kratos versions, how the failure looks, why,
// and the last day the entry holds. A failure that looks different, or a
// version not listed, is not excused: it is a new failure.
type ExpectedFailure struct {
	ID     string   `yaml:"id" json:"id"`
	Kratos []string `yaml:"kratos" json:"kratos"` // versions, e.g. v1.3.1; "v1.3" covers v1.3.x
	// Spec and Failure are the failure's fingerprint with the requirement:
	// the failed spec's name and the first line of its message (summary.md
	// shows both), each matched whole with volatile values (numbers,
	// generated ids) masked, so the entry excuses that failure of that spec
	// and no other.
	Spec    string `yaml:"spec" json:"spec"`
	Failure string `yaml:"failure" json:"failure"`
	Reason  string `yaml:"reason" json:"reason"`
	Expires string `yaml:"expires" json:"expires"` // YYYY-MM-DD, inclusive
}

// AppliesTo reports whether the entry covers a Kratos version.
func (e ExpectedFailure) AppliesTo(kratosVersion string) bool {
	for _, v := range e.Kratos {
		if kratosVersion == v || strings.HasPrefix(kratosVersion, v+".") {
			return true
		}
	}
	return false
}

const dateLayout = "2006-01-02"

// MaxExpiry is how far ahead an entry may expire: an excuse longer than
// this is a decision to live with the failure, not a known defect awaiting
// a fix, and must be renewed with a fresh look.
const MaxExpiry = 180 * 24 * time.Hour

// LoadExpectedFailures reads the operator's YAML list; every field is
// required, an id may appear once, and no entry may expire more than
// MaxExpiry after today.
func LoadExpectedFailures(path string, today time.Time) ([]ExpectedFailure, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("expected failures: %w", err)
	}
	return ParseExpectedFailures(path, b, today)
}

// ParseExpectedFailures reads a list already in memory; name is for errors.
func ParseExpectedFailures(path string, b []byte, today time.Time) ([]ExpectedFailure, error) {
	var list []ExpectedFailure
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&list); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("expected failures %s: %w (want a list of id, reason, expires: YYYY-MM-DD)", path, err)
	}
	seen := map[string]bool{}
	for i, e := range list {
		switch {
		case e.ID == "" || e.Reason == "" || len(e.Kratos) == 0 || e.Spec == "" || e.Failure == "":
			return nil, fmt.Errorf("expected failures %s: entry %d needs an id, the kratos versions it applies to, the spec and the failure line it expects (summary.md shows both), and a reason", path, i+1)
		case seen[e.ID]:
			return nil, fmt.Errorf("expected failures %s: %s is listed twice", path, e.ID)
		}
		expires, err := time.Parse(dateLayout, e.Expires)
		if err != nil {
			return nil, fmt.Errorf("expected failures %s: %s: expires %q is not a date like 2027-01-31", path, e.ID, e.Expires)
		}
		if limit := today.Add(MaxExpiry); expires.After(limit) {
			return nil, fmt.Errorf("expected failures %s: %s expires on %s, more than %d days from today: set it no later than %s and look again then",
				path, e.ID, e.Expires, int(MaxExpiry.Hours()/24), limit.Format(dateLayout))
		}
		if len(fingerprint(e.Failure)) < minFingerprint {
			return nil, fmt.Errorf("expected failures %s: %s: failure %q is too short to tell one failure from another: copy the failure's whole first line from summary.md", path, e.ID, e.Failure)
		}
		seen[e.ID] = true
	}
	return list, nil
}

// ApplyExpectedFailures marks a listed requirement that failed as XFAIL when
// the entry holds: not expired, listed for this Kratos version, and every
// failed spec of it failed with the entry's text. Everything else about an
// entry is a problem of the run: it expired, its failure looked different, it
// names no catalogued requirement, or its requirement passed on a version it
// lists (stale). catalogue holds every requirement id; an entry is judged
// only when its requirement ran.
func (s *Summary) ApplyExpectedFailures(list []ExpectedFailure, catalogue []string, kratosVersion string, today time.Time) {
	s.ExpectedFailures = list
	for _, e := range list {
		expires, _ := time.Parse(dateLayout, e.Expires)    // checked by LoadExpectedFailures
		expired := !today.Before(expires.AddDate(0, 0, 1)) // the entry holds through its day
		r := s.requirement(e.ID)
		switch {
		case !slices.Contains(catalogue, e.ID):
			s.Problems = append(s.Problems, fmt.Sprintf("expected failure %s names no requirement of this suite (docs/requirements.md)", e.ID))
		case r == nil || (r.Status != Fail && r.Status != Pass):
			// Not run, or N/A: nothing to say about it.
		case !e.AppliesTo(kratosVersion):
			if r.Status == Fail {
				r.Reason = fmt.Sprintf("an expected failure lists %s for Kratos %s, not %s", e.ID, strings.Join(e.Kratos, ", "), kratosVersion)
			}
		case r.Status == Pass:
			s.Problems = append(s.Problems, fmt.Sprintf("expected failure %s passed on Kratos %s: remove it from the expected failures", e.ID, kratosVersion))
		case expired:
			r.Reason = fmt.Sprintf("expected failure expired on %s: %s", e.Expires, e.Reason)
			s.Problems = append(s.Problems, fmt.Sprintf("expected failure %s expired on %s: fix it or renew the entry", e.ID, e.Expires))
		case !s.failedWith(e):
			spec, line := s.failureOf(e.ID)
			r.Reason = fmt.Sprintf("failed, but not as listed: the expected failure is %q in %q, the failure is %q in %q", e.Failure, e.Spec, line, spec)
		default:
			r.Status, r.Reason = XFail, fmt.Sprintf("expected until %s: %s", e.Expires, e.Reason)
		}
	}
	for i := range s.Specs {
		sp := &s.Specs[i]
		if sp.Failure != "" && !sp.ExpectedFailure && s.allExpected(sp.Requirements) {
			sp.ExpectedFailure = true
			s.Counts.Failed--
			s.Counts.ExpectedFailed++
		}
	}
}

// failedWith reports whether every failed spec of the entry's requirement
// is the entry's spec and failed with its line: fingerprints, not a
// substring anywhere (a file name in the location would excuse every
// failure), and not another spec of the same requirement failing alike.
func (s *Summary) failedWith(e ExpectedFailure) bool {
	for _, sp := range s.Specs {
		if sp.Failure != "" && slices.Contains(sp.Requirements, e.ID) &&
			(fingerprint(sp.Name) != fingerprint(e.Spec) || fingerprint(failureLine(sp.Failure)) != fingerprint(e.Failure)) {
			return false
		}
	}
	return true
}

// failureOf is the name and first failure line of requirement id's first failed spec.
func (s *Summary) failureOf(id string) (spec, line string) {
	for _, sp := range s.Specs {
		if sp.Failure != "" && slices.Contains(sp.Requirements, id) {
			return sp.Name, failureLine(sp.Failure)
		}
	}
	return "", ""
}

// failureLine is the first line of a spec's failure message: Spec.Failure
// is its location, a newline, then the message.
func failureLine(failure string) string {
	_, msg, found := strings.Cut(failure, "\n")
	if !found {
		msg = failure
	}
	line, _, _ := strings.Cut(msg, "\n")
	return strings.TrimSpace(line)
}

// minFingerprint is the shortest failure line an entry may list, masked.
const minFingerprint = 16

// fingerprint masks what differs from run to run in the same failure.
func fingerprint(line string) string {
	return strings.Join(strings.Fields(maskVolatile(line)), " ")
}

func (s *Summary) requirement(id string) *Requirement {
	for i := range s.Requirements {
		if s.Requirements[i].ID == id {
			return &s.Requirements[i]
		}
	}
	return nil
}

// allExpected: a failed spec is excused only when every requirement it checks is XFAIL.
func (s *Summary) allExpected(ids []string) bool {
	for _, id := range ids {
		if r := s.requirement(id); r == nil || r.Status != XFail {
			return false
		}
	}
	return len(ids) > 0
}
