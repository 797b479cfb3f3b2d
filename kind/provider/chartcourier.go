package provider

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	manifests "kratos-conformance/kind"
)

// chartCourier names the chart layout's courier: its StatefulSet, its pods'
// app label and its container.
const chartCourier = "kratos-courier"

func (s *Stack) chart() bool { return s.opts.Layout == manifests.LayoutChart }

// setChartCourier scales the chart's courier StatefulSet to one or to zero.
func (s *Stack) setChartCourier(ctx context.Context, on bool) error {
	st, err := s.cs.AppsV1().StatefulSets(namespace).Get(ctx, chartCourier, metav1.GetOptions{})
	if err != nil {
		return err
	}
	running := *st.Spec.Replicas > 0
	switch {
	case on && running:
		return fmt.Errorf("%s is running: Stop it before starting it again", chartCourier)
	case !on && !running:
		return nil
	case !on:
		if err := s.scale(ctx, statefulSet, chartCourier, 0); err != nil {
			return err
		}
		grace := int64(s.cfg.Intervals.StopGrace.Seconds())
		if err := s.cs.CoreV1().Pods(namespace).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &grace},
			metav1.ListOptions{LabelSelector: appLabel + chartCourier}); err != nil {
			return fmt.Errorf("delete the pods of %s: %w", chartCourier, err)
		}
		return s.waitStatefulSet(ctx, chartCourier, chartCourier)
	}
	if err := s.scale(ctx, statefulSet, chartCourier, 1); err != nil {
		return err
	}
	return s.chartCourierStarted(ctx)
}

// startChartTogether scales serve's Deployment and the courier's StatefulSet
// up back to back, as a helm install creates both, then waits for each.
func (s *Stack) startChartTogether(ctx context.Context) error {
	st, err := s.cs.AppsV1().StatefulSets(namespace).Get(ctx, chartCourier, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if *st.Spec.Replicas > 0 {
		return fmt.Errorf("%s is running: Stop it before starting it again", chartCourier)
	}
	if err := s.scale(ctx, deployment, "kratos", 1); err != nil {
		return err
	}
	if err := s.scale(ctx, statefulSet, chartCourier, 1); err != nil {
		return err
	}
	if err := s.started(ctx, "kratos", false); err != nil {
		return err
	}
	return s.chartCourierStarted(ctx)
}

func (s *Stack) chartCourierStarted(ctx context.Context) error {
	if err := s.waitStatefulSet(ctx, chartCourier, chartCourier); err != nil {
		return err
	}
	pod, err := s.runningPod(ctx, chartCourier)
	if err != nil {
		return err
	}
	return s.courierLogged(ctx, pod, chartCourier)
}
