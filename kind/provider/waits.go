package provider

import (
	"context"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	k8sprovider "kratos-conformance/harness/provider/kubernetes"
	"kratos-conformance/internal/wait"
)

// waitJob waits until the Job completed; a failed Job ends the wait at once.
func (s *Stack) waitJob(ctx context.Context, name, app string) error {
	iv := s.cfg.Intervals
	return wait.For(ctx, wait.Input{Name: "Job " + namespace + "/" + name + " complete", Timeout: iv.Rollout, Interval: iv.Poll,
		Alive: func() error {
			j, err := s.cs.BatchV1().Jobs(namespace).Get(ctx, name, metav1.GetOptions{})
			if err == nil && j.Status.Failed > 0 {
				return fmt.Errorf("Job %s failed: %s", name, s.podTrouble(ctx, app))
			}
			return nil
		},
		Check: func(ctx context.Context) error {
			j, err := s.cs.BatchV1().Jobs(namespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if j.Status.Succeeded > 0 {
				return nil
			}
			return fmt.Errorf("not complete; %s", s.podTrouble(ctx, app))
		}})
}

// waitRollouts waits, one named wait each, until every workload is rolled out.
func (s *Stack) waitRollouts(ctx context.Context) error {
	for _, d := range s.rendered.Objects.Deployments {
		if err := s.waitRollout(ctx, d.Name); err != nil {
			return err
		}
	}
	for _, st := range s.rendered.Objects.StatefulSets {
		if err := s.waitStatefulSet(ctx, st.Name, st.Spec.Template.Labels[strings.TrimSuffix(appLabel, "=")]); err != nil {
			return err
		}
	}
	return nil
}

// waitStatefulSet waits until every replica runs the latest revision and is ready.
func (s *Stack) waitStatefulSet(ctx context.Context, name, app string) error {
	return s.waitWorkload(ctx, "statefulset "+namespace+"/"+name, app, func(ctx context.Context) (bool, int32, string, error) {
		st, err := s.cs.AppsV1().StatefulSets(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, 0, "", err
		}
		want, got := *st.Spec.Replicas, st.Status
		done := got.ObservedGeneration >= st.Generation && got.CurrentRevision == got.UpdateRevision && got.ReadyReplicas == want && got.Replicas == want
		return done, want, fmt.Sprintf("%d of %d replicas ready at the latest revision", got.ReadyReplicas, want), nil
	})
}

// waitRollout waits until the Deployment's controller saw its latest spec and
// every replica it asks for is updated and available, with no old pod left.
func (s *Stack) waitRollout(ctx context.Context, name string) error {
	return s.waitWorkload(ctx, "deployment "+namespace+"/"+name, name, func(ctx context.Context) (bool, int32, string, error) {
		d, err := s.cs.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, 0, "", err
		}
		want, st := *d.Spec.Replicas, d.Status
		done := st.ObservedGeneration >= d.Generation && st.UpdatedReplicas == want && st.AvailableReplicas == want && st.Replicas == want
		return done, want, fmt.Sprintf("%d of %d replicas updated and available", st.AvailableReplicas, want), nil
	})
}

// waitWorkload is the named rollout wait both share: progress says whether
// the controller is done and how many replicas it wants; then no more pods of
// app may exist than that (a terminating one still serves its old spec).
func (s *Stack) waitWorkload(ctx context.Context, what, app string, progress func(context.Context) (done bool, want int32, detail string, err error)) error {
	iv := s.cfg.Intervals
	return wait.For(ctx, wait.Input{Name: "rollout of " + what, Timeout: iv.Rollout, Interval: iv.Poll,
		Check: func(ctx context.Context) error {
			done, want, detail, err := progress(ctx)
			if err != nil {
				return err
			}
			if done {
				return s.podsGone(ctx, app, want)
			}
			return fmt.Errorf("%s; %s", detail, s.podTrouble(ctx, app))
		}})
}

// podsGone says whether no more than want pods of the app exist, terminating ones included.
func (s *Stack) podsGone(ctx context.Context, app string, want int32) error {
	pods, err := s.cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: appLabel + app})
	if err != nil {
		return err
	}
	if n := len(pods.Items); int32(n) > want {
		return fmt.Errorf("%d pods of %s still exist, %d wanted", n, app, want)
	}
	return nil
}

// podTrouble says why an app's pods are not ready: the diagnosis the
// kubernetes provider shares (k8sprovider.PodTrouble), with a short timeout
// of its own.
func (s *Stack) podTrouble(ctx context.Context, app string) string {
	return k8sprovider.PodTrouble(ctx, k8sprovider.PodTroubleInput{Client: s.cs, Namespace: namespace, Selector: appLabel + app, Timeout: s.cfg.Intervals.HTTPRequest})
}
