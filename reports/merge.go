package reports

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
)

// Part is one stack of a certification: its name (the sub-folder) and its
// summary. Planned parts ran a subset by design (the expiry specs on the
// short-lifespans stack); their filters do not make the whole partial.
type Part struct {
	Name    string
	Summary *Summary
	Planned bool
}

// rank orders requirement outcomes when parts disagree: a failure anywhere is
// a failure; evidence beats N/A; N/A beats no outcome.
var rank = map[Status]int{Fail: 5, XFail: 4, Pass: 3, NA: 2, NotRun: 1}

// Merge folds a certification's parts into one summary; Decide then judges
// it against the catalogue as one run.
func Merge(runID string, parts []Part) *Summary {
	out := &Summary{RunID: runID}
	for _, p := range parts {
		s := p.Summary
		if out.StartedAt.IsZero() {
			out.StartedAt, out.Environment, out.ExpectedFailures = s.StartedAt, s.Environment, s.ExpectedFailures
		}
		if out.Load == nil && s.Load != nil {
			l := *s.Load
			l.Report = p.Name + "/" + l.Report
			out.Load = &l
		}
		c := &out.Counts
		c.Passed, c.Failed, c.ExpectedFailed = c.Passed+s.Counts.Passed, c.Failed+s.Counts.Failed, c.ExpectedFailed+s.Counts.ExpectedFailed
		c.Skipped, c.Pending, c.Total = c.Skipped+s.Counts.Skipped, c.Pending+s.Counts.Pending, c.Total+s.Counts.Total
		for _, ph := range s.Phases {
			out.Phases = append(out.Phases, Phase{Name: p.Name + ": " + ph.Name, Seconds: ph.Seconds})
		}
		for _, sp := range s.Specs {
			sp.Name = "[" + p.Name + "] " + sp.Name
			out.Specs = append(out.Specs, sp)
		}
		for _, msg := range s.Problems {
			out.Problems = append(out.Problems, p.Name+": "+msg)
		}
		if !p.Planned {
			out.Filters = append(out.Filters, s.Filters...)
		}
		out.CouldNotRun = out.CouldNotRun || s.CouldNotRun
		for _, sc := range s.Scope {
			if !slices.Contains(out.Scope, sc) {
				out.Scope = append(out.Scope, sc)
			}
		}
		out.Faults = append(out.Faults, s.Faults...)
		out.Warnings = append(out.Warnings, s.Warnings...)
		for _, a := range s.Advisories {
			if !slices.Contains(out.Advisories, a) { // the parts read one deployment's settings, or near it
				out.Advisories = append(out.Advisories, a)
			}
		}
		for _, r := range s.Requirements {
			out.mergeRequirement(p.Name, r)
		}
	}
	sort.Slice(out.Requirements, func(i, j int) bool { return out.Requirements[i].ID < out.Requirements[j].ID })
	return out
}

func (s *Summary) mergeRequirement(part string, r Requirement) {
	specs := make([]string, len(r.Specs))
	for i, sp := range r.Specs {
		specs[i] = "[" + part + "] " + sp
	}
	have := s.requirement(r.ID)
	if have == nil {
		r.Specs = specs
		s.Requirements = append(s.Requirements, r)
		return
	}
	have.Specs = append(have.Specs, specs...)
	if rank[r.Status] > rank[have.Status] {
		have.Status, have.Reason = r.Status, r.Reason
	}
}

// ReadSummary reads a run folder's summary.json.
func ReadSummary(dir string) (*Summary, error) {
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		return nil, fmt.Errorf("the run in %s wrote no summary: %w", dir, err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s/summary.json: %w", dir, err)
	}
	return &s, nil
}
