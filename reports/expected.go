package reports

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"gopkg.in/yaml.v3"
)

// XFail is a requirement that failed as an operator said it would.
const XFail = "XFAIL"

// ExpectedFailure is an operator's entry: a requirement known to fail on
// their deployment, why, and the last day the entry holds.
type ExpectedFailure struct {
	ID      string `yaml:"id" json:"id"`
	Reason  string `yaml:"reason" json:"reason"`
	Expires string `yaml:"expires" json:"expires"` // YYYY-MM-DD, inclusive
}

const dateLayout = "2006-01-02"

// LoadExpectedFailures reads the operator's YAML list; every field is
// required and an id may appear once.
func LoadExpectedFailures(path string) ([]ExpectedFailure, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("expected failures: %w", err)
	}
	return ParseExpectedFailures(path, b)
}

// ParseExpectedFailures reads a list already in memory; name is for errors.
func ParseExpectedFailures(path string, b []byte) ([]ExpectedFailure, error) {
	var list []ExpectedFailure
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&list); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("expected failures %s: %w (want a list of id, reason, expires: YYYY-MM-DD)", path, err)
	}
	seen := map[string]bool{}
	for i, e := range list {
		switch {
		case e.ID == "" || e.Reason == "":
			return nil, fmt.Errorf("expected failures %s: entry %d needs an id and a reason", path, i+1)
		case seen[e.ID]:
			return nil, fmt.Errorf("expected failures %s: %s is listed twice", path, e.ID)
		}
		if _, err := time.Parse(dateLayout, e.Expires); err != nil {
			return nil, fmt.Errorf("expected failures %s: %s: expires %q is not a date like 2027-01-31", path, e.ID, e.Expires)
		}
		seen[e.ID] = true
	}
	return list, nil
}

// ApplyExpectedFailures marks listed requirements that failed, and have not
// expired, as XFAIL. Everything else about an entry is a reason against the
// run: it expired, its requirement passed (the entry is stale), or it names
// no requirement of the suite. known holds every requirement id the suite has.
func (s *Summary) ApplyExpectedFailures(list []ExpectedFailure, known map[string]bool, today time.Time) {
	s.ExpectedFailures = list
	for _, e := range list {
		expires, _ := time.Parse(dateLayout, e.Expires)    // checked by LoadExpectedFailures
		expired := !today.Before(expires.AddDate(0, 0, 1)) // the entry holds through its day
		r := s.requirement(e.ID)
		switch {
		case !known[e.ID]:
			s.Reasons = append(s.Reasons, fmt.Sprintf("expected failure %s names no requirement of this suite (docs/requirements.md)", e.ID))
		case r == nil:
			// Not run (label filter): nothing to say about it.
		case r.Status == Fail && expired:
			r.Reason = fmt.Sprintf("expected failure expired on %s: %s", e.Expires, e.Reason)
			s.Reasons = append(s.Reasons, fmt.Sprintf("expected failure %s expired on %s: fix it or renew the entry", e.ID, e.Expires))
		case r.Status == Fail:
			r.Status, r.Reason = XFail, fmt.Sprintf("expected until %s: %s", e.Expires, e.Reason)
		case r.Status == Pass:
			s.Reasons = append(s.Reasons, fmt.Sprintf("expected failure %s passed: remove it from the expected failures", e.ID))
		}
	}
	for i := range s.Specs {
		sp := &s.Specs[i]
		if sp.Failure != "" && s.allExpected(sp.Requirements) {
			sp.ExpectedFailure = true
			s.Counts.ExpectedFailed++
		}
	}
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
