package kubernetes

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
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
	ep       harness.Endpoints
	env      harness.Environment
}

var (
	_ harness.Stack         = (*Stack)(nil)
	_ harness.Borrowed      = (*Stack)(nil)
	_ harness.ConfigSource  = (*Stack)(nil)
	_ checks.ManifestSource = (*Stack)(nil)
)

func newStack(in harness.StackInput, o Options) (*Stack, error) {
	if o.rest == nil {
		return nil, errors.New("kubernetes provider: Validate did not run")
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

// reach finds serve's admin and public ports, the Mailpit the courier sends
// to, the Postgres the DSN names and a Redis: through port-forwards from
// outside the cluster, through Service ClusterIPs and pod IPs inside it.
func (s *Stack) reach(ctx context.Context, config *checks.Config) error {
	pod, err := s.readyPod(ctx, s.opts.Namespace, labels.SelectorFromSet(s.deployed.ServePod))
	if err != nil {
		return fmt.Errorf("serve (%s): %w", s.deployed.Serve, err)
	}
	s.env.Components["kratos"] += ", pod " + pod.Name
	admin, where, err := s.reachServe(ctx, pod, portOf(config, "serve.admin.port", 4434))
	if err != nil {
		return err
	}
	s.ep.KratosAdmin = &url.URL{Scheme: "http", Host: admin, Path: "/"}
	s.env.Components["kratos-admin"] = where
	if err := s.reachPublic(ctx, config, pod); err != nil {
		return err
	}
	s.ep.CookieDomain, _ = config.Value("cookies.domain")
	if ui := config.UIURL(); ui != "" {
		if u, err := url.Parse(ui); err == nil && u.Host != "" {
			s.ep.UIBase = &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/"}
		}
	}
	if smtp, ok := config.Value("courier.smtp.connection_uri"); ok {
		if u, err := url.Parse(smtp); err == nil {
			addr, where, err := s.reachService(ctx, u.Hostname(), mailpitAPIPort)
			switch {
			case errors.Is(err, errNotInCluster):
			case err != nil:
				return fmt.Errorf("the courier's SMTP server: %w", err)
			default:
				s.ep.MailpitAPI = &url.URL{Scheme: "http", Host: addr, Path: "/"}
				s.env.Components["mailpit"] = where
			}
		}
	}
	if dsn, ok := config.Value("dsn"); ok {
		u, err := url.Parse(dsn)
		if err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
			port, _ := strconv.Atoi(u.Port())
			if port == 0 {
				port = 5432
			}
			addr, where, err := s.reachService(ctx, u.Hostname(), port)
			switch {
			case errors.Is(err, errNotInCluster):
			case err != nil:
				return fmt.Errorf("the DSN's database: %w", err)
			default:
				u.Host = addr
				u.RawQuery = libpqParams(u.Query()).Encode()
				s.ep.PostgresDSN = u.String()
				s.env.Components["postgres"] = where
			}
		}
	}
	// Kratos does not use Redis; the guide deploys one beside it, which a
	// Service on Redis' port in the namespace names.
	for _, svc := range s.objs.Services {
		if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == redisPort }) {
			continue
		}
		addr, where, err := s.reachService(ctx, svc.Name, redisPort)
		if err == nil {
			s.ep.RedisAddr = addr
			s.env.Components["redis"] = where
			break
		}
	}
	return nil
}

const redisPort = 6379

// libpqParams keeps the DSN parameters a Postgres client understands: Kratos'
// own pool settings (max_conns, max_idle_conns, ...) would reach the server
// as unknown runtime parameters and be refused.
func libpqParams(q url.Values) url.Values {
	out := url.Values{}
	for _, k := range []string{"sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword", "sslsni", "connect_timeout", "application_name", "target_session_attrs", "search_path", "options"} {
		if v, ok := q[k]; ok {
			out[k] = v
		}
	}
	return out
}

// mailpitAPIPort is Mailpit's documented web UI and API port: the courier's
// SMTP Service exposing it is a Mailpit the specs can read mail from.
const mailpitAPIPort = 8025

