package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"kratos-conformance/harness/provider/kubernetes"
	kindprovider "kratos-conformance/kind/provider"
	"kratos-conformance/reports"
)

// Cleanup removes what a killed run left: in a Kubernetes namespace,
// everything labelled app.kubernetes.io/managed-by=kratos-conformance (by
// default only objects past their deadline, so a live run is never
// disturbed; -all removes every one); with -kind, what a SIGKILLed kind run
// left on this host (the private Docker engine's daemons and containers,
// its network namespace, the host settings kubelet changed).
func Cleanup(name string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file; default $KUBECONFIG or ~/.kube/config")
	kubeContext := fs.String("context", "", "kubeconfig context; default its current one")
	namespace := fs.String("namespace", "", "the namespace the suite ran in; default the context's")
	all := fs.Bool("all", false, "remove every object the suite created, also a live run's")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	kindHost := fs.Bool("kind", false, "remove what a killed kind run left on this host instead")
	if err := fs.Parse(args); err != nil {
		return reports.ExitCannotRun
	}
	if fs.NArg() != 0 {
		return failed(stderr, name, fmt.Errorf("unexpected arguments %v (flags only: -kubeconfig, -context, -namespace, -all, -kind)", fs.Args()))
	}
	if *kindHost {
		if err := kindprovider.SweepKilledRun(); err != nil {
			return failed(stderr, name, err)
		}
		fmt.Fprintf(stdout, "%s: nothing of a killed kind run is left on this host\n", name)
		return 0
	}
	cfg, ns, err := kubernetes.Kubeconfig(*kubeconfig, *kubeContext)
	if err != nil {
		return failed(stderr, name, fmt.Errorf("no usable kubeconfig (-kubeconfig, $KUBECONFIG or ~/.kube/config; -context): %w", err))
	}
	if *namespace == "" {
		*namespace = ns
	}
	cfg.Timeout = *timeout
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	gone, err := kubernetes.Sweep(ctx, cfg, *namespace, *all)
	if len(gone) == 0 {
		fmt.Fprintf(stdout, "%s: nothing of the suite's to remove in namespace %s\n", name, *namespace)
	} else {
		fmt.Fprintf(stdout, "%s: removed in namespace %s: %s\n", name, *namespace, strings.Join(gone, ", "))
	}
	if err != nil {
		return failed(stderr, name, err)
	}
	return 0
}
