package cli

import (
	"fmt"
	"io"

	"kratos-conformance/reports"
)

// Version prints the suite's version, commit and Go, as summary.json records them.
func Version(stdout io.Writer) int {
	s := reports.ThisSuite()
	fmt.Fprintf(stdout, "kratos-conformance %s (commit %s, %s)\n", s.Version, s.Commit, s.Go)
	return 0
}
