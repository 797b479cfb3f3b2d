package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"kratos-conformance/harness"
	k8sprovider "kratos-conformance/harness/provider/kubernetes"
	"kratos-conformance/internal/wait"
)

var (
	_ harness.Replicas    = (*Stack)(nil)
	_ harness.ServeScaler = (*Stack)(nil)
)

// serveApp is the app label of serve's pods in both layouts.
const serveApp = "kratos"

// ReplicaEndpoints reaches each ready serve pod's public port (4433) on its own.
func (s *Stack) ReplicaEndpoints(ctx context.Context) ([]harness.Endpoints, func(), error) {
	if s.reader != nil {
		return s.reader.ReplicaEndpoints(ctx)
	}
	return k8sprovider.ServeReplicas(ctx, s.rest, s.cs, namespace, labels.SelectorFromSet(labels.Set{"app.kubernetes.io/name": serveApp}), 4433, s.ep)
}

// ScaleServe sets the serve Deployment's replicas (the guide's pod carries
// its courier along, as scaling the guide's Deployment does) and waits for
// the rollout; the admin forward (the reader's, with -kc.kind-discover)
// follows a pod that a scale-down removed.
func (s *Stack) ScaleServe(ctx context.Context, n int) error {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if err := s.scale(ctx, deployment, serveApp, n); err != nil {
		return err
	}
	return s.afterServeRollout(ctx)
}

// RestartServe stamps the pod template as kubectl rollout restart does, so
// the Deployment's RollingUpdate strategy replaces the pods one by one.
func (s *Stack) RestartServe(ctx context.Context) error {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	patch := fmt.Appendf(nil, `{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":%q}}}}}`, time.Now().Format(time.RFC3339Nano))
	if _, err := s.cs.AppsV1().Deployments(namespace).Patch(ctx, serveApp, types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("restart deployment %s/%s: %w", namespace, serveApp, err)
	}
	return s.afterServeRollout(ctx)
}

func (s *Stack) afterServeRollout(ctx context.Context) error {
	if err := s.waitRollout(ctx, serveApp); err != nil {
		return err
	}
	if err := s.waitEndpoints(ctx); err != nil {
		return err
	}
	if s.reader != nil {
		return s.reader.FollowServe(ctx)
	}
	fw := s.forwards["kratos"]
	if fw == nil {
		return errors.New("the admin API is not forwarded: it cannot follow serve's pods")
	}
	return s.forwardTo(ctx, "kratos", fw.Local)
}

// waitEndpoints waits until every Service in front of serve lists exactly its
// ready pods: a pod gone from the API can linger in an EndpointSlice, and a
// client the Service sends there waits out its whole timeout.
func (s *Stack) waitEndpoints(ctx context.Context) error {
	iv := s.cfg.Intervals
	return wait.For(ctx, wait.Input{Name: "the Services in front of serve route to its ready pods only", Timeout: iv.Rollout, Interval: iv.Poll,
		Check: func(ctx context.Context) error {
			pods, err := s.cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: appLabel + serveApp})
			if err != nil {
				return err
			}
			var want []string
			for _, p := range pods.Items {
				if k8sprovider.PodReady(&p) {
					want = append(want, p.Name)
				}
			}
			slices.Sort(want)
			svcs, err := s.cs.CoreV1().Services(namespace).List(ctx, metav1.ListOptions{})
			if err != nil {
				return err
			}
			for _, svc := range svcs.Items {
				if svc.Spec.Selector[strings.TrimSuffix(appLabel, "=")] != serveApp {
					continue
				}
				eps, err := s.cs.DiscoveryV1().EndpointSlices(namespace).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc.Name})
				if err != nil {
					return err
				}
				var got []string
				for _, sl := range eps.Items {
					for _, e := range sl.Endpoints {
						if e.TargetRef != nil && (e.Conditions.Ready == nil || *e.Conditions.Ready) {
							got = append(got, e.TargetRef.Name)
						}
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					return fmt.Errorf("Service %s routes to %v, the ready pods are %v", svc.Name, got, want)
				}
			}
			return nil
		}})
}
