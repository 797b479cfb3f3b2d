package reports

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Tolerance is how far a load figure may move between two runs before the
// move counts: a release pipeline compares against its last good build, and
// the same build measures a few percent apart run to run.
type Tolerance struct {
	MaxRateDrop float64 // max sustainable rate lower by more than this share
	P99Rise     float64 // p99 at the workload's first step (the same rate in both runs) higher by more than this share
}

// DefaultTolerance: capacity runs of one build on this machine differ by one
// search step (about 6%) in max rate; p99 at a light step moves less than 50%.
var DefaultTolerance = Tolerance{MaxRateDrop: 0.10, P99Rise: 0.50}

// Change is one difference between two runs; Regression marks the ones a
// pipeline must stop on.
type Change struct {
	What       string // "requirement", "finding", "advisory", "load", "verdict"
	Line       string
	Regression bool
}

// Comparison is what differs from OLD to NEW.
type Comparison struct {
	Old, New string // run ids
	Changes  []Change
}

// Regressed is true when NEW is worse than OLD in a way that must stop a release.
func (c Comparison) Regressed() bool {
	return slices.ContainsFunc(c.Changes, func(ch Change) bool { return ch.Regression })
}

// Text is the comparison for a terminal: regressions first.
func (c Comparison) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "compare %s (old) -> %s (new)\n", c.Old, c.New)
	if len(c.Changes) == 0 {
		b.WriteString("  no differences\n")
	}
	for _, regression := range []bool{true, false} {
		for _, ch := range c.Changes {
			if ch.Regression == regression {
				mark := "  "
				if regression {
					mark = "! "
				}
				fmt.Fprintf(&b, "%s%-11s %s\n", mark, ch.What, ch.Line)
			}
		}
	}
	if c.Regressed() {
		b.WriteString("regressions: yes (marked !)\n")
	} else {
		b.WriteString("regressions: none\n")
	}
	return b.String()
}

// worse ranks requirement outcomes: a move up this list is a regression,
// and so is every move away from PASS: a requirement that passed and is now
// N/A is no longer checked, one now XFAIL fails (excused, but it fails).
var worse = map[Status]int{Pass: 0, NA: 1, XFail: 2, NotRun: 3, Fail: 4}

// regressed says whether a requirement's move from old to new must stop a release.
func regressed(old, new Status) bool {
	return new != Pass && (old == Pass || worse[new] > worse[old])
}

