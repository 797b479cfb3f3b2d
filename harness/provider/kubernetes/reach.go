package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"net"
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

	"kratos-conformance/harness"
	"kratos-conformance/harness/checks"
	"kratos-conformance/internal/portforward"
)

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
	if err == nil && !s.opts.direct {
		s.noteServeForward(remote)
	}
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
