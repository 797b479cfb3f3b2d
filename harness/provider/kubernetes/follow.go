package kubernetes

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"kratos-conformance/internal/portforward"
)

// noteServeForward marks the forward reachPod just opened as one to serve's
// port remote.
func (s *Stack) noteServeForward(remote int) {
	if s.toServe == nil {
		s.toServe = map[*portforward.Forward]int{}
	}
	s.toServe[s.forwards[len(s.forwards)-1]] = remote
}

// FollowServe moves each port-forward to a serve pod that is gone or not
// ready (a scale-down or rollout of a cluster the suite deployed) to a ready
// one, on the same loopback port, so the Endpoints stay valid. Through a
// Service's ClusterIP (in the cluster) there is nothing to move.
func (s *Stack) FollowServe(ctx context.Context) error {
	if len(s.toServe) == 0 {
		return nil
	}
	sel := labels.SelectorFromSet(s.deployed.ServePod)
	pods, err := s.cs.CoreV1().Pods(s.opts.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String(), FieldSelector: "status.phase=Running"})
	if err != nil {
		return err
	}
	ready := map[string]bool{}
	for i := range pods.Items {
		ready[pods.Items[i].Name] = PodReady(&pods.Items[i])
	}
	for i, fw := range s.forwards {
		remote, ok := s.toServe[fw]
		if !ok || ready[fw.Pod] {
			continue
		}
		pod, err := s.readyPod(ctx, s.opts.Namespace, sel)
		if err != nil {
			return fmt.Errorf("serve (%s): %w", s.deployed.Serve, err)
		}
		fw.Close()
		<-fw.Closed() // the listener is closed: the port is free again
		moved, err := portforward.Open(ctx, s.rest, s.cs, pod.Namespace, pod.Name, fw.Local, remote)
		if err != nil {
			return fmt.Errorf("port-forward to serve pod %s after its pod %s went: %w", pod.Name, fw.Pod, err)
		}
		delete(s.toServe, fw)
		s.forwards[i], s.toServe[moved] = moved, remote
	}
	return nil
}
