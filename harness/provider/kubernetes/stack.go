package kubernetes

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"kratos-conformance/harness"
	"kratos-conformance/harness/checks"
	"kratos-conformance/internal/portforward"
	"kratos-conformance/internal/wait"
	"kratos-conformance/kind"
)

// Stack is the kubernetes provider's harness.Stack: a deployment found in a
// cluster. It starts only port-forwards, which Down closes.
type Stack struct {
	cfg      harness.StackConfig
	opts     Options
	rest     *rest.Config
	cs       kubernetes.Interface
	objs     *kind.Objects
	deployed *checks.Deployed
	forwards []*portforward.Forward
	// toServe are the forwards to a serve pod (admin, and public when no
	// URL was given), with the pod's port each reaches: FollowServe moves them.
	toServe map[*portforward.Forward]int
	ep      harness.Endpoints
	env     harness.Environment
}

var (
	_ harness.Stack         = (*Stack)(nil)
	_ harness.Borrowed      = (*Stack)(nil)
	_ harness.ConfigSource  = (*Stack)(nil)
	_ checks.ManifestSource = (*Stack)(nil)
)

func newStack(in harness.StackInput, o Options) (*Stack, error) {
	if o.rest == nil {
		return nil, errors.New("kubernetes provider: Prepare did not run")
	}
	cfg := rest.CopyConfig(o.rest)
	cfg.Timeout = in.Config.Intervals.HTTPRequest // no API call hangs longer than one request may
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Stack{cfg: in.Config, opts: o, rest: cfg, cs: cs,
		env: harness.Environment{Provider: "kubernetes", Components: map[string]string{}}}, nil
}

// Up reads the deployment from the cluster and reaches its APIs.
func (s *Stack) Up(ctx context.Context) error {
	iv := s.cfg.Intervals
	if err := wait.For(ctx, wait.Input{Name: "Kubernetes API " + s.rest.Host + " (-kc.kubeconfig, -kc.kube-context)", Timeout: iv.KratosReady, Interval: iv.Poll,
		Check: func(context.Context) error { _, err := s.cs.Discovery().ServerVersion(); return err }}); err != nil {
		return err
	}
	if err := s.read(ctx); err != nil {
		return err
	}
	config, err := s.config()
	if err != nil {
		return err
	}
	if err := s.reach(ctx, config); err != nil {
		return err
	}
	client, err := s.ep.HTTPClient(nil, iv.HTTPRequest)
	if err != nil {
		return err
	}
	// A certificate the client cannot verify will not verify later: say so
	// at once instead of waiting out kratos-ready.
	resp, err := client.Get(s.ep.KratosPublic.JoinPath("health", "alive").String())
	if cert := new(tls.CertificateVerificationError); errors.As(err, &cert) {
		return fmt.Errorf("the public API %s: %w: pass -kc.k8s-ca-file, the CA that signed it", s.ep.KratosPublic, err)
	}
	if err == nil {
		resp.Body.Close()
	}
	if err := harness.WaitForKratos(ctx, s.ep, iv, nil); err != nil {
		return err
	}
	if s.ep.MailpitAPI != nil {
		if err := wait.For(ctx, wait.Input{Name: "Mailpit " + s.env.Components["mailpit"] + " /readyz", Timeout: iv.KratosReady, Interval: iv.Poll,
			Check: wait.HTTPStatus(client, s.ep.MailpitAPI.JoinPath("readyz").String(), http.StatusOK)}); err != nil {
			return err
		}
	}
	if s.ep.PostgresDSN != "" {
		if s.env.PostgresVersion, err = harness.CheckPostgresVersion(ctx, s.ep.PostgresDSN); err != nil {
			return err
		}
	}
	if s.ep.RedisAddr != "" {
		if s.env.RedisVersion, err = harness.CheckRedisVersion(ctx, s.ep.RedisAddr); err != nil {
			return err
		}
	}
	s.env.KratosVersion, err = harness.KratosVersion(ctx, client, s.ep.KratosAdmin)
	return err
}

