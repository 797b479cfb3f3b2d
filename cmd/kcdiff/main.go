// Command kcdiff compares two run folders, what a release pipeline does
// against its last good build: requirements that changed outcome, findings
// and advisories new or gone, and load figures that moved beyond a
// tolerance. It writes an HTML page with both runs' load curves and exits 1
// on a regression, 2 when a folder cannot be read.
//
//	kcdiff [-max-drop 0.10] [-p99-rise 0.50] [-html FILE] OLD NEW
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"kratos-conformance/load"
	"kratos-conformance/reports"
)

func main() {
	tol := reports.DefaultTolerance
	flag.Float64Var(&tol.MaxRateDrop, "max-drop", tol.MaxRateDrop, "a max sustainable rate lower by more than this share is a regression")
	flag.Float64Var(&tol.P99Rise, "p99-rise", tol.P99Rise, "a p99 at the workload's first step (the same rate in both runs) higher by more than this share is a regression")
	html := flag.String("html", "", "where to write the load comparison page; default NEW/diff.html")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: kcdiff [flags] OLD NEW   (two run folders, e.g. reports/out/<id>)")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(reports.ExitCannotRun)
	}
	oldDir, newDir := flag.Arg(0), flag.Arg(1)
	old, err := reports.ReadSummary(oldDir)
	if err != nil {
		fail(err)
	}
	new, err := reports.ReadSummary(newDir)
	if err != nil {
		fail(err)
	}
	c := reports.Compare(old, new, tol)
	fmt.Print(c.Text())

	oldLoad, oldErr := load.ReadResult(oldDir)
	newLoad, newErr := load.ReadResult(newDir)
	if oldErr == nil && newErr == nil {
		if *html == "" {
			*html = filepath.Join(newDir, "diff.html")
		}
		if err := load.WriteComparison(*html, old.RunID, oldLoad, new.RunID, newLoad); err != nil {
			fail(err)
		}
		fmt.Println("load curves of both runs:", *html)
	}
	if c.Regressed() {
		os.Exit(reports.ExitVerdict)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kcdiff:", err)
	os.Exit(reports.ExitCannotRun)
}