// reachPublic takes -kc.k8s-public-url as it is; otherwise the public API is
// serve.public.base_url, dialled through a port-forward to serve's public port.
func (s *Stack) reachPublic(ctx context.Context, config *checks.Config, pod *corev1.Pod) error {
	if s.opts.CAFile != "" {
		ca, err := os.ReadFile(s.opts.CAFile)
		if err != nil {
			return fmt.Errorf("-kc.k8s-ca-file: %w", err)
		}
		s.ep.CAPEM = ca
	}
	if s.opts.PublicURL != "" {
		u, err := url.Parse(strings.TrimSuffix(s.opts.PublicURL, "/") + "/")
		s.ep.KratosPublic = u
		s.env.Components["kratos-public"] = s.opts.PublicURL
		s.ep.HostAliases = s.opts.Resolve.Map
		return err
	}
	base, _ := config.Value("serve.public.base_url")
	u, err := s.publicBase(config, base)
	if err != nil {
		return fmt.Errorf("%w: pass -kc.k8s-public-url, the URL clients use", err)
	}
	certPath, _ := config.Value("serve.public.tls.cert.path")
	if s.ep.CAPEM == nil && certPath != "" {
		s.ep.CAPEM = s.mountedCA(certPath)
	}
	addr, where, err := s.reachServe(ctx, pod, portOf(config, "serve.public.port", 4433))
	if err != nil {
		return err
	}
	s.ep.KratosPublic = u
	s.ep.HostAliases = map[string]string{harness.HostPort(u): addr}
	s.ep.PublicForwarded = !s.opts.direct
	s.env.Components["kratos-public"] = base + " through " + where
	if !s.opts.direct {
		s.env.Components["kratos-public"] += " (load figures then include the API server's stream tunnel; -kc.k8s-public-url names the way clients come in)"
	}
	return nil
}

// publicBase is base_url when serve's public port answers under it: an
// absolute URL, and https only if serve speaks TLS itself.
func (s *Stack) publicBase(config *checks.Config, base string) (*url.URL, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("serve.public.base_url %q is not an absolute URL", base)
	}
	if u.Scheme == "https" && !servesTLS(config) {
		return nil, fmt.Errorf("serve.public.base_url is %s but Kratos serves plain HTTP (TLS ends in front of it)", base)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/"
	return u, nil
}

// mountedCA is the ca.crt key of the Secret serve's TLS certificate comes
// from (cert-manager writes one), or nil.
func (s *Stack) mountedCA(certPath string) []byte {
	dir := certPath[:strings.LastIndex(certPath, "/")+1]
	for _, spec := range s.objs.PodSpecs() {
		for _, v := range spec.Volumes {
			if v.Secret == nil {
				continue
			}
			for _, c := range spec.Containers {
				for _, m := range c.VolumeMounts {
					if m.Name == v.Name && strings.TrimSuffix(m.MountPath, "/")+"/" == dir {
						for _, sec := range s.objs.Secrets {
							if sec.Name == v.Secret.SecretName && len(sec.Data["ca.crt"]) > 0 {
								return sec.Data["ca.crt"]
							}
						}
					}
				}
			}
		}
	}
	return nil
}

