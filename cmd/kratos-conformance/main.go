// Command kratos-conformance certifies an Ory Kratos deployment, plans its
// capacity and compares runs: the one binary an operator installs.
//
//	kratos-conformance certify [flags]   the catalogue and the verdict, on any provider
//	kratos-conformance load [flags]      certify, then the capacity workload (-kc.load=capacity unless given)
//	kratos-conformance results [RUN]     a run folder's verdict, failures and figures
//	kratos-conformance diff OLD NEW      what changed between two runs; exit 1 on a regression
//	kratos-conformance cleanup [flags]   what a killed run left, in a namespace or (-kind) on this host
//	kratos-conformance version           the suite's version and commit
//	kratos-conformance help [ginkgo]     this, with every flag by provider (or Ginkgo's own flags)
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"kratos-conformance/harness"
	"kratos-conformance/internal/cli"
	"kratos-conformance/reports"
	"kratos-conformance/suites/conformance"
)

const usage = `kratos-conformance certifies an Ory Kratos deployment, plans its capacity and compares runs.

  kratos-conformance certify [flags]   the catalogue and the verdict, on any provider (default: local processes)
  kratos-conformance load [flags]      certify, then the capacity workload (-kc.load=capacity unless given)
  kratos-conformance results [RUN]     a run folder's verdict, failures and figures (default: the newest run)
  kratos-conformance diff OLD NEW      what changed between two runs; exit 1 on a regression
  kratos-conformance cleanup [flags]   what a killed run left, in a namespace or (-kind) on this host
  kratos-conformance version           the suite's version and commit
  kratos-conformance help [ginkgo]     every flag of certify and load, by provider (or Ginkgo's own)

Exit status: 0 the verdict accepts the run, 1 it does not, 2 the suite could not run (the message says why).
Example: kratos-conformance certify -kc.target=staging.yaml && kratos-conformance results`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(reports.ExitCannotRun)
	}
	cmd, args := os.Args[1], os.Args[2:]
	switch cmd {
	case "certify":
		os.Exit(certify(args))
	case "load":
		if !slices.ContainsFunc(args, isFlag("kc.load", "kc.workload")) {
			args = append([]string{"-kc.load=capacity"}, args...)
		}
		os.Exit(certify(args))
	case "suite":
		// One stack, as certify runs each of its stacks (and a generator pod runs the image).
		os.Exit(conformance.Main(args))
	case "results":
		os.Exit(cli.Results("kratos-conformance results", args, os.Stdout, os.Stderr))
	case "diff":
		os.Exit(cli.Diff("kratos-conformance diff", args, os.Stdout, os.Stderr))
	case "cleanup":
		os.Exit(cli.Cleanup("kratos-conformance cleanup", args, os.Stdout, os.Stderr))
	case "version", "-version", "--version":
		os.Exit(cli.Version(os.Stdout))
	case "help", "-h", "-help", "--help":
		help(os.Stdout, args)
	default:
		fmt.Fprintf(os.Stderr, "kratos-conformance: %q is not a command\n\n%s\n", cmd, usage)
		os.Exit(reports.ExitCannotRun)
	}
}

// certify runs the certification with this binary as its suite; -kc.out
// and -kc.partial are the certification's as much as each stack's.
func certify(args []string) int {
	if slices.ContainsFunc(args, isFlag("h", "help")) {
		help(os.Stdout, nil)
		return 0
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kratos-conformance:", err)
		return reports.ExitCannotRun
	}
	root, _ := harness.RepoRoot() // empty outside a checkout: reports go under the working folder
	return cli.Certify(cli.Certification{Suite: harness.SuiteCommand{self, "suite"}, Root: root, Out: harness.OutDir(root, flagValue(args, "kc.out")),
		Partial: flagValue(args, "kc.partial") == "true", Args: args})
}

// help prints the commands and every suite flag by provider, or Ginkgo's own flags.
func help(w io.Writer, args []string) {
	if slices.Equal(args, []string{"ginkgo"}) {
		fmt.Fprintln(w, "Ginkgo's flags, accepted by certify, load and suite:")
		flag.CommandLine.SetOutput(w)
		ginkgo := flag.NewFlagSet("ginkgo", flag.ContinueOnError)
		flag.CommandLine.VisitAll(func(f *flag.Flag) {
			if strings.HasPrefix(f.Name, "ginkgo.") {
				ginkgo.Var(f.Value, f.Name, f.Usage)
			}
		})
		ginkgo.SetOutput(w)
		ginkgo.PrintDefaults()
		return
	}
	writeHelp(w)
}

// writeHelp is the commands and every suite flag by provider (docs/flags-reference.md).
func writeHelp(w io.Writer) {
	fmt.Fprintln(w, usage)
	conformance.Usage(w)
}

// isFlag matches an argument that gives one of names (-name, --name, -name=value).
func isFlag(names ...string) func(string) bool {
	return func(a string) bool {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		return strings.HasPrefix(a, "-") && slices.Contains(names, name)
	}
}

// flagValue is the value args give -name ("true" for a bare boolean), or "".
func flagValue(args []string, name string) string {
	for i, a := range args {
		if !isFlag(name)(a) {
			continue
		}
		if _, v, ok := strings.Cut(a, "="); ok {
			return v
		}
		if name == "kc.partial" {
			return "true"
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}
