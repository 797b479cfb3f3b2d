// Package kubernetes is the provider for a Kratos that already runs in a
// cluster, deployed by the guide's manifests, Ory's Helm chart or anything
// alike: it reads the deployment from the cluster's objects (which pods run
// serve, the courier and migrations, serve's config and environment), reaches
// the APIs by client-go port-forwards, collects the Kratos containers' logs,
// and leaves the cluster as it found it.
package kubernetes

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"kratos-conformance/harness"
)

func init() {
	harness.RegisterProvider("kubernetes", "a Kratos already running in a cluster, found by namespace and Helm release or label selector",
		func() harness.Provider { return &provider{} })
}

// Options are the provider's flags.
type Options struct {
	Kubeconfig string              // -kc.kubeconfig; empty: $KUBECONFIG, ~/.kube/config, or the pod's service account in a cluster
	Context    string              // -kc.kube-context
	Namespace  string              // -kc.k8s-namespace; empty: the kubeconfig context's namespace
	Release    string              // -kc.k8s-release: a Helm release, i.e. app.kubernetes.io/instance=<release>
	Selector   string              // -kc.k8s-selector: a label selector for the Kratos workloads
	PublicURL  string              // -kc.k8s-public-url: how clients reach the public API, when not through a port-forward
	CAFile     string              // -kc.k8s-ca-file: the CA of the public API's certificate
	Resolve    harness.HostAliases // -kc.k8s-resolve: dialled instead of DNS, for the public URL
	Reach      string              // -kc.k8s-reach: forward, direct, or auto (direct when run in a pod)
	SuiteImage string              // -kc.k8s-suite-image: the suite's image, for the run inside the cluster (INCLUSTER-001)
	SuiteAs    string              // -kc.k8s-suite-as: SuiteAsJob or SuiteAsHelmTest

	rest   *rest.Config
	direct bool // Service ClusterIPs and pod IPs are dialled as they are: the suite runs in the cluster
}

// Ways to reach the cluster's pods (-kc.k8s-reach).
const (
	ReachAuto    = "auto"
	ReachForward = "forward"
	ReachDirect  = "direct"
)

type provider struct{ o Options }

func (p *provider) Flags(f *harness.Flags) {
	f.String(&p.o.Kubeconfig, "kubeconfig", "kubernetes: kubeconfig file; default: $KUBECONFIG, ~/.kube/config, or the service account when run in a pod")
	f.String(&p.o.Context, "kube-context", "kubernetes: kubeconfig context; default: the current one")
	f.String(&p.o.Namespace, "k8s-namespace", "kubernetes: the namespace Kratos runs in; default: the context's namespace")
	f.String(&p.o.Release, "k8s-release", "kubernetes: the Helm release of Ory's chart (selects app.kubernetes.io/instance=RELEASE)")
	f.String(&p.o.Selector, "k8s-selector", "kubernetes: label selector of the Kratos workloads (Deployments, StatefulSets, Jobs), e.g. app.kubernetes.io/name=kratos")
	f.String(&p.o.PublicURL, "k8s-public-url", "kubernetes: the public API's URL as clients reach it (an Ingress); default: serve.public.base_url, reached by a port-forward to a serve pod")
	f.HostAliases(&p.o.Resolve, "k8s-resolve", "kubernetes: host=ip or .domain=ip pairs dialled instead of DNS for -kc.k8s-public-url, like curl --resolve")
	p.o.Reach = ReachAuto
	f.String(&p.o.Reach, "k8s-reach", "kubernetes: how the suite reaches Kratos, Mailpit and Postgres: forward (client-go port-forwards), direct (Service ClusterIPs and pod IPs, from inside the cluster) or auto (direct when run in a pod)")
	f.String(&p.o.SuiteImage, "k8s-suite-image", "kubernetes: the suite's own image (make images: KC_SUITE_IMAGE, pushed where the cluster pulls); given, INCLUSTER-001 runs the certification as a Job in the namespace and fetches its report")
	p.o.SuiteAs = SuiteAsJob
	f.String(&p.o.SuiteAs, "k8s-suite-as", "kubernetes: how INCLUSTER-001 runs the suite: job (kind/incluster/job.yaml, the report kept for kubectl cp) or helm-test (kind/incluster/test-pod.yaml, as helm test runs it)")
	f.String(&p.o.CAFile, "k8s-ca-file", "kubernetes: PEM CA of the public API's certificate; default: ca.crt beside serve's TLS certificate, else the system roots")
}

