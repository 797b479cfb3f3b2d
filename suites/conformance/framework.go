package conformance

import (
	"flag"
	"slices"
	"sync"

	. "github.com/onsi/ginkgo/v2"

	"kratos-conformance/harness/client/kratosflow"

	"kratos-conformance/harness"
	"kratos-conformance/harness/identityschema"
	"kratos-conformance/load"
	"kratos-conformance/reports"
	"kratos-conformance/suites/framework"
)

// Suite is what every spec of one run shares (like the Kubernetes e2e
// Framework): the flags, and what the suite's setup brought up and learned.
// Specs read it; only the suite's own nodes (setup, load stage, report) write it.
type Suite struct {
	// Config is the suite's one flag block (prefix kc., env KC_*), see harness.RegisterFlags.
	Config harness.Config
	// Intervals are Config's named timeouts, every wait's bound.
	Intervals harness.Intervals
	// Run is the run's report folder.
	Run       *reports.Run
	Stack     harness.Stack
	Endpoints harness.Endpoints
	Env       harness.Environment
	// Schema is the deployment's identity schema, read from the deployment:
	// every identity a spec makes fits it.
	Schema *identityschema.Schema
	// SampleHash is a password hash the deployment made (probeHasher).
	SampleHash string
	// Expected is the operator's list of known failures (-kc.expected-failures).
	Expected []reports.ExpectedFailure
	// SetupProblems are what setup found wrong without stopping: each fails the run.
	SetupProblems []string
	Phases        []reports.Phase
	// Upgrade is what the old Kratos made before the stack was upgraded (-kc.upgrade-from); nil otherwise.
	Upgrade *upgradeData
	// JudgedEarly is a failure of the deployment found before the specs
	// (a failed upgrade, a certificate that fails verification); nil otherwise.
	JudgedEarly *judgedEarly
	// Workload is -kc.load's workload, read once at start-up; nil: -kc.load=off.
	Workload *load.Profile
	// LoadResult is the load stage's figures. (Warnings and fault records
	// are report entries: warn, recordFault.)
	LoadResult *load.Result
	// Advisories are the deployment's settings an auditor would flag (its config, read after stack up).
	Advisories []reports.Advisory
	// BadInput: a flag or file the suite was given is wrong; it never ran (exit ExitCannotRun).
	BadInput bool
	// Final is the summary ReportAfterSuite decided; the exit status follows it.
	Final *reports.Summary
	// Exchanges records the running spec's HTTP exchanges, through every
	// agent the helpers make (newBrowser, newNative, newAdmin); a failed
	// spec's report gets the last ones: what was asked and answered.
	Exchanges *kratosflow.Recorder
	// Made are the login identifiers of every person the run made up, so
	// deleteRegistered can find what the specs registered on a live deployment.
	Made struct {
		sync.Mutex
		list []string
	}
}

// recordedExchanges is how many a failed spec's report shows.
const recordedExchanges = 20

var _ = BeforeEach(func() { suite.Exchanges = kratosflow.NewRecorder(recordedExchanges) })

// judgedEarly is a failure of the deployment itself found in setup: the
// run judged it (FAIL, exit 1), it did not fail to run (exit 2). The
// requirements it breaks fail with it; every other spec is not run, since
// nothing can be judged on a stack in that state.
type judgedEarly struct {
	breaks func(requirement string) bool
	why    string
}

var _ = BeforeEach(func() {
	j := suite.JudgedEarly
	if j == nil {
		return
	}
	if slices.ContainsFunc(framework.RequirementIDs(CurrentSpecReport()), j.breaks) {
		Fail(j.why)
	}
	Skip("not run: " + j.why)
})

var _ = AfterEach(func() {
	if CurrentSpecReport().Failed() && suite.Exchanges != nil {
		AddReportEntry(framework.ExchangesEntry, suite.Exchanges.String())
	}
})

// suite is the run's one Suite.
var suite = &Suite{Config: harness.DefaultConfig()}

func init() { harness.RegisterFlags(flag.CommandLine, &suite.Config) }
