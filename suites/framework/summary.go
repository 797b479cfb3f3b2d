// Package framework turns a Ginkgo run into the suite's verdict: the
// summary of specs and requirements, the JUnit view that agrees with it and
// the closing lines a person reads. The specs (package conformance) assert;
// this package only reads Ginkgo's report, so it is unit-tested here.
package framework

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"kratos-conformance/reports"
)

// ReqPrefix starts a spec's requirement label, e.g. req:GUIDE-REG-001.
const ReqPrefix = "req:"

// Report entries the summary gathers from every node of the report:
// ExchangesEntry carries a failed spec's HTTP exchanges, WarningEntry what a
// passing requirement still flags, FaultEntry a fault scenario's record
// (reports.Fault). Entries, unlike a shared slice, survive ginkgo -p.
const (
	ExchangesEntry = "HTTP exchanges"
	WarningEntry   = "warning"
	FaultEntry     = "fault record"
)

// Setup is what the suite's own nodes learned about the run, beside Ginkgo's report.
type Setup struct {
	RunID       string
	StartedAt   time.Time
	Environment reports.Environment
	Problems    []string        // what setup found wrong without stopping
	Phases      []reports.Phase // in the order they happened; the specs ran right after "stack up"
	Warnings    []string
	Advisories  []reports.Advisory
	Faults      []reports.Fault
}

// Summarize folds Ginkgo's report and the setup into a summary: specs,
// counts, requirements, problems, filters and phases. The caller adds what
// only it knows (load, logs, scope) before it applies expected failures and decides.
func Summarize(r types.Report, in Setup) *reports.Summary {
	s := &reports.Summary{RunID: in.RunID, StartedAt: in.StartedAt, Environment: in.Environment}
	var specTime time.Duration
	for _, sr := range r.SpecReports {
		if err := gatherEntries(s, sr.ReportEntries); err != nil {
			s.Problems = append(s.Problems, fmt.Sprintf("%s: %v", sr.FullText(), err))
		}
		if sr.LeafNodeType != types.NodeTypeIt {
			// Suite-level setup or cleanup: a failure there is a reason against, not a spec.
			if sr.State.Is(types.SpecStateFailureStates) {
				s.Problems = append(s.Problems, sr.LeafNodeType.String()+": "+FirstLine(sr.Failure.Message))
				// No stack, no spec: the deployment was never judged.
				s.CouldNotRun = s.CouldNotRun || sr.LeafNodeType == types.NodeTypeBeforeSuite
			}
			continue
		}
		specTime += sr.RunTime
		spec := reports.Spec{Name: sr.FullText(), State: sr.State.String(), Seconds: sr.RunTime.Seconds(),
			Attempts: sr.NumAttempts, Labels: sr.Labels(), Requirements: RequirementIDs(sr)}
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
				if e.Name == ExchangesEntry {
					spec.Exchanges = e.StringRepresentation()
				}
			}
		}
		s.Specs = append(s.Specs, spec)
		addRequirements(s, sr)
	}
	s.Counts.Total = len(s.Specs)
	s.Problems = append(s.Problems, r.SpecialSuiteFailureReasons...)
	s.Problems = append(s.Problems, in.Problems...)
	s.Filters, s.DryRun = filters(r.SuiteConfig), r.SuiteConfig.DryRun
	for _, p := range in.Phases {
		s.Phases = append(s.Phases, p)
		if p.Name == "stack up" {
			s.Phases = append(s.Phases, reports.Phase{Name: "specs", Seconds: specTime.Seconds()})
		}
	}
	s.Advisories = in.Advisories
	return s
}

// gatherEntries adds a node's warnings and fault records to s. A value is
// the recorded one in-process, or its JSON when Ginkgo ran in parallel.
func gatherEntries(s *reports.Summary, entries types.ReportEntries) error {
	for _, e := range entries {
		switch e.Name {
		case WarningEntry:
			s.Warnings = append(s.Warnings, e.StringRepresentation())
		case FaultEntry:
			f, ok := e.GetRawValue().(reports.Fault)
			if !ok {
				if err := json.Unmarshal([]byte(e.Value.AsJSON), &f); err != nil {
					return fmt.Errorf("a fault record that does not read: %w", err)
				}
			}
			s.Faults = append(s.Faults, f)
		}
	}
	return nil
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

// FirstLine is a failure's headline; Gomega's "Unexpected error:" alone says nothing, so the line after it joins.
func FirstLine(s string) string {
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
	for _, id := range RequirementIDs(sr) {
		s.AddRequirement(id, status, sr.FullText(), reason)
	}
}

// RequirementIDs are the ids of a spec's req: labels.
func RequirementIDs(sr types.SpecReport) []string {
	var ids []string
	for _, l := range sr.Labels() {
		if id, ok := strings.CutPrefix(l, ReqPrefix); ok {
			ids = append(ids, strings.TrimSpace(id))
		}
	}
	return ids
}
