package provider

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kratos-conformance/harness"
)

var _ harness.Supervised = (*Stack)(nil)

// container is the pod app and container name that run a component.
func (s *Stack) container(component harness.Component) (app, name string, err error) {
	if component == harness.ComponentCourier && s.chart() {
		return chartCourier, chartCourier, nil
	}
	if component == harness.ComponentCourier {
		return "kratos", courierContainer, nil
	}
	app, ok := deployments[component]
	if !ok {
		return "", "", fmt.Errorf("the kind stack has no component %q", component)
	}
	return app, app, nil // each manifest names its main container after its Deployment
}

// status is the component's container status in its app's running pod.
func (s *Stack) status(ctx context.Context, component harness.Component) (*corev1.Pod, *corev1.ContainerStatus, error) {
	app, name, err := s.container(component)
	if err != nil {
		return nil, nil, err
	}
	podName, err := s.runningPod(ctx, app)
	if err != nil {
		return nil, nil, err
	}
	pod, err := s.cs.CoreV1().Pods(namespace).Get(ctx, podName, metav1.GetOptions{})
	if err != nil {
		return nil, nil, err
	}
	for i, cs := range pod.Status.ContainerStatuses {
		if cs.Name == name {
			return pod, &pod.Status.ContainerStatuses[i], nil
		}
	}
	return nil, nil, fmt.Errorf("pod %s has no container %q", podName, name)
}

// Signal sends sig to the container's first process (its pid 1) from this
// machine: the node's processes are this machine's too, found by the
// container id in their cgroup. kubectl exec would need a kill binary in the image.
func (s *Stack) Signal(ctx context.Context, component harness.Component, sig syscall.Signal) error {
	_, pid, err := s.initPID(ctx, component)
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, sig); err != nil {
		return fmt.Errorf("signal %v to %s (pid %d): %w", sig, component, pid, err)
	}
	return nil
}

// initPID is the component's pod and this machine's pid of its container's first process.
func (s *Stack) initPID(ctx context.Context, component harness.Component) (pod string, pid int, err error) {
	p, cs, err := s.status(ctx, component)
	if err != nil {
		return "", 0, err
	}
	_, id, ok := strings.Cut(cs.ContainerID, "://")
	if !ok || cs.State.Running == nil {
		return "", 0, fmt.Errorf("container %s is not running (%q)", cs.Name, cs.ContainerID)
	}
	pid, err = containerInit(id)
	return p.Name, pid, err
}

// containerInit finds the process that is pid 1 in the container with this id.
func containerInit(id string) (int, error) {
	cgroups, _ := filepath.Glob("/proc/[0-9]*/cgroup")
	for _, path := range cgroups {
		b, err := os.ReadFile(path)
		if err != nil || !bytes.Contains(b, []byte(id)) {
			continue
		}
		dir := filepath.Dir(path)
		if nsPID(filepath.Join(dir, "status")) == "1" {
			var pid int
			if _, err := fmt.Sscan(filepath.Base(dir), &pid); err == nil {
				return pid, nil
			}
		}
	}
	return 0, fmt.Errorf("no process of container %s on this machine", id)
}

// nsPID is the innermost pid namespace's pid in a /proc/PID/status file.
func nsPID(status string) string {
	f, err := os.Open(status)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "NSpid:"); ok {
			fields := strings.Fields(rest)
			return fields[len(fields)-1]
		}
	}
	return ""
}

// Restarts is the kubelet's restart count of the component's container.
func (s *Stack) Restarts(ctx context.Context, component harness.Component) (int, error) {
	_, cs, err := s.status(ctx, component)
	if err != nil {
		return 0, err
	}
	return int(cs.RestartCount), nil
}

// Ready is the kubelet's readiness verdict on the component's container.
func (s *Stack) Ready(ctx context.Context, component harness.Component) (bool, error) {
	_, cs, err := s.status(ctx, component)
	if err != nil {
		return false, err
	}
	return cs.Ready, nil
}

// Liveness is the component's liveness probe in the running pod, as the API
// server holds it (its defaults filled in).
func (s *Stack) Liveness(ctx context.Context, component harness.Component) (harness.Probe, bool, error) {
	pod, cs, err := s.status(ctx, component)
	if err != nil {
		return harness.Probe{}, false, err
	}
	for _, c := range pod.Spec.Containers {
		if c.Name != cs.Name || c.LivenessProbe == nil {
			continue
		}
		lp, grace := c.LivenessProbe, *pod.Spec.TerminationGracePeriodSeconds
		if lp.TerminationGracePeriodSeconds != nil {
			grace = *lp.TerminationGracePeriodSeconds
		}
		sec := func(v int64) time.Duration { return time.Duration(v) * time.Second }
		return harness.Probe{Period: sec(int64(lp.PeriodSeconds)), Timeout: sec(int64(lp.TimeoutSeconds)),
			InitialDelay: sec(int64(lp.InitialDelaySeconds)), TerminationGrace: sec(grace), FailureThreshold: int(lp.FailureThreshold)}, true, nil
	}
	return harness.Probe{}, false, nil
}
