package conformance

import (
	"time"

	. "github.com/onsi/ginkgo/v2"

	"kratos-conformance/reports"
	"kratos-conformance/suites/framework"
)

// summarize turns Ginkgo's report and the suite's setup into the run's summary and verdict.
func summarize(r Report) *reports.Summary {
	env := suite.Env
	env.Provider = suite.Config.Provider // also when setup failed before the provider said
	env.Policy = suite.Config.Policy
	setup := framework.Setup{RunID: suite.Run.ID, StartedAt: suite.Run.StartedAt, Environment: env,
		Problems: suite.SetupProblems, Phases: suite.Phases, Advisories: suite.Advisories}
	s := framework.Summarize(r, setup)
	s.Load = loadSummary()
	addLoadRequirements(s)
	if !r.SuiteConfig.DryRun {
		addLogRequirement(s)
	}
	s.Scope = upgradeScope()
	s.ApplyExpectedFailures(suite.Expected, catalogue, suite.Env.KratosVersion, time.Now())
	s.Decide(catalogue)
	return s
}
