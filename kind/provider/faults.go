package provider

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"kratos-conformance/harness"
	"kratos-conformance/internal/wait"
)

var (
	_ harness.Faults          = (*Stack)(nil)
	_ harness.TogetherStarter = (*Stack)(nil)
)

// deployments are the components that are Deployments of their own; the
// courier is a container in kratos' pod (the guide's layout) or a
// StatefulSet (the chart's, chartcourier.go).
var deployments = map[harness.Component]string{
	harness.ComponentPostgres: "postgres", harness.ComponentRedis: "redis",
	harness.ComponentMailpit: "mailpit", harness.ComponentKratos: "kratos",
}

const courierContainer = "courier"

// Stop scales the component's Deployment to zero and returns once its pod is
// gone (deleted with the stop grace, not the pod's 30 s). The guide's
// courier, a container in Kratos' pod, is stopped by rolling that pod
// without it; the chart's by scaling its StatefulSet.
func (s *Stack) Stop(ctx context.Context, component harness.Component) error {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if component == harness.ComponentCourier {
		return s.switchCourier(ctx, false)
	}
	name, err := deploymentOf(component)
	if err != nil {
		return err
	}
	// The kubelet stops with SIGTERM, which is Postgres' smart shutdown: it
	// serves Kratos' pooled connections until the grace runs out. The fault
	// is a fast shutdown (SIGINT, the official image's STOPSIGNAL), as on the
	// other providers, sent once the pod is terminating (else the kubelet
	// would restart the container in place).
	var pgPod string
	var pgPID int
	if component == harness.ComponentPostgres {
		if pgPod, pgPID, err = s.initPID(ctx, component); err != nil {
			return err
		}
	}
	if err := s.scale(ctx, deployment, name, 0); err != nil {
		return err
	}
	if pgPID != 0 {
		if err := s.waitTerminating(ctx, pgPod); err != nil {
			return err
		}
		if err := syscall.Kill(pgPID, syscall.SIGINT); err != nil {
			return fmt.Errorf("fast shutdown of Postgres (SIGINT to pid %d): %w", pgPID, err)
		}
	}
	grace := int64(s.cfg.Intervals.StopGrace.Seconds())
	if err := s.cs.CoreV1().Pods(namespace).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &grace},
		metav1.ListOptions{LabelSelector: appLabel + name}); err != nil {
		return fmt.Errorf("delete the pods of %s: %w", name, err)
	}
	return s.waitRollout(ctx, name)
}

// Start scales the component's Deployment back to one, renews its
// port-forward to the new pod and runs the component's own readiness check.
// The courier comes back by rolling Kratos' pod with it.
func (s *Stack) Start(ctx context.Context, component harness.Component) error {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if component == harness.ComponentCourier {
		return s.switchCourier(ctx, true)
	}
	name, err := deploymentOf(component)
	if err != nil {
		return err
	}
	d, err := s.cs.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if *d.Spec.Replicas > 0 {
		return fmt.Errorf("%s is running: Stop it before starting it again", component)
	}
	if err := s.scale(ctx, deployment, name, 1); err != nil {
		return err
	}
	return s.started(ctx, name, hasCourier(d))
}

// deploymentOf is the Deployment that runs a component of its own.
func deploymentOf(component harness.Component) (string, error) {
	name, ok := deployments[component]
	if !ok {
		return "", fmt.Errorf("the kind stack has no component %q", component)
	}
	return name, nil
}

// switchCourier stops or starts the courier where the layout runs it.
func (s *Stack) switchCourier(ctx context.Context, on bool) error {
	if s.chart() {
		return s.setChartCourier(ctx, on)
	}
	return s.setCourier(ctx, on)
}

// StartTogether starts Kratos and its courier as the guide's pod does: one
// pod, its containers started in their order without waiting for each other.
func (s *Stack) StartTogether(ctx context.Context, components ...harness.Component) error {
	sorted := slices.Sorted(slices.Values(components))
	if !slices.Equal(sorted, []harness.Component{harness.ComponentKratos, harness.ComponentCourier}) {
		return fmt.Errorf("the kind stack starts only kratos and the courier together (one pod), not %v", components)
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	d, err := s.cs.AppsV1().Deployments(namespace).Get(ctx, "kratos", metav1.GetOptions{})
	if err != nil {
		return err
	}
	if *d.Spec.Replicas > 0 {
		return fmt.Errorf("kratos is running: Stop it before starting it again")
	}
	if s.chart() {
		return s.startChartTogether(ctx)
	}
	if !hasCourier(d) {
		if err := s.withCourier(d); err != nil {
			return err
		}
	}
	one := int32(1)
	d.Spec.Replicas = &one
	if _, err := s.cs.AppsV1().Deployments(namespace).Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("start kratos with its courier: %w", err)
	}
	return s.started(ctx, "kratos", true)
}

// setCourier puts the courier container into Kratos' pod template or takes it
// out, and waits for the rollout when Kratos runs.
func (s *Stack) setCourier(ctx context.Context, on bool) error {
	d, err := s.cs.AppsV1().Deployments(namespace).Get(ctx, "kratos", metav1.GetOptions{})
	if err != nil {
		return err
	}
	running := *d.Spec.Replicas > 0
	switch {
	case on && hasCourier(d) && running:
		return fmt.Errorf("%s is running: Stop it before starting it again", harness.ComponentCourier)
	case on && !running:
		return fmt.Errorf("the courier runs in Kratos' pod, which is scaled to zero: start %s (or both together)", harness.ComponentKratos)
	case !on && !hasCourier(d):
		return nil
	}
	if on {
		if err := s.withCourier(d); err != nil {
			return err
		}
	} else {
		c := &d.Spec.Template.Spec.Containers
		*c = slices.DeleteFunc(*c, func(c corev1.Container) bool { return c.Name == courierContainer })
	}
	if _, err := s.cs.AppsV1().Deployments(namespace).Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("roll kratos' pod %s the courier: %w", map[bool]string{true: "with", false: "without"}[on], err)
	}
	if !running {
		return nil
	}
	return s.started(ctx, "kratos", on)
}