// read lists the workloads the selection names and the Services, Secrets and
// ConfigMaps they use, and finds serve, its config, the courier and migrations.
func (s *Stack) read(ctx context.Context) error {
	ns, sel := s.opts.Namespace, metav1.ListOptions{LabelSelector: s.opts.selector()}
	o := &kind.Objects{}
	deps, err := s.cs.AppsV1().Deployments(ns).List(ctx, sel)
	if err != nil {
		return fmt.Errorf("list Deployments in namespace %s: %w", ns, err)
	}
	sts, err := s.cs.AppsV1().StatefulSets(ns).List(ctx, sel)
	if err != nil {
		return fmt.Errorf("list StatefulSets in namespace %s: %w", ns, err)
	}
	jobs, err := s.cs.BatchV1().Jobs(ns).List(ctx, sel)
	if err != nil {
		return fmt.Errorf("list Jobs in namespace %s: %w", ns, err)
	}
	svcs, err := s.cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list Services in namespace %s: %w", ns, err)
	}
	ings, err := s.cs.NetworkingV1().Ingresses(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list Ingresses in namespace %s: %w", ns, err)
	}
	o.Deployments, o.StatefulSets, o.Services, o.Ingresses = deps.Items, sts.Items, svcs.Items, ings.Items
	if o.Routes, err = s.routes(ctx, ns); err != nil {
		return err
	}
	for _, j := range jobs.Items {
		// The suite's own Jobs (an in-cluster run or load generators kept by
		// their TTL) are not part of the deployment.
		if !strings.HasPrefix(j.Labels["app.kubernetes.io/name"], "kratos-conformance") {
			o.Jobs = append(o.Jobs, j)
		}
	}
	secrets, configMaps := referenced(o.PodSpecs())
	for name := range secrets {
		sec, err := s.cs.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err): // KM-WIRE-001 reports it
		case err != nil:
			return fmt.Errorf("read Secret %s/%s: %w", ns, name, err)
		default:
			o.Secrets = append(o.Secrets, *sec)
		}
	}
	for name := range configMaps {
		cm, err := s.cs.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return fmt.Errorf("read ConfigMap %s/%s: %w", ns, name, err)
		default:
			o.ConfigMaps = append(o.ConfigMaps, *cm)
		}
	}
	s.objs = o
	if s.deployed, err = checks.ReadDeployed(o); err != nil {
		return fmt.Errorf("namespace %s, selector %q (-kc.k8s-namespace, -kc.k8s-release or -kc.k8s-selector): %w", ns, s.opts.selector(), err)
	}
	s.env.Components["cluster"] = s.rest.Host + ", namespace " + ns
	s.env.Components["kratos"] = s.deployed.Serve
	s.env.Components["kratos-config"] = s.deployed.ConfigSource
	s.env.Components["kratos-courier"] = strings.Join(s.deployed.Couriers, "; ")
	s.env.Components["kratos-migrate"] = strings.Join(s.deployed.Migrations, "; ")
	return nil
}

// config is serve's config as read.
func (s *Stack) config() (*checks.Config, error) {
	if s.deployed == nil {
		return nil, errors.New("the deployment has not been read")
	}
	return checks.ParseConfig(s.deployed.Config)
}

// servesTLS says whether serve's public port speaks TLS itself.
func servesTLS(config *checks.Config) bool {
	_, path := config.Value("serve.public.tls.cert.path")
	_, inline := config.Value("serve.public.tls.cert.base64")
	return path || inline
}

// referenced names the Secrets and ConfigMaps the pods mount or read env from.
func referenced(specs []*corev1.PodSpec) (secrets, configMaps map[string]bool) {
	secrets, configMaps = map[string]bool{}, map[string]bool{}
	for _, spec := range specs {
		for _, v := range spec.Volumes {
			if v.Secret != nil {
				secrets[v.Secret.SecretName] = true
			}
			if v.ConfigMap != nil {
				configMaps[v.ConfigMap.Name] = true
			}
		}
		for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
			for _, e := range c.EnvFrom {
				if e.SecretRef != nil {
					secrets[e.SecretRef.Name] = true
				}
				if e.ConfigMapRef != nil {
					configMaps[e.ConfigMapRef.Name] = true
				}
			}
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					secrets[e.ValueFrom.SecretKeyRef.Name] = true
				}
				if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
					configMaps[e.ValueFrom.ConfigMapKeyRef.Name] = true
				}
			}
		}
	}
	return secrets, configMaps
}

func (s *Stack) Endpoints() harness.Endpoints     { return s.ep }
func (s *Stack) Environment() harness.Environment { return s.env }

// KratosConfig is serve's config as found in the cluster, environment applied.
func (s *Stack) KratosConfig() []byte {
	if s.deployed == nil {
		return nil
	}
	return s.deployed.Config
}

// Manifests are the workloads, Services, Secrets and ConfigMaps as read.
func (s *Stack) Manifests() *kind.Objects { return s.objs }

// Borrowed: the deployment ran before the suite and stays.
func (s *Stack) Borrowed() {}

// Down closes the port-forwards, the only thing the provider started.
func (s *Stack) Down(context.Context) error {
	for _, f := range s.forwards {
		f.Close()
	}
	s.forwards = nil
	return nil
}

func (s *Stack) Keep() string {
	return "Kubernetes deployment: it ran before the suite and stays; the suite's port-forwards end with it."
}

// podsOf lists the pods each workload's selector matches.
func (s *Stack) podsOf(ctx context.Context) ([]corev1.Pod, error) {
	var selectors []*metav1.LabelSelector
	for _, d := range s.objs.Deployments {
		selectors = append(selectors, d.Spec.Selector)
	}
	for _, st := range s.objs.StatefulSets {
		selectors = append(selectors, st.Spec.Selector)
	}
	for _, j := range s.objs.Jobs {
		selectors = append(selectors, j.Spec.Selector)
	}
	seen, out := map[string]bool{}, []corev1.Pod{}
	for _, ls := range selectors {
		sel, err := metav1.LabelSelectorAsSelector(ls)
		if err != nil || sel.Empty() {
			continue
		}
		pods, err := s.cs.CoreV1().Pods(s.opts.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
		if err != nil {
			return nil, err
		}
		for _, p := range pods.Items {
			if !seen[p.Name] {
				seen[p.Name] = true
				out = append(out, p)
			}
		}
	}
	return out, nil
}