func portOf(config *checks.Config, path string, def int) int {
	if v, ok := config.Value(path); ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

var errNotInCluster = errors.New("not a Service of the cluster")

// reachService reaches port of the Service host names (name, name.namespace
// or name.namespace.svc...): its ClusterIP in the cluster, else a
// port-forward to one of its ready pods.
func (s *Stack) reachService(ctx context.Context, host string, port int) (addr, where string, err error) {
	name, rest, _ := strings.Cut(host, ".")
	ns := s.opts.Namespace
	if rest != "" {
		if ns, rest, _ = strings.Cut(rest, "."); rest != "" && !strings.HasPrefix(rest, "svc") {
			return "", "", errNotInCluster
		}
	}
	svc, err := s.cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) || (err == nil && len(svc.Spec.Selector) == 0) {
		return "", "", errNotInCluster
	}
	if err != nil {
		return "", "", err
	}
	var target *corev1.ServicePort
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == int32(port) {
			target = &svc.Spec.Ports[i]
		}
	}
	if target == nil {
		return "", "", errNotInCluster
	}
	if s.opts.direct && svc.Spec.ClusterIP != "" && svc.Spec.ClusterIP != corev1.ClusterIPNone {
		return net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(port)), fmt.Sprintf("Service %s/%s port %d (ClusterIP)", ns, name, port), nil
	}
	pod, err := s.readyPod(ctx, ns, labels.SelectorFromSet(svc.Spec.Selector))
	if err != nil {
		return "", "", fmt.Errorf("Service %s/%s: %w", ns, name, err)
	}
	remote := containerPort(pod, target.TargetPort)
	if remote == 0 {
		remote = int(target.Port)
	}
	addr, err = s.reachPod(ctx, pod, remote)
	return addr, fmt.Sprintf("Service %s/%s port %d, pod %s", ns, name, port, pod.Name), err
}

// containerPort is the pod's port a Service's targetPort names; 0 when unnamed and unset.
func containerPort(pod *corev1.Pod, target intstr.IntOrString) int {
	if target.Type == intstr.Int {
		return target.IntValue()
	}
	for _, c := range pod.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == target.StrVal {
				return int(cp.ContainerPort)
			}
		}
	}
	return 0
}

// reachServe reaches serve's port remote: in the cluster through the
// Service in front of it (its ClusterIP: how in-cluster clients come in),
// else through a port-forward.
func (s *Stack) reachServe(ctx context.Context, pod *corev1.Pod, remote int) (addr, where string, err error) {
	if s.opts.direct {
		if addr, ok := s.serviceAddr(pod, remote); ok {
			return addr, "Service ClusterIP " + addr, nil
		}
	}
	addr, err = s.reachPod(ctx, pod, remote)
	how := "a port-forward to pod "
	if s.opts.direct {
		how = "the IP of pod "
	}
	return addr, how + pod.Name, err
}

// serviceAddr is ClusterIP:port of a Service whose selector picks the pod
// and whose target is the pod's port remote.
func (s *Stack) serviceAddr(pod *corev1.Pod, remote int) (string, bool) {
	for _, svc := range s.objs.Services {
		if len(svc.Spec.Selector) == 0 || svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone ||
			!labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels)) {
			continue
		}
		for _, p := range svc.Spec.Ports {
			if containerPort(pod, p.TargetPort) == remote || (p.TargetPort.IntValue() == 0 && p.TargetPort.StrVal == "" && int(p.Port) == remote) {
				return net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(int(p.Port))), true
			}
		}
	}
	return "", false
}

// readyPod is a ready pod the selector matches that is not being deleted.
func (s *Stack) readyPod(ctx context.Context, ns string, sel labels.Selector) (*corev1.Pod, error) {
	pods, err := s.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String(), FieldSelector: "status.phase=Running"})
	if err != nil {
		return nil, err
	}
	for i := range pods.Items {
		if PodReady(&pods.Items[i]) {
			return &pods.Items[i], nil
		}
	}
	return nil, fmt.Errorf("no ready pod in namespace %s matches %s", ns, sel)
}

// reachPod is the address that reaches pod:remote: the pod's IP in the
// cluster, else a port-forward from a free loopback port.
func (s *Stack) reachPod(ctx context.Context, pod *corev1.Pod, remote int) (string, error) {
	if s.opts.direct {
		if pod.Status.PodIP == "" {
			return "", fmt.Errorf("pod %s has no IP", pod.Name)
		}
		return net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(remote)), nil
	}
	local, err := harness.FreePort()
	if err != nil {
		return "", err
	}
	fw, err := portforward.Open(ctx, s.rest, s.cs, pod.Namespace, pod.Name, local, remote)
	if err != nil {
		return "", err
	}
	s.forwards = append(s.forwards, fw)
	return "127.0.0.1:" + strconv.Itoa(local), nil
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
