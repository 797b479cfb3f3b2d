package provider

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kratos-conformance/harness"
	"kratos-conformance/internal/netns"
	"kratos-conformance/internal/portforward"
	manifests "kratos-conformance/kind"
)

// relayPublicPort reaches the public API as browsers reach the guide's:
// through the Service (NodePort 30443 on the node), relayed from this
// machine's loopback into the engine's network namespace. A port-forward
// through the API server would measure its stream tunnel, not Kratos
// (whoami p99 156 ms at 50/s that way, here).
func (s *Stack) relayPublicPort(ctx context.Context) error {
	nodes, err := s.kind.ListNodes(s.name)
	if err != nil || len(nodes) == 0 {
		return fmt.Errorf("the nodes of cluster %s: %v", s.name, err)
	}
	nodeIP, _, err := nodes[0].IP()
	if err != nil {
		return err
	}
	publicAddr, stopRelay, err := netns.Forward(context.WithoutCancel(ctx), s.engine.NetNS(), nodeIP+":30443")
	if err != nil {
		return err
	}
	s.stopRelay = stopRelay
	_, port, _ := strings.Cut(publicAddr, ":")
	s.publicPort, _ = strconv.Atoi(port)
	return nil
}

// forwardAll reaches Kratos' admin API, Mailpit's API, Postgres and Redis by
// port-forward, as an operator does; the public API is already relayed to
// publicPort, which Kratos' public base URL names.
func (s *Stack) forwardAll(ctx context.Context, publicPort int) error {
	ports := map[string]int{"public": publicPort}
	for _, app := range []string{"kratos", "mailpit", "postgres", "redis"} {
		local, err := harness.FreePort()
		if err != nil {
			return err
		}
		if err := s.forwardTo(ctx, app, local); err != nil {
			return err
		}
		ports[app] = local
	}
	kratosPod := s.forwards["kratos"].Pod
	public := &url.URL{Scheme: "https", Host: harness.KratosHost + ":" + strconv.Itoa(ports["public"]), Path: "/"}
	admin := &url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(ports["kratos"]), Path: "/"}
	mail := &url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(ports["mailpit"]), Path: "/"}
	s.ep = harness.LocalEndpoints(harness.GuideSite(), public, admin, mail, s.rendered.CA)
	s.ep.PostgresDSN = fmt.Sprintf("postgres://kratos:%s@127.0.0.1:%d/kratos?sslmode=disable", s.rendered.PostgresPassword, ports["postgres"])
	s.ep.RedisAddr = "127.0.0.1:" + strconv.Itoa(ports["redis"])
	if err := harness.WaitForKratos(ctx, s.ep, s.cfg.Intervals, nil); err != nil {
		return err
	}
	var err error
	if s.env.PostgresVersion, err = harness.CheckPostgresVersion(ctx, s.ep.PostgresDSN); err != nil {
		return err
	}
	if s.env.RedisVersion, err = harness.CheckRedisVersion(ctx, s.ep.RedisAddr); err != nil {
		return err
	}
	client, err := s.ep.HTTPClient(nil, s.cfg.Intervals.HTTPRequest)
	if err != nil {
		return err
	}
	s.env.KratosVersion, err = harness.KratosVersion(ctx, client, admin)
	s.env.Components["cluster"] = "kind " + s.name + " (node image " + s.opts.nodeImage + ")"
	s.env.Components["kratos"] = "pod identity/" + kratosPod + " (migrate initContainer, kratos, courier)"
	if s.opts.Layout == manifests.LayoutChart {
		s.env.Components["kratos"] = "Ory's Helm chart layout: Job kratos-automigrate (pre-install hook), Deployment kratos (pod " + kratosPod + "), StatefulSet kratos-courier"
	}
	return err
}

// forwardPorts is the port each app's forward reaches in its pod.
var forwardPorts = map[string]int{"kratos": 4434, "mailpit": 8025, "postgres": 5432, "redis": 6379}

// forwardTo (re)opens the forward from loopback port local to the app's
// running pod: a forward is bound to one pod, so the fault scenarios renew it
// after a scale or rollout replaced the pod, on the same local port.
func (s *Stack) forwardTo(ctx context.Context, app string, local int) error {
	if old := s.forwards[app]; old != nil {
		old.Close()
		<-old.Closed() // the listener is closed: the port is free again
		delete(s.forwards, app)
	}
	pod, err := s.runningPod(ctx, app)
	if err != nil {
		return err
	}
	fw, err := portforward.Open(ctx, s.rest, s.cs, namespace, pod, local, forwardPorts[app])
	if err != nil {
		return err
	}
	fw.Pod, fw.Local = pod, local
	s.forwards[app] = fw
	return nil
}

// runningPod is a Running pod of the app that is not being deleted.
func (s *Stack) runningPod(ctx context.Context, app string) (string, error) {
	pods, err := s.cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: appLabel + app, FieldSelector: "status.phase=Running"})
	if err != nil {
		return "", err
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			return p.Name, nil
		}
	}
	return "", fmt.Errorf("no running pod of %s/%s", namespace, app)
}
