package kubernetes

import (
	"context"
	"errors"
	"maps"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"kratos-conformance/harness"
	"kratos-conformance/internal/portforward"
)

// ServeReplicas forwards a loopback port to publicPort of each ready pod the
// selector matches and returns base once per pod, its public host:port
// dialling that forward: one serve replica's public API each.
func ServeReplicas(ctx context.Context, cfg *rest.Config, cs kubernetes.Interface, ns string, sel labels.Selector, publicPort int, base harness.Endpoints) ([]harness.Endpoints, func(), error) {
	var forwards []*portforward.Forward
	closeAll := func() {
		for _, f := range forwards {
			f.Close()
		}
	}
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String(), FieldSelector: "status.phase=Running"})
	if err != nil {
		return nil, closeAll, err
	}
	var eps []harness.Endpoints
	for _, p := range pods.Items {
		if !PodReady(&p) {
			continue
		}
		local, err := harness.FreePort()
		if err != nil {
			return nil, closeAll, err
		}
		f, err := portforward.Open(ctx, cfg, cs, ns, p.Name, local, publicPort)
		if err != nil {
			return nil, closeAll, err
		}
		forwards = append(forwards, f)
		eps = append(eps, withPublicAlias(base, "127.0.0.1:"+strconv.Itoa(local)))
	}
	if len(eps) == 0 {
		return nil, closeAll, errors.New("no ready serve pod matches " + sel.String())
	}
	return eps, closeAll, nil
}

// PodReady says whether the pod is Ready and not being deleted.
func PodReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return p.DeletionTimestamp == nil
		}
	}
	return false
}

// ReplicaEndpoints reaches each ready serve replica of the deployment read;
// none when TLS ends in front of serve, whose plain port cannot answer under
// the public https URL.
func (s *Stack) ReplicaEndpoints(ctx context.Context) ([]harness.Endpoints, func(), error) {
	config, err := s.config()
	if err != nil || (s.ep.KratosPublic.Scheme == "https" && !servesTLS(config)) {
		return nil, func() {}, err
	}
	if s.opts.direct {
		return s.replicaIPs(ctx, portOf(config, "serve.public.port", 4433))
	}
	return ServeReplicas(ctx, s.rest, s.cs, s.opts.Namespace, labels.SelectorFromSet(s.deployed.ServePod), portOf(config, "serve.public.port", 4433), s.ep)
}

// replicaIPs is ReplicaEndpoints in the cluster: each ready serve pod's IP.
func (s *Stack) replicaIPs(ctx context.Context, publicPort int) ([]harness.Endpoints, func(), error) {
	sel := labels.SelectorFromSet(s.deployed.ServePod)
	pods, err := s.cs.CoreV1().Pods(s.opts.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String(), FieldSelector: "status.phase=Running"})
	if err != nil {
		return nil, func() {}, err
	}
	var eps []harness.Endpoints
	for i := range pods.Items {
		if !PodReady(&pods.Items[i]) {
			continue
		}
		addr, err := s.reachPod(ctx, &pods.Items[i], publicPort)
		if err != nil {
			return nil, func() {}, err
		}
		eps = append(eps, withPublicAlias(s.ep, addr))
	}
	if len(eps) == 0 {
		return nil, func() {}, errors.New("no ready serve pod matches " + sel.String())
	}
	return eps, func() {}, nil
}

// withPublicAlias is base with its public host:port dialling addr.
func withPublicAlias(base harness.Endpoints, addr string) harness.Endpoints {
	ep := base
	ep.HostAliases = maps.Clone(base.HostAliases)
	if ep.HostAliases == nil {
		ep.HostAliases = map[string]string{}
	}
	ep.HostAliases[harness.HostPort(base.KratosPublic)] = addr
	return ep
}