// started waits for the app's rollout, renews its forward and runs its own
// readiness check (for Kratos with a courier: the courier's start line too).
func (s *Stack) started(ctx context.Context, app string, courier bool) error {
	if err := s.waitRollout(ctx, app); err != nil {
		return err
	}
	if fw := s.forwards[app]; fw != nil {
		if err := s.forwardTo(ctx, app, fw.Local); err != nil {
			return err
		}
	}
	iv := s.cfg.Intervals
	switch app {
	case "postgres":
		return wait.For(ctx, wait.Input{Name: "Postgres accepting connections", Timeout: iv.PostgresReady, Interval: iv.Poll,
			Check: func(ctx context.Context) error {
				conn, err := pgx.Connect(ctx, s.ep.PostgresDSN)
				if err != nil {
					return err
				}
				return conn.Close(ctx)
			}})
	case "mailpit":
		client := &http.Client{Timeout: iv.HTTPRequest}
		return wait.For(ctx, wait.Input{Name: "Mailpit API", Timeout: iv.MailpitReady, Interval: iv.Poll,
			Check: wait.HTTPStatus(client, s.ep.MailpitAPI.JoinPath("api/v1/info").String(), http.StatusOK)})
	case "kratos":
		if err := harness.WaitForKratos(ctx, s.ep, iv, nil); err != nil {
			return err
		}
		if !courier {
			return nil
		}
		return s.courierLogged(ctx, s.forwards["kratos"].Pod, courierContainer)
	}
	return nil
}

// courierLogged waits for the courier's start line in the pod's container log.
func (s *Stack) courierLogged(ctx context.Context, pod, container string) error {
	iv := s.cfg.Intervals
	return wait.For(ctx, wait.Input{Name: "courier started in pod " + pod, Timeout: iv.KratosReady, Interval: iv.Poll,
		Check: func(ctx context.Context) error {
			log, err := s.cs.CoreV1().Pods(namespace).GetLogs(pod, &corev1.PodLogOptions{Container: container}).DoRaw(ctx)
			if err != nil {
				return err
			}
			if !strings.Contains(string(log), harness.CourierStartLine) {
				return fmt.Errorf("no %q line in the courier's log yet", harness.CourierStartLine)
			}
			return nil
		}})
}

// The workloads scale patches.
const (
	deployment  = "deployment"
	statefulSet = "statefulset"
)

func (s *Stack) scale(ctx context.Context, workload, name string, replicas int) error {
	patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, replicas)
	var err error
	if workload == statefulSet {
		_, err = s.cs.AppsV1().StatefulSets(namespace).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	} else {
		_, err = s.cs.AppsV1().Deployments(namespace).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	}
	if err != nil {
		return fmt.Errorf("scale %s %s/%s to %d: %w", workload, namespace, name, replicas, err)
	}
	return nil
}

// withCourier adds the courier container, as kind/manifests render it, to d.
func (s *Stack) withCourier(d *appsv1.Deployment) error {
	for _, r := range s.rendered.Objects.Deployments {
		for _, c := range r.Spec.Template.Spec.Containers {
			if r.Name == "kratos" && c.Name == courierContainer {
				d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, c)
				return nil
			}
		}
	}
	return fmt.Errorf("kind/manifests has no container %q in deployment kratos", courierContainer)
}

func hasCourier(d *appsv1.Deployment) bool {
	return slices.ContainsFunc(d.Spec.Template.Spec.Containers, func(c corev1.Container) bool { return c.Name == courierContainer })
}

// waitTerminating waits until the pod is marked for deletion.
func (s *Stack) waitTerminating(ctx context.Context, pod string) error {
	iv := s.cfg.Intervals
	return wait.For(ctx, wait.Input{Name: "pod " + pod + " terminating", Timeout: iv.Rollout, Interval: iv.Poll,
		Check: func(ctx context.Context) error {
			p, err := s.cs.CoreV1().Pods(namespace).Get(ctx, pod, metav1.GetOptions{})
			if apierrors.IsNotFound(err) || err == nil && p.DeletionTimestamp != nil {
				return nil
			}
			if err != nil {
				return err
			}
			return fmt.Errorf("not marked for deletion yet")
		}})
}

var _ harness.CourierScaler = (*Stack)(nil)

// ScaleCouriers runs n couriers: the chart's courier StatefulSet scaled to n;
// in the guide's layout the courier is in serve's pod, so n Kratos pods, as
// an operator who scales the Deployment gets.
func (s *Stack) ScaleCouriers(ctx context.Context, n int) error {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	app, container, workload := "kratos", courierContainer, deployment
	if s.chart() {
		app, container, workload = chartCourier, chartCourier, statefulSet
	}
	if err := s.scale(ctx, workload, app, n); err != nil {
		return err
	}
	var err error
	if s.chart() {
		err = s.waitStatefulSet(ctx, app, app)
	} else {
		err = s.waitRollout(ctx, app)
	}
	if err != nil {
		return err
	}
	if !s.chart() { // a scale-down may have taken the pod the admin forward reached
		if err := s.forwardTo(ctx, "kratos", s.forwards["kratos"].Local); err != nil {
			return err
		}
	}
	pods, err := s.cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: appLabel + app})
	if err != nil {
		return err
	}
	for _, p := range pods.Items {
		if err := s.courierLogged(ctx, p.Name, container); err != nil {
			return err
		}
	}
	return nil
}