// Compare lists what changed from old to new: the verdict, requirements that
// changed outcome or appeared or vanished, findings (warnings) and advisories
// new or gone, and load figures that moved beyond tol.
func Compare(old, new *Summary, tol Tolerance) Comparison {
	c := Comparison{Old: old.RunID, New: new.RunID}
	add := func(what string, regression bool, format string, args ...any) {
		c.Changes = append(c.Changes, Change{What: what, Line: fmt.Sprintf(format, args...), Regression: regression})
	}
	if old.Verdict != new.Verdict {
		add("verdict", old.Verdict == Pass, "%s -> %s", old.Verdict, new.Verdict)
	}
	if o, n := cmp.Or(old.Environment.Policy, "guide"), cmp.Or(new.Environment.Policy, "guide"); o != n {
		// A PASS under guide says less than one under asvs-l2: not like for like.
		add("policy", o == "asvs-l2", "judged under -kc.policy=%s -> %s: findings count differently", o, n)
	}

	was := map[string]Requirement{}
	for _, r := range old.Requirements {
		was[r.ID] = r
	}
	is := map[string]Requirement{}
	for _, r := range new.Requirements {
		is[r.ID] = r
	}
	for _, id := range slices.Sorted(maps.Keys(is)) {
		r, o := is[id], was[id]
		switch {
		case o.ID == "":
			add("requirement", r.Status == Fail || r.Status == NotRun, "%s new: %s", id, r.Status)
		case o.Status != r.Status:
			add("requirement", regressed(o.Status, r.Status), "%s %s -> %s%s", id, o.Status, r.Status, because(r))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(was)) {
		if _, ok := is[id]; !ok {
			add("requirement", false, "%s removed (was %s)", id, was[id].Status)
		}
	}

	// A new finding is something the deployment now does that an auditor
	// flags (e.g. no throttling): a pipeline must look before it ships.
	for _, w := range differentFindings(new.Warnings, old.Warnings) {
		add("finding", true, "new: %s", w)
	}
	for _, w := range differentFindings(old.Warnings, new.Warnings) {
		add("finding", false, "gone: %s", w)
	}
	settings := func(s *Summary) []string {
		var out []string
		for _, a := range s.Advisories {
			out = append(out, a.Setting)
		}
		return out
	}
	for _, a := range difference(settings(new), settings(old)) {
		add("advisory", false, "new: %s", a)
	}
	for _, a := range difference(settings(old), settings(new)) {
		add("advisory", false, "gone: %s", a)
	}
	c.Changes = append(c.Changes, compareLoad(old.Load, new.Load, tol)...)
	return c
}

// compareLoad compares each scenario's headline figures and SLO failures.
func compareLoad(old, new *Load, tol Tolerance) []Change {
	switch {
	case old == nil && new == nil:
		return nil
	case new == nil:
		return []Change{{What: "load", Line: "the new run has no load figures (the old one had " + old.Profile + "): nothing to compare capacity with", Regression: true}}
	case old == nil:
		return []Change{{What: "load", Line: "the old run has no load figures: the new run's are a first baseline"}}
	}
	var out []Change
	if old.Profile != new.Profile {
		out = append(out, Change{What: "load", Line: fmt.Sprintf("profiles differ (%s -> %s): figures are not comparable", old.Profile, new.Profile), Regression: true})
		return out
	}
	if old.Workload != "" && new.Workload != "" && old.Workload != new.Workload {
		out = append(out, Change{What: "load", Regression: true,
			Line: fmt.Sprintf("the %s workload changed (rates, windows or SLOs; sha256 %.12s -> %.12s): figures are not comparable", new.Profile, old.Workload, new.Workload)})
		return out
	}
	was := map[string]LoadScenario{}
	for _, s := range old.Scenarios {
		was[s.Name] = s
	}
	is := map[string]bool{}
	for _, s := range new.Scenarios {
		is[s.Name] = true
		o, ok := was[s.Name]
		if !ok {
			out = append(out, Change{What: "load", Line: s.Name + ": new scenario"})
			continue
		}
		if o.SLOMillis != s.SLOMillis {
			// -kc.slo-whoami moved: a step judged on other terms proves nothing about capacity held.
			out = append(out, Change{What: "load", Regression: true,
				Line: fmt.Sprintf("%s SLO p99 %.0f ms -> %.0f ms: judged on other terms", s.Name, o.SLOMillis, s.SLOMillis)})
		}
		if move := relative(o.MaxSustainableRPS, s.MaxSustainableRPS); move != 0 {
			out = append(out, Change{What: "load", Regression: -move > tol.MaxRateDrop,
				Line: fmt.Sprintf("%s max sustainable %.1f/s -> %.1f/s (%+.0f%%, tolerance -%.0f%%)", s.Name, o.MaxSustainableRPS, s.MaxSustainableRPS, move*100, tol.MaxRateDrop*100)})
		}
		if move := relative(o.P99AtFirstMillis, s.P99AtFirstMillis); move != 0 && o.FirstRPS == s.FirstRPS && o.FirstRPS > 0 {
			out = append(out, Change{What: "load", Regression: move > tol.P99Rise,
				Line: fmt.Sprintf("%s p99 at %.4g/s %.1f ms -> %.1f ms (%+.0f%%, tolerance +%.0f%%)", s.Name, s.FirstRPS, o.P99AtFirstMillis, s.P99AtFirstMillis, move*100, tol.P99Rise*100)})
		}
	}
	for _, o := range old.Scenarios {
		if !is[o.Name] {
			out = append(out, Change{What: "load", Regression: true, Line: o.Name + ": missing from the new run (the old one sustained " + fmt.Sprintf("%.1f/s", o.MaxSustainableRPS) + ")"})
		}
	}
	for _, f := range difference(new.Failures, old.Failures) {
		out = append(out, Change{What: "load", Line: "new SLO failure: " + f, Regression: true})
	}
	return out
}

// relative is (new-old)/old, 0 when both are 0; a figure appearing from 0 counts as +100%.
func relative(old, new float64) float64 {
	switch {
	case old == new:
		return 0
	case old == 0:
		return 1
	}
	return (new - old) / old
}

func because(r Requirement) string {
	if r.Reason == "" {
		return ""
	}
	return " (" + r.Reason + ")"
}

// randomParts are what differs in the same finding or failure from run to
// run: the identifiers a run makes up (hex) and measured figures.
var randomParts = []*regexp.Regexp{regexp.MustCompile(`[0-9a-f]{8,}`), regexp.MustCompile(`[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?`)}

// maskVolatile replaces the parts of s that differ from run to run with #.
func maskVolatile(s string) string {
	for _, r := range randomParts {
		s = r.ReplaceAllString(s, "#")
	}
	return s
}

// differentFindings is a's findings that b lacks, compared without the
// parts that differ in every run.
func differentFindings(a, b []string) []string {
	key := maskVolatile
	var keys []string
	for _, s := range b {
		keys = append(keys, key(s))
	}
	var out []string
	for _, s := range a {
		if !slices.Contains(keys, key(s)) {
			out = append(out, s)
		}
	}
	return out
}

// difference is a's entries that b lacks, in a's order.
func difference(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}
