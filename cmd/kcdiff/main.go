// Command kcdiff compares two run folders (internal/cli.Diff); the
// installed binary's `kratos-conformance diff` is the same command.
//
//	kcdiff [-max-drop 0.10] [-p99-rise 0.50] [-html FILE] OLD NEW
package main

import (
	"os"

	"kratos-conformance/internal/cli"
)

func main() { os.Exit(cli.Diff("kcdiff", os.Args[1:], os.Stdout, os.Stderr)) }
