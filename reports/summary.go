package reports

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Status is a run's verdict (PASS, PARTIAL, FAIL) or one requirement's or
// check's outcome (PASS, FAIL, N/A, NOT RUN, XFAIL): one word for each, everywhere.
type Status string

// PARTIAL: nothing failed, but not every catalogued requirement was judged
// (a filter, a dry run, or setup that never reached them).
const (
	Pass    Status = "PASS"
	Fail    Status = "FAIL"
	Partial Status = "PARTIAL"
)

// Summary is the machine-readable record of one run.
type Summary struct {
	SchemaVersion int      `json:"schema_version"`
	Suite         Suite    `json:"suite"` // which suite judged the deployment
	RunID         string   `json:"run_id"`
	Verdict       Status   `json:"verdict"`
	Reasons       []string `json:"reasons,omitempty"` // why FAIL, one line each (Decide)
	Partial       []string `json:"partial,omitempty"` // why PARTIAL, one line each (Decide)
	// Problems are what the run found against itself before Decide: a setup
	// that failed, a flaky spec, an expected failure that did not hold.
	Problems []string `json:"problems,omitempty"`
	// CouldNotRun: the suite never judged the deployment (bad flags or target
	// file, unreachable target, missing prerequisite, a stack that never came
	// up); the exit code is then ExitCannotRun, not ExitVerdict.
	CouldNotRun bool `json:"could_not_run,omitempty"`
	// Scope names what a verdict does not cover although every requirement
	// ran, e.g. an upgrade from a version to itself (plumbing only).
	Scope []string `json:"scope,omitempty"`
	// Filters are the Ginkgo selections (label filter, focus, skip, dry run) the run used.
	Filters []string `json:"filters,omitempty"`
	// DryRun: the tree was built and walked, no spec sent a request (PARTIAL at best).
	DryRun      bool        `json:"dry_run,omitempty"`
	StartedAt   time.Time   `json:"started_at"`
	Counts      Counts      `json:"counts"`
	Phases      []Phase     `json:"phases"`
	Environment Environment `json:"environment"`
	Specs       []Spec      `json:"specs"`
	Load        *Load       `json:"load,omitempty"`
	// Requirements is the verdict matrix: one row per requirement id.
	Requirements []Requirement `json:"requirements,omitempty"`
	// Faults are the fault scenarios' figures and findings (-kc.faults).
	Faults []Fault `json:"faults,omitempty"`
	// Warnings are what a passing requirement still flags (e.g. KM-COURIER-002: two couriers); not part of the verdict.
	Warnings []string `json:"warnings,omitempty"`
	// Advisories are settings an auditor would flag (checks.Advisories); not part of the verdict.
	Advisories []Advisory `json:"advisories,omitempty"`
	// ExpectedFailures is the operator's list the run was judged with (-kc.expected-failures).
	ExpectedFailures []ExpectedFailure `json:"expected_failures,omitempty"`
	Files            []string          `json:"files"` // what else is in the run folder: JUnit, logs
}

// Advisory is a setting an auditor would flag although the deployment may
// follow the guide exactly: reported beside the verdict, never part of it.
type Advisory struct {
	Setting string `json:"setting"` // the config path and its effective value
	Risk    string `json:"risk"`
	Source  string `json:"source"`
}

// Counts are spec counts; Total includes skipped and pending specs.
type Counts struct {
	Passed int `json:"passed"`
	// Failed counts the failed specs no expected failure excuses: a CI
	// script may read any number above 0 as a failed certification.
	Failed int `json:"failed"`
	// ExpectedFailed counts the failed specs the expected failures excuse
	// (not part of Failed).
	ExpectedFailed int `json:"expected_failed"`
	Skipped        int `json:"skipped"`
	Pending        int `json:"pending"`
	Total          int `json:"total"`
}

