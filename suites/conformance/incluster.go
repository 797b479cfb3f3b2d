package conformance

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"kratos-conformance/harness"
	"kratos-conformance/reports"
)

var _ = Describe("The certification inside the cluster", Label(labelInCluster), Serial, func() {
	It("passes when the suite runs as a Job in Kratos' namespace, as a client inside the cluster", Label(req("INCLUSTER-001")), func(ctx SpecContext) {
		ic, ok := suite.Stack.(harness.InCluster)
		if !ok || ic.SuiteImage() == "" {
			Skip("N/A: no suite image to run in a cluster (-kc.provider=kubernetes -kc.k8s-suite-image=IMAGE, or -kc.provider=kind -kc.kind-in-cluster)")
		}
		dir := filepath.Join(suite.Run.Dir, "in-cluster")
		By("running the suite's image " + ic.SuiteImage() + " in the cluster and copying its report out")
		run, err := ic.RunInCluster(ctx, dir)
		AddReportEntry("in-cluster pod", run.Pod)
		AddReportEntry("in-cluster report", dir+" (log: "+run.Log+")")
		Expect(err).NotTo(HaveOccurred())

		By("reading the verdict of the run inside the cluster")
		raw, err := os.ReadFile(filepath.Join(dir, "summary.json"))
		Expect(err).NotTo(HaveOccurred(), "the pod's report has no summary.json")
		var inner reports.Summary
		Expect(json.Unmarshal(raw, &inner)).To(Succeed())
		AddReportEntry("in-cluster verdict", string(inner.Verdict))
		AddReportEntry("in-cluster admin API", inner.Environment.Components["kratos-admin"])
		Expect(inner.Verdict).To(Equal(reports.Pass), "the certification inside the cluster: %s", strings.Join(append(inner.Reasons, inner.Partial...), "; "))
		Expect(run.ExitCode).To(BeZero(), "the pod's exit code follows the verdict")
	})
})
