package conformance

import (
	"os"
	"testing"

	// The ginkgo CLI runs a package as a Ginkgo suite, passing it its flags
	// (--label-filter, --focus), only when one of its _test.go files imports
	// Ginkgo; without this it ran every spec of make faults' filtered runs.
	_ "github.com/onsi/ginkgo/v2"

	"kratos-conformance/harness/provider/kubernetes"
	"kratos-conformance/reports"
	"kratos-conformance/suites/framework"
)

// TestMain runs the binary as a load generator when a generator pod starts
// it (the suite's image, -kc.load-generators), else the suite (Run).
func TestMain(m *testing.M) {
	if code, ok := kubernetes.GeneratorMain(); ok {
		os.Exit(code)
	}
	if code, refused := refuseUnknownFlags(os.Args[1:]); refused {
		os.Exit(code)
	}
	code := m.Run()
	if suite.Final != nil {
		// After Ginkgo's own tally, which counts expected failures as failed: the verdict is the last word.
		framework.PrintVerdict(os.Stdout, suite.Final, judging())
	}
	if code != 0 && (suite.BadInput || suite.Final != nil && suite.Final.CouldNotRun) {
		code = reports.ExitCannotRun
	}
	os.Exit(code)
}

func TestConformance(t *testing.T) {
	if Run() != 0 {
		t.Fail()
	}
}
