package reports

import (
	"strings"
	"testing"
)

func TestCompareFlagsRegressionsAndIgnoresNoise(t *testing.T) {
	run := func(id string, verdict Status, rate, p99 float64, reqs ...Requirement) *Summary {
		return &Summary{RunID: id, Verdict: verdict, Requirements: reqs,
			Warnings: []string{"SEC-INPUT-003: FINDING: the variant glyph-" + id + "deadbeef00@x separate, after 12 tries"},
			Load:     &Load{Profile: "capacity", Scenarios: []LoadScenario{{Name: "login", MaxSustainableRPS: rate, FirstRPS: 2, P99AtFirstMillis: p99}}}}
	}
	old := run("a", Pass, 7.5, 300, Requirement{ID: "SEC-SES-001", Status: Pass}, Requirement{ID: "EXP-001", Status: NA})

	same := Compare(old, run("b", Pass, 7.0, 320, Requirement{ID: "SEC-SES-001", Status: Pass}, Requirement{ID: "EXP-001", Status: NA}), DefaultTolerance)
	if same.Regressed() {
		t.Errorf("a move within tolerance and a finding differing only in its made-up identifier and figures are no regression:\n%s", same.Text())
	}
	for _, ch := range same.Changes {
		if ch.What == "finding" {
			t.Errorf("the same finding with another identifier reported as changed: %s", ch.Line)
		}
	}

	cases := map[string]*Summary{
		"a requirement PASS -> FAIL":         run("c", Fail, 7.5, 300, Requirement{ID: "SEC-SES-001", Status: Fail}, Requirement{ID: "EXP-001", Status: NA}),
		"max rate down 47% (bcrypt cost 13)": run("d", Pass, 4.0, 300, Requirement{ID: "SEC-SES-001", Status: Pass}, Requirement{ID: "EXP-001", Status: NA}),
		"p99 at the first step doubled":      run("e", Pass, 7.5, 600, Requirement{ID: "SEC-SES-001", Status: Pass}, Requirement{ID: "EXP-001", Status: NA}),
	}
	for name, new := range cases {
		if c := Compare(old, new, DefaultTolerance); !c.Regressed() {
			t.Errorf("%s: no regression found:\n%s", name, c.Text())
		} else if !strings.Contains(c.Text(), "! ") {
			t.Errorf("%s: the regression is not marked:\n%s", name, c.Text())
		}
	}

	noLoad := run("f", Pass, 0, 0, Requirement{ID: "SEC-SES-001", Status: Pass}, Requirement{ID: "EXP-001", Status: NA})
	noLoad.Load = nil
	if c := Compare(old, noLoad, DefaultTolerance); !c.Regressed() {
		t.Errorf("a new run without load figures cannot show capacity held:\n%s", c.Text())
	}
}

// Review of kcdiff (issue 30): a requirement that stops passing, a new
// finding, a scenario that vanished and a load judged on other terms each
// stop a release; a requirement that starts passing does not.
func TestCompareRegressionsThatSlippedThrough(t *testing.T) {
	base := func() *Summary {
		return &Summary{RunID: "old", Verdict: Pass,
			Requirements: []Requirement{{ID: "CL-ADMIN-001", Status: Pass}, {ID: "EXP-001", Status: NA}, {ID: "SEC-MFA-001", Status: XFail}},
			Load: &Load{Profile: "smoke", Workload: "aaaa", Scenarios: []LoadScenario{
				{Name: "whoami-token", MaxSustainableRPS: 50, SLOMillis: 50, FirstRPS: 50, P99AtFirstMillis: 9},
				{Name: "login", MaxSustainableRPS: 2, SLOMillis: 1000, FirstRPS: 2, P99AtFirstMillis: 280}}}}
	}
	regressions := map[string]func(s *Summary){
		"PASS -> N/A":                     func(s *Summary) { s.Requirements[0].Status = NA },
		"PASS -> XFAIL":                   func(s *Summary) { s.Requirements[0].Status = XFail },
		"N/A -> XFAIL":                    func(s *Summary) { s.Requirements[1].Status = XFail },
		"a new finding":                   func(s *Summary) { s.Warnings = []string{"SEC-AUTH-001: FINDING: 20 wrong passwords, no throttling"} },
		"a scenario missing":              func(s *Summary) { s.Load.Scenarios = s.Load.Scenarios[:1] },
		"an SLO changed":                  func(s *Summary) { s.Load.Scenarios[0].SLOMillis = 100 },
		"the workload changed":            func(s *Summary) { s.Load.Workload = "bbbb" },
		"a new requirement NOT RUN":       func(s *Summary) { s.Requirements = append(s.Requirements, Requirement{ID: "NEW-001", Status: NotRun}) },
		"judged under guide, was asvs-l2": func(s *Summary) {},
	}
	for name, change := range regressions {
		old, new := base(), base()
		new.RunID = "new"
		change(new)
		if name == "judged under guide, was asvs-l2" {
			old.Environment.Policy, new.Environment.Policy = "asvs-l2", "guide"
		}
		if c := Compare(old, new, DefaultTolerance); !c.Regressed() {
			t.Errorf("%s: not a regression:\n%s", name, c.Text())
		}
	}
	improvements := map[string]func(s *Summary){
		"N/A -> PASS":    func(s *Summary) { s.Requirements[1].Status = Pass },
		"XFAIL -> PASS":  func(s *Summary) { s.Requirements[2].Status = Pass },
		"a finding gone": func(s *Summary) {},
	}
	for name, change := range improvements {
		old, new := base(), base()
		old.Warnings = []string{"SEC-AUTH-001: FINDING: 20 wrong passwords, no throttling"}
		if name != "a finding gone" {
			new.Warnings = old.Warnings
		}
		change(new)
		if c := Compare(old, new, DefaultTolerance); c.Regressed() {
			t.Errorf("%s: reported as a regression:\n%s", name, c.Text())
		}
	}
}
