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
