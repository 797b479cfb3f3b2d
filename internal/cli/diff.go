// Package cli holds the suite's commands (certify, diff, results, cleanup,
// version) as functions of their arguments, so the one installable binary
// (cmd/kratos-conformance) and the development tools (cmd/kc*) share them.
package cli

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"kratos-conformance/load"
	"kratos-conformance/reports"
)

// Diff compares two run folders, what a release pipeline does against its
// last good build: requirements that changed outcome, findings and
// advisories new or gone, load figures that moved beyond a tolerance. It
// writes an HTML page with both runs' load curves; exit 1 on a regression,
// 2 when a folder cannot be read.
func Diff(name string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	tol := reports.DefaultTolerance
	fs.Float64Var(&tol.MaxRateDrop, "max-drop", tol.MaxRateDrop, "a max sustainable rate lower by more than this share is a regression")
	fs.Float64Var(&tol.P99Rise, "p99-rise", tol.P99Rise, "a p99 at the workload's first step (the same rate in both runs) higher by more than this share is a regression")
	html := fs.String("html", "", "where to write the load comparison page; default NEW/diff.html")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s [flags] OLD NEW   (two run folders, e.g. reports/out/<id>)\n", name)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() != 2 {
		if err == nil {
			fs.Usage()
		}
		return reports.ExitCannotRun
	}
	oldDir, newDir := fs.Arg(0), fs.Arg(1)
	old, err := reports.ReadSummary(oldDir)
	if err != nil {
		return failed(stderr, name, err)
	}
	new, err := reports.ReadSummary(newDir)
	if err != nil {
		return failed(stderr, name, err)
	}
	c := reports.Compare(old, new, tol)
	fmt.Fprint(stdout, c.Text())
	oldLoad, oldErr := load.ReadResult(oldDir)
	newLoad, newErr := load.ReadResult(newDir)
	if oldErr == nil && newErr == nil {
		if *html == "" {
			*html = filepath.Join(newDir, "diff.html")
		}
		if err := load.WriteComparison(*html, old.RunID, oldLoad, new.RunID, newLoad); err != nil {
			return failed(stderr, name, err)
		}
		fmt.Fprintln(stdout, "load curves of both runs:", *html)
	}
	if c.Regressed() {
		return reports.ExitVerdict
	}
	return 0
}

// failed says why a command could not do its work: exit 2.
func failed(stderr io.Writer, name string, err error) int {
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	return reports.ExitCannotRun
}
