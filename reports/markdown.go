package reports

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Markdown renders the summary for people and CI job summaries, one
// section after another; the data and the verdict stay in summary.go.
func (s *Summary) Markdown() string {
	var b strings.Builder
	for _, section := range []func(*strings.Builder, *Summary){
		mdVerdict, mdPhases, mdEnvironment, mdOwnConfig, mdLoad, mdWarnings, mdAdvisories,
		mdFaults, mdRequirements, mdFailures, mdSpecs, mdFiles,
	} {
		section(&b, s)
	}
	return b.String()
}

// mdTable writes a Markdown table: a header row, its rule, then rows.
func mdTable(b *strings.Builder, heads []string, rows [][]string) {
	fmt.Fprintf(b, "| %s |\n|%s\n", strings.Join(heads, " | "), strings.Repeat("---|", len(heads)))
	for _, r := range rows {
		fmt.Fprintf(b, "| %s |\n", strings.Join(r, " | "))
	}
}

func mdVerdict(b *strings.Builder, s *Summary) {
	fmt.Fprintf(b, "# Kratos conformance: %s\n\n", s.Headline())
	fmt.Fprintf(b, "Run `%s`, started %s, judged by kratos-conformance %s (commit %s, %s).\n\n",
		s.RunID, s.StartedAt.Format(time.RFC3339), s.Suite.Version, s.Suite.Commit, s.Suite.Go)
	for _, r := range append(slices.Clone(s.Reasons), s.Partial...) {
		fmt.Fprintf(b, "- %s\n", r)
	}
	if len(s.Reasons)+len(s.Partial) > 0 {
		b.WriteString("\n")
	}
	c := s.Counts
	mdTable(b, []string{"passed", "failed", "expected failures", "skipped", "pending", "total"},
		[][]string{{fmt.Sprint(c.Passed), fmt.Sprint(c.Failed), fmt.Sprint(c.ExpectedFailed), fmt.Sprint(c.Skipped), fmt.Sprint(c.Pending), fmt.Sprint(c.Total)}})
	b.WriteString("\n")
}

func mdPhases(b *strings.Builder, s *Summary) {
	b.WriteString("## Phases\n\n")
	var rows [][]string
	for _, p := range s.Phases {
		rows = append(rows, []string{p.Name, fmt.Sprintf("%.1f", p.Seconds)})
	}
	mdTable(b, []string{"phase", "seconds"}, rows)
}

func mdEnvironment(b *strings.Builder, s *Summary) {
	e := s.Environment
	b.WriteString("\n## Environment\n\n")
	var rows [][]string
	for _, row := range [][2]string{
		{"provider", e.Provider}, {"Kratos", e.KratosVersion}, {"Kratos binary", e.KratosBinary},
		{"Postgres", e.PostgresVersion}, {"Redis", e.RedisVersion}, {"Mailpit", e.MailpitVersion},
		{"hasher", fmt.Sprintf("%s (cost %d)", e.Hasher, e.HasherCost)}, {"config hash", e.ConfigHash}, {"identity schema", e.IdentitySchema},
		{"config profile", e.Profile}, {"broken on purpose", e.Breakage}, {"upgraded from", e.UpgradedFrom}, {"policy", e.Policy},
		{"operator's config", e.OwnConfig}, {"operator's environment", e.OwnEnv},
	} {
		if row[1] != "" {
			rows = append(rows, []string{row[0], "`" + row[1] + "`"})
		}
	}
	mdTable(b, []string{"what", "value"}, rows)
}

// mdOwnConfig lists, for a run of an operator's config, every value the
// stack did not take from it and every setting that needs the internet.
func mdOwnConfig(b *strings.Builder, s *Summary) {
	e := s.Environment
	if len(e.Overlays) > 0 {
		b.WriteString("\n## Overlays: what the stack did not take from the operator's config\n\n")
		var rows [][]string
		for _, o := range e.Overlays {
			rows = append(rows, []string{"`" + o.Key + "`", "`" + o.Theirs + "`", "`" + o.Used + "`", o.Why})
		}
		mdTable(b, []string{"key", "theirs", "used", "why"}, rows)
	}
	if len(e.Offline) > 0 {
		b.WriteString("\n## Settings that need the internet (named at start-up)\n\n")
		var rows [][]string
		for _, o := range e.Offline {
			rows = append(rows, []string{"`" + o.Setting + "`", o.Effect, o.Override})
		}
		mdTable(b, []string{"setting", "here", "to change it"}, rows)
	}
}