// Phase is one timed stage of the run: build check, stack up, specs, teardown.
type Phase struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// Environment records what was under test.
type Environment struct {
	Provider        string `json:"provider"`
	KratosVersion   string `json:"kratos_version"`
	KratosBinary    string `json:"kratos_binary,omitempty"`
	PostgresVersion string `json:"postgres_version,omitempty"`
	RedisVersion    string `json:"redis_version,omitempty"`
	MailpitVersion  string `json:"mailpit_version,omitempty"`
	Hasher          string `json:"hasher,omitempty"`
	HasherCost      int    `json:"hasher_cost,omitempty"`
	ConfigHash      string `json:"config_hash,omitempty"`
	IdentitySchema  string `json:"identity_schema,omitempty"`
	// Profile is the fixture profile of a config the suite rendered (-kc.profile);
	// empty when the deployment's config is its own.
	Profile  string `json:"config_profile,omitempty"`
	Breakage string `json:"breakage,omitempty"` // the config was broken on purpose (-kc.break)
	// UpgradedFrom is the Kratos version the stack ran before it was upgraded to KratosVersion (-kc.upgrade-from); a path of several as "v1.3.1 -> v25.4.0".
	UpgradedFrom string `json:"upgraded_from,omitempty"`
	// Policy is what findings count as (-kc.policy): guide (warnings) or asvs-l2 (failures).
	Policy string `json:"policy,omitempty"`
	// Components lists each started component and how it runs (command line, image).
	Components map[string]string `json:"components,omitempty"`
	// OwnConfig is the operator's config file a stack the suite started ran
	// (-kc.kratos-config), OwnEnv its environment file; Overlays are every
	// value the stack used in place of theirs, Offline the settings that
	// cannot work on a machine without internet.
	OwnConfig string           `json:"own_config,omitempty"`
	OwnEnv    string           `json:"own_env,omitempty"`
	Overlays  []Overlay        `json:"overlays,omitempty"`
	Offline   []OfflineSetting `json:"offline,omitempty"`
}

// Overlay is one value of an operator's config the stack did not use as
// given: Key (a config key, or "env NAME"), their value (secrets masked),
// the one used, and why the stack owns it.
type Overlay struct {
	Key    string `json:"key"`
	Theirs string `json:"theirs"`
	Used   string `json:"used"`
	Why    string `json:"why"`
}

// OfflineSetting is a setting that needs the internet, named at start-up:
// what it does here and how to change that.
type OfflineSetting struct {
	Setting  string `json:"setting"`
	Effect   string `json:"effect"`
	Override string `json:"override,omitempty"`
}

// Spec is one spec's outcome.
type Spec struct {
	Name    string  `json:"name"`
	State   string  `json:"state"` // passed, failed, skipped, pending, interrupted, ...
	Seconds float64 `json:"seconds"`
	// Attempts above 1 mean the spec was retried (--flake-attempts): a flake, never hidden.
	Attempts int      `json:"attempts"`
	Labels   []string `json:"labels,omitempty"`
	// Requirements are the ids of the spec's req: labels.
	Requirements []string `json:"requirements,omitempty"`
	Failure      string   `json:"failure,omitempty"`
	// Exchanges are a failed spec's last HTTP exchanges, secrets masked.
	Exchanges string `json:"http_exchanges,omitempty"`
	// ExpectedFailure: failed, but every requirement it checks is an operator's unexpired expected failure.
	ExpectedFailure bool `json:"expected_failure,omitempty"`
}

// Requirement is one requirement's verdict over the specs that check it:
// FAIL if any failed, N/A if the target could not show it, else PASS.
type Requirement struct {
	ID     string   `json:"id"`
	Status Status   `json:"status"`
	Specs  []string `json:"specs"`
	Reason string   `json:"reason,omitempty"` // why N/A
}

// Requirement statuses besides Pass and Fail; XFail is in expected.go.
const (
	NA     Status = "N/A"     // the target could not show it; Reason says why
	NotRun Status = "NOT RUN" // catalogued, but no spec of it ran to an outcome
)

// AddRequirement folds one spec's outcome into the matrix.
func (s *Summary) AddRequirement(id string, status Status, spec, reason string) {
	for i := range s.Requirements {
		r := &s.Requirements[i]
		if r.ID != id {
			continue
		}
		r.Specs = append(r.Specs, spec)
		switch {
		case status == Fail || r.Status == Fail:
			r.Status = Fail
		case status == Pass || r.Status == Pass:
			r.Status, r.Reason = Pass, ""
		}
		return
	}
	s.Requirements = append(s.Requirements, Requirement{ID: id, Status: status, Specs: []string{spec}, Reason: reason})
	sort.Slice(s.Requirements, func(i, j int) bool { return s.Requirements[i].ID < s.Requirements[j].ID })
}

