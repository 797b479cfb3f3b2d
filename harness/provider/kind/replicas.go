package kind

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"kratos-conformance/harness"
	k8sprovider "kratos-conformance/harness/provider/kubernetes"
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
// the rollout; the admin forward follows a pod that a scale-down removed.
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
	return s.forwardTo(ctx, "kratos", s.forwards["kratos"].Local)
}