func mdLoad(b *strings.Builder, s *Summary) {
	l := s.Load
	if l == nil {
		return
	}
	fmt.Fprintf(b, "\n## Load (%s profile, %.0f s; plots in `%s`)\n\n", l.Profile, l.Seconds, l.Report)
	var rows [][]string
	for _, sc := range l.Scenarios {
		rows = append(rows, []string{sc.Name, fmt.Sprintf("%.1f", sc.MaxSustainableRPS), fmt.Sprintf("%.1f", sc.P99AtMaxMillis),
			fmt.Sprintf("%.1f", sc.KneeRPS), fmt.Sprintf("%.0f", sc.SLOMillis), fmt.Sprint(sc.Steps), sc.LimitedBy})
	}
	mdTable(b, []string{"scenario", "max sustainable req/s", "p99 there (ms)", "knee req/s", "SLO p99 (ms)", "steps", "limited by"}, rows)
	b.WriteString("\n")
	for _, m := range []map[string]float64{l.Bounds, l.Ratios} {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			fmt.Fprintf(b, "- %s: %.3g\n", k, m[k])
		}
	}
	fmt.Fprintf(b, "- generator CPU share at whoami-token max: %.1f%%\n", l.GeneratorCPUShare*100)
	for _, f := range l.Failures {
		fmt.Fprintf(b, "- **SLO failure**: %s\n", f)
	}
}

func mdWarnings(b *strings.Builder, s *Summary) {
	if len(s.Warnings) == 0 {
		return
	}
	b.WriteString("\n## Warnings (not part of the verdict)\n\n")
	for _, w := range s.Warnings {
		fmt.Fprintf(b, "- %s\n", w)
	}
}

func mdAdvisories(b *strings.Builder, s *Summary) {
	if len(s.Advisories) == 0 {
		return
	}
	b.WriteString("\n## Advisories (settings an auditor would flag; not part of the verdict)\n\n")
	var rows [][]string
	for _, a := range s.Advisories {
		rows = append(rows, []string{"`" + a.Setting + "`", a.Risk, a.Source})
	}
	mdTable(b, []string{"setting", "risk", "source"}, rows)
}

func mdFaults(b *strings.Builder, s *Summary) {
	if len(s.Faults) == 0 {
		return
	}
	b.WriteString("\n## Faults\n")
	for _, f := range s.Faults {
		if f.Component != "" {
			fmt.Fprintf(b, "\n### %s (`%s` stopped)\n\n", f.Name, f.Component)
		} else {
			fmt.Fprintf(b, "\n### %s\n\n", f.Name)
		}
		for _, k := range slices.Sorted(maps.Keys(f.Figures)) {
			fmt.Fprintf(b, "- %s: %.3g\n", k, f.Figures[k])
		}
		for _, line := range f.Findings {
			fmt.Fprintf(b, "- %s\n", line)
		}
	}
}

func mdRequirements(b *strings.Builder, s *Summary) {
	if len(s.Requirements) == 0 {
		return
	}
	b.WriteString("\n## Requirements\n\n")
	var rows [][]string
	for _, r := range s.Requirements {
		verdict := string(r.Status)
		if r.Reason != "" {
			verdict += " (" + r.Reason + ")"
		}
		rows = append(rows, []string{r.ID, verdict, fmt.Sprint(len(r.Specs))})
	}
	mdTable(b, []string{"requirement", "verdict", "specs"}, rows)
}

func mdFailures(b *strings.Builder, s *Summary) {
	var failed []Spec
	for _, sp := range s.Specs {
		if sp.Failure != "" {
			failed = append(failed, sp)
		}
	}
	if len(failed) == 0 {
		return
	}
	b.WriteString("\n## Failures\n\n")
	for _, sp := range failed {
		state := sp.State
		if sp.ExpectedFailure {
			state += ", an expected failure"
		}
		fmt.Fprintf(b, "### %s (%s)\n\n```\n%s\n```\n\n", sp.Name, state, strings.TrimSpace(sp.Failure))
		if sp.Exchanges != "" {
			fmt.Fprintf(b, "Its last HTTP exchanges (secrets masked):\n\n```\n%s\n```\n\n", strings.TrimSpace(sp.Exchanges))
		}
	}
}

func mdSpecs(b *strings.Builder, s *Summary) {
	b.WriteString("\n## Specs\n\n")
	var rows [][]string
	for _, sp := range s.Specs {
		rows = append(rows, []string{sp.Name, sp.State, fmt.Sprintf("%.2f", sp.Seconds)})
	}
	mdTable(b, []string{"spec", "state", "seconds"}, rows)
}

func mdFiles(b *strings.Builder, s *Summary) {
	if len(s.Files) == 0 {
		return
	}
	b.WriteString("\n## Files in this run folder\n\n")
	for _, f := range s.Files {
		fmt.Fprintf(b, "- `%s`\n", f)
	}
}
