// Command kccertify is one certification (internal/cli.Certify) with the
// compiled suite, bin/kratos-conformance; the installed binary's
// `kratos-conformance certify` is the same certification.
//
//	kccertify [-out DIR] [-partial] -- <suite flags: -kc.* and -ginkgo.*>
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"kratos-conformance/harness"
	"kratos-conformance/internal/cli"
	"kratos-conformance/reports"
)

func main() {
	out := flag.String("out", "", "parent of the run folders; default <repo>/reports/out")
	partial := flag.Bool("partial", false, "accept a PARTIAL verdict with exit 0 (a filtered certification)")
	flag.Parse()
	root, err := harness.RepoRoot()
	if err != nil {
		fail(err)
	}
	suite, err := harness.CompiledSuite(root)
	if err != nil {
		fail(err)
	}
	if *out == "" {
		*out = filepath.Join(root, "reports", "out")
	}
	os.Exit(cli.Certify(cli.Certification{Suite: suite, Root: root, Out: *out, Partial: *partial, Args: flag.Args()}))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kccertify:", err)
	os.Exit(reports.ExitCannotRun)
}
