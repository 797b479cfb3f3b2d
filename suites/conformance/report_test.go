package conformance

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"kratos-conformance/reports"
)

// summarize turns Ginkgo's report into the run's summary and verdict.
func summarize(r Report) *reports.Summary {
	s := &reports.Summary{RunID: suite.Run.ID, StartedAt: suite.Run.StartedAt, Environment: suite.Env}
	s.Environment.Provider = suite.Config.Provider // also when setup failed before the provider said
	s.Environment.Policy = suite.Config.Policy
	var specTime time.Duration
	for _, sr := range r.SpecReports {
		if sr.LeafNodeType != types.NodeTypeIt {
			// Suite-level setup or cleanup: a failure there is a reason against, not a spec.
			if sr.State.Is(types.SpecStateFailureStates) {
				s.Problems = append(s.Problems, sr.LeafNodeType.String()+": "+firstLine(sr.Failure.Message))
				// No stack, no spec: the deployment was never judged.
				s.CouldNotRun = s.CouldNotRun || sr.LeafNodeType == types.NodeTypeBeforeSuite
			}
			continue
		}
		specTime += sr.RunTime
		spec := reports.Spec{Name: sr.FullText(), State: sr.State.String(), Seconds: sr.RunTime.Seconds(),
			Attempts: sr.NumAttempts, Labels: sr.Labels(), Requirements: requirementIDs(sr)}
		if sr.NumAttempts > 1 && sr.State == types.SpecStatePassed {
			// Passed only on a later attempt: a flake, never hidden. (A spec
			// that failed every attempt is a failure and counted as one.)
			s.Problems = append(s.Problems, fmt.Sprintf("flaky: %q needed %d attempts", sr.FullText(), sr.NumAttempts))
		}
		switch {
		case r.SuiteConfig.DryRun:
			// Ginkgo calls a dry-run spec passed; nothing was sent, so nothing passed.
			spec.State = "not run (dry run)"
			s.Counts.Skipped++
			s.Specs = append(s.Specs, spec)
			continue
		case sr.State == types.SpecStatePassed:
			s.Counts.Passed++
		case sr.State == types.SpecStateSkipped:
			s.Counts.Skipped++
		case sr.State == types.SpecStatePending:
			s.Counts.Pending++
		case sr.State.Is(types.SpecStateFailureStates):
			s.Counts.Failed++
			spec.Failure = sr.Failure.Location.String() + "\n" + sr.Failure.Message
			for _, e := range sr.ReportEntries {
				if e.Name == exchangesEntry {
					spec.Exchanges = e.StringRepresentation()
				}
			}
		}
		s.Specs = append(s.Specs, spec)
		addRequirements(s, sr)
	}
	s.Counts.Total = len(s.Specs)
	for _, reason := range r.SpecialSuiteFailureReasons {
		s.Problems = append(s.Problems, reason)
	}
	s.Problems = append(s.Problems, suite.SetupProblems...)
	s.Filters, s.DryRun = filters(r.SuiteConfig), r.SuiteConfig.DryRun
	// Phases in the order they happened; the specs ran right after stack up.
	for _, p := range suite.Phases {
		s.Phases = append(s.Phases, p)
		if p.Name == "stack up" {
			s.Phases = append(s.Phases, reports.Phase{Name: "specs", Seconds: specTime.Seconds()})
		}
	}
	s.Load = loadSummary()
	addLoadRequirements(s)
	if !r.SuiteConfig.DryRun {
		addLogRequirement(s)
	}
	s.Warnings, s.Advisories = suite.Warnings, suite.Advisories
	for _, f := range suite.FaultRecords {
		s.Faults = append(s.Faults, *f)
	}
	s.Scope = upgradeScope()
	s.ApplyExpectedFailures(suite.Expected, catalogue, suite.Env.KratosVersion, time.Now())
	s.Decide(catalogue)
	return s
}

// filters are the Ginkgo selections that leave specs out of a run, in words.
func filters(c types.SuiteConfig) []string {
	var out []string
	for _, f := range []struct{ what, value string }{
		{"label filter", c.LabelFilter}, {"focus", strings.Join(c.FocusStrings, ", ")}, {"skip", strings.Join(c.SkipStrings, ", ")},
		{"focus files", strings.Join(c.FocusFiles, ", ")}, {"skip files", strings.Join(c.SkipFiles, ", ")},
	} {
		if f.value != "" {
			out = append(out, f.what+" "+f.value)
		}
	}
	if c.DryRun {
		out = append(out, "dry run: no spec sent a request")
	}
	return out
}

// firstLine is a failure's headline; Gomega's "Unexpected error:" alone says nothing, so the line after it joins.
func firstLine(s string) string {
	line, rest, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if strings.HasSuffix(line, ":") {
		next, _, _ := strings.Cut(strings.TrimSpace(rest), "\n")
		line += " " + strings.TrimSpace(next)
	}
	return line
}

// addRequirements folds a spec into the verdict matrix by its req: labels.
// A skip whose message starts with "N/A" counts as N/A; other skips (a label
// filter, an earlier failure) say nothing about the requirement.
func addRequirements(s *reports.Summary, sr types.SpecReport) {
	var status reports.Status
	var reason string
	switch {
	case sr.State == types.SpecStatePassed:
		status = reports.Pass
	case sr.State.Is(types.SpecStateFailureStates):
		status = reports.Fail
	case sr.State == types.SpecStateSkipped && strings.HasPrefix(sr.Failure.Message, "N/A"):
		status, reason = reports.NA, strings.TrimSpace(strings.TrimPrefix(sr.Failure.Message, "N/A:"))
	default:
		return
	}
	for _, id := range requirementIDs(sr) {
		s.AddRequirement(id, status, sr.FullText(), reason)
	}
}

// requirementIDs are the ids of a spec's req: labels.
func requirementIDs(sr types.SpecReport) []string {
	var ids []string
	for _, l := range sr.Labels() {
		if id, ok := strings.CutPrefix(l, reqPrefix); ok {
			ids = append(ids, strings.TrimSpace(id))
		}
	}
	return ids
}