// Validate checks the flags' form; Prepare reads the kubeconfig.
func (p *provider) Validate(c *harness.Config) error {
	var errs []error
	if p.o.Release != "" && p.o.Selector != "" {
		errs = append(errs, errors.New("-kc.k8s-release and -kc.k8s-selector both select the workloads: give one"))
	}
	if p.o.PublicURL != "" {
		if err := harness.CheckBaseURL(p.o.PublicURL); err != nil {
			errs = append(errs, fmt.Errorf("-kc.k8s-public-url: %w", err))
		}
	}
	if q, err := resource.ParseQuantity(c.LoadGeneratorCPU); c.LoadGenerators > 0 && (err != nil || q.Sign() <= 0) {
		errs = append(errs, fmt.Errorf("-kc.load-generator-cpu=%q is not a CPU quantity like 500m or 1", c.LoadGeneratorCPU))
	}
	if c.LoadGenerators > 0 && p.o.SuiteImage == "" {
		errs = append(errs, errors.New("-kc.load-generators runs the suite's image in the cluster: pass -kc.k8s-suite-image"))
	}
	if !slices.Contains([]string{"", ReachAuto, ReachForward, ReachDirect}, p.o.Reach) {
		errs = append(errs, fmt.Errorf("-kc.k8s-reach=%q: use %s, %s or %s", p.o.Reach, ReachAuto, ReachForward, ReachDirect))
	}
	if p.o.SuiteAs != "" && p.o.SuiteAs != SuiteAsJob && p.o.SuiteAs != SuiteAsHelmTest {
		errs = append(errs, fmt.Errorf("-kc.k8s-suite-as=%q: use %s or %s", p.o.SuiteAs, SuiteAsJob, SuiteAsHelmTest))
	}
	if err := p.o.Resolve.Err; err != nil {
		errs = append(errs, fmt.Errorf("-kc.k8s-resolve: %w", err))
	}
	errs = append(errs, harness.CheckFile("k8s-ca-file", p.o.CAFile), harness.CheckFile("kubeconfig", p.o.Kubeconfig))
	if c.Break != "" {
		errs = append(errs, errors.New("-kc.break breaks a config the suite renders; a cluster's deployment has its own (drop -kc.break)"))
	}
	return errors.Join(errs...)
}

// Prepare resolves the client configuration and namespace the way kubectl
// does; no request is made.
func (p *provider) Prepare() error {
	o := &p.o
	o.Reach, o.SuiteAs = cmp.Or(o.Reach, ReachAuto), cmp.Or(o.SuiteAs, SuiteAsJob)
	if o.Kubeconfig == "" && os.Getenv("KUBECONFIG") == "" && os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return fmt.Errorf("-kc.provider=kubernetes in a pod: %w", err)
		}
		o.rest = cfg
		o.direct = o.Reach != ReachForward
		if o.Namespace == "" {
			ns, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
			if err != nil {
				return errors.New("-kc.k8s-namespace is required: the pod's namespace is not readable")
			}
			o.Namespace = string(ns)
		}
		return nil
	}
	cfg, ns, err := Kubeconfig(o.Kubeconfig, o.Context)
	if err != nil {
		return fmt.Errorf("-kc.provider=kubernetes: no usable kubeconfig (-kc.kubeconfig, $KUBECONFIG or ~/.kube/config; -kc.kube-context): %w", err)
	}
	o.rest = cfg
	o.direct = o.Reach == ReachDirect
	if o.Namespace == "" {
		o.Namespace = ns
	}
	return nil
}

// Kubeconfig loads a client configuration the way kubectl does (path, else
// $KUBECONFIG, else ~/.kube/config; context, else the current one) and the
// context's namespace.
func Kubeconfig(path, context string) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, "", err
	}
	ns, _, err := loader.Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("the context's namespace: %w", err)
	}
	return cfg, ns, nil
}

// selector is the label selector of the Kratos workloads; empty selects all in the namespace.
func (o *Options) selector() string {
	if o.Release != "" {
		return "app.kubernetes.io/instance=" + o.Release
	}
	return o.Selector
}

func (p *provider) New(_ context.Context, in harness.StackInput) (harness.Stack, error) {
	return newStack(in, p.o)
}

// Attach reads a deployment in a cluster the caller already reaches with cfg
// (the kind provider's, through its network namespace), exactly as
// -kc.provider=kubernetes does; the caller runs its Up and Down.
func Attach(in harness.StackInput, cfg *rest.Config, o Options) (*Stack, error) {
	o.rest = cfg
	return newStack(in, o)
}