// Fault is one fault scenario's record: what was stopped, how long each
// effect took in seconds, and what survived or was lost, in words.
type Fault struct {
	Name      string             `json:"name"`
	Component string             `json:"component,omitempty"` // what was stopped; empty when nothing was
	Figures   map[string]float64 `json:"figures"`
	Findings  []string           `json:"findings"`
}

// Load is the load stage's part of the summary; load.json has the detail.
type Load struct {
	Profile string `json:"profile"`
	// Workload is the sha256 of the workload as parsed (rates, windows,
	// SLOs): two runs of one profile name compare only if it matches.
	Workload  string             `json:"workload_sha256,omitempty"`
	Seconds   float64            `json:"seconds"`
	Scenarios []LoadScenario     `json:"scenarios"`
	Bounds    map[string]float64 `json:"bounds"`
	Ratios    map[string]float64 `json:"ratios,omitempty"`
	// GeneratorCPUShare is the generator's share of the machine at whoami-token's highest passing step.
	GeneratorCPUShare float64  `json:"generator_cpu_share_at_whoami_max"` // load.json's name
	Failures          []string `json:"slo_failures,omitempty"`
	Report            string   `json:"report"` // the HTML page with plots, in the run folder
}

// LoadScenario is one scenario's headline figures.
type LoadScenario struct {
	Name              string  `json:"name"`
	MaxSustainableRPS float64 `json:"max_sustainable_rps"`
	P99AtMaxMillis    float64 `json:"p99_at_max_ms"`
	KneeRPS           float64 `json:"knee_rps"`
	SLOMillis         float64 `json:"slo_p99_ms"`
	Steps             int     `json:"steps"`
	// FirstRPS is the workload's first step, the same rate in every run of
	// that workload: its p99 compares runs like for like (p99 at the max
	// sits near the SLO by construction).
	FirstRPS         float64 `json:"first_step_rps"`
	P99AtFirstMillis float64 `json:"p99_at_first_step_ms"`
	// LimitedBy is what ran out above the max (load.json has the evidence).
	LimitedBy string `json:"limited_by,omitempty"`
}

// Decide judges the run against the catalogue (every requirement id of
// docs/requirements.md): FAIL for any problem, failed spec or failed
// requirement; else PARTIAL when a filter was used or a catalogued
// requirement has no outcome (it gets a NOT RUN row saying why); else PASS.
// It derives Reasons and Partial afresh, so it may run again after Merge.
func (s *Summary) Decide(catalogue []string) {
	s.Reasons = slices.Clone(s.Problems)
	if n := s.Counts.Failed; n > 0 {
		s.Reasons = append(s.Reasons, fmt.Sprintf("%d spec(s) failed", n))
	}
	var failed []string
	for _, r := range s.Requirements {
		if r.Status == Fail {
			failed = append(failed, r.ID)
		}
	}
	if len(failed) > 0 {
		s.Reasons = append(s.Reasons, "failed requirements: "+strings.Join(failed, ", "))
	}
	if s.Counts.Passed == 0 && !s.DryRun && !s.CouldNotRun {
		s.Reasons = append(s.Reasons, "no spec passed")
	}
	why := "no spec of it reached an outcome (setup failed, or the run was interrupted)"
	if len(s.Filters) > 0 {
		why = "filtered out (" + strings.Join(s.Filters, "; ") + ")"
	}
	var notRun []string
	for _, id := range catalogue {
		switch r := s.requirement(id); {
		case r == nil:
			s.Requirements = append(s.Requirements, Requirement{ID: id, Status: NotRun, Reason: why})
			notRun = append(notRun, id)
		case r.Status == NotRun:
			notRun = append(notRun, id)
		}
	}
	sort.Slice(s.Requirements, func(i, j int) bool { return s.Requirements[i].ID < s.Requirements[j].ID })
	s.Partial = nil
	if len(s.Filters) > 0 {
		s.Partial = append(s.Partial, "a partial run: "+strings.Join(s.Filters, "; "))
	}
	if len(notRun) > 0 {
		listed := notRun
		if len(listed) > 8 {
			listed = append(slices.Clone(notRun[:8]), fmt.Sprintf("and %d more (see the matrix)", len(notRun)-8))
		}
		s.Partial = append(s.Partial, fmt.Sprintf("%d of %d catalogued requirements not run: %s", len(notRun), len(catalogue), strings.Join(listed, ", ")))
	}
	switch {
	case len(s.Reasons) > 0:
		s.Verdict = Fail
	case len(s.Partial) > 0:
		s.Verdict = Partial
	default:
		s.Verdict = Pass
	}
}

