// Command kccleanup removes what a killed run left (internal/cli.Cleanup);
// the installed binary's `kratos-conformance cleanup` is the same command.
//
//	kccleanup [-kubeconfig FILE] [-context NAME] [-namespace NS] [-all]
//	kccleanup -kind
package main

import (
	"os"

	"kratos-conformance/internal/cli"
)

func main() { os.Exit(cli.Cleanup("kccleanup", os.Args[1:], os.Stdout, os.Stderr)) }
