// Command kccleanup removes what the suite created in a Kubernetes
// namespace (the in-cluster run's Job or Pod, its ServiceAccount, Role and
// RoleBinding, the load generators' Jobs and ConfigMaps: everything labelled
// app.kubernetes.io/managed-by=kratos-conformance) that a killed run left.
// By default only objects past their deadline, so a live run is never
// disturbed; -all removes every one. The next kubernetes-provider run that
// creates objects sweeps the same way by itself. With -kind it removes
// instead what a SIGKILLed kind run left on this host (the private Docker
// engine's daemons and containers, its network namespace, the host
// settings kubelet changed), as the next kind run would.
//
//	kccleanup [-kubeconfig FILE] [-context NAME] [-namespace NS] [-all]
//	kccleanup -kind
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"kratos-conformance/harness/provider/kind"
	"kratos-conformance/harness/provider/kubernetes"
	"kratos-conformance/reports"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig file; default $KUBECONFIG or ~/.kube/config")
	kubeContext := flag.String("context", "", "kubeconfig context; default its current one")
	namespace := flag.String("namespace", "", "the namespace the suite ran in; default the context's")
	all := flag.Bool("all", false, "remove every object the suite created, also a live run's")
	timeout := flag.Duration("timeout", time.Minute, "give up after this long")
	kindHost := flag.Bool("kind", false, "remove what a killed kind run left on this host instead")
	flag.Parse()
	if flag.NArg() != 0 {
		fail(fmt.Errorf("unexpected arguments %v (flags only: -kubeconfig, -context, -namespace, -all, -kind)", flag.Args()))
	}
	if *kindHost {
		if err := kind.SweepKilledRun(); err != nil {
			fail(err)
		}
		fmt.Println("kccleanup: nothing of a killed kind run is left on this host")
		return
	}
	cfg, ns, err := kubernetes.Kubeconfig(*kubeconfig, *kubeContext)
	if err != nil {
		fail(fmt.Errorf("no usable kubeconfig (-kubeconfig, $KUBECONFIG or ~/.kube/config; -context): %w", err))
	}
	if *namespace == "" {
		*namespace = ns
	}
	cfg.Timeout = *timeout
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	gone, err := kubernetes.Sweep(ctx, cfg, *namespace, *all)
	if len(gone) == 0 {
		fmt.Printf("kccleanup: nothing of the suite's to remove in namespace %s\n", *namespace)
	} else {
		fmt.Printf("kccleanup: removed in namespace %s: %s\n", *namespace, strings.Join(gone, ", "))
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kccleanup:", err)
	os.Exit(reports.ExitCannotRun)
}