// Write puts summary.json and summary.md into dir and lists dir's files in both.
func (s *Summary) Write(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	s.Files = nil
	for _, e := range entries {
		if n := e.Name(); n != "summary.json" && n != "summary.md" {
			s.Files = append(s.Files, n)
		}
	}
	sort.Strings(s.Files)
	s.SchemaVersion = SchemaVersion
	if s.Suite.Commit == "" {
		s.Suite = ThisSuite()
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "summary.md"), []byte(s.Markdown()), 0o644)
}

// Tally is the counts told one way everywhere: failures the expected-failures
// list excused are XFAIL, not failed (Ginkgo's own tally counts them failed).
func (c Counts) Tally() string {
	t := fmt.Sprintf("%d passed, %d failed", c.Passed, c.Failed)
	if c.ExpectedFailed > 0 {
		t += fmt.Sprintf(", %d expected failures (XFAIL)", c.ExpectedFailed)
	}
	return t + fmt.Sprintf(", %d skipped", c.Skipped)
}

// Headline is the verdict as the last line of a run says it: a run that
// never judged the deployment COULD NOT RUN, whatever its empty matrix reads.
func (s *Summary) Headline() string {
	if s.CouldNotRun {
		return "COULD NOT RUN"
	}
	h := string(s.Verdict)
	if xfail := s.withStatus(XFail); len(xfail) > 0 {
		// Named, so nobody reads a security row excused here as absent.
		h += fmt.Sprintf(" with %d expected failure(s) (%s)", len(xfail), strings.Join(xfail, ", "))
	}
	if len(s.Scope) > 0 {
		h += ", " + strings.Join(s.Scope, "; ")
	}
	return h
}

// withStatus lists the ids of the requirements with status st.
func (s *Summary) withStatus(st Status) []string {
	var ids []string
	for _, r := range s.Requirements {
		if r.Status == st {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// FailedRequirements are the failed requirements, each with the first line
// of the failure of a spec that failed it: the last lines a reader of a FAIL sees.
func (s *Summary) FailedRequirements() []string {
	why := map[string]string{}
	for _, sp := range s.Specs {
		if sp.Failure != "" && !sp.ExpectedFailure {
			for _, id := range sp.Requirements {
				if why[id] == "" {
					why[id] = headline(sp.Failure)
				}
			}
		}
	}
	var out []string
	for _, r := range s.Requirements {
		if r.Status == Fail {
			out = append(out, fmt.Sprintf("%s: %s", r.ID, cmp.Or(why[r.ID], r.Reason, "failed")))
		}
	}
	return out
}

// sourceLine is the file:line a recorded failure starts with.
var sourceLine = regexp.MustCompile(`^\S+\.go:\d+$`)

// headline is a failure's first line that says something: not its source
// location, and Gomega's "Unexpected error:" joined with the line after it.
func headline(failure string) string {
	var lines []string
	for _, l := range strings.Split(failure, "\n") {
		if l = strings.TrimSpace(l); l != "" && !sourceLine.MatchString(l) {
			lines = append(lines, l)
		}
	}
	switch {
	case len(lines) == 0:
		return ""
	case strings.HasSuffix(lines[0], ":") && len(lines) > 1:
		return lines[0] + " " + lines[1]
	}
	return lines[0]
}
