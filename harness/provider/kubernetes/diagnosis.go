package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// PodTroubleInput names the pods PodTrouble diagnoses.
type PodTroubleInput struct {
	Client    kubernetes.Interface
	Namespace string
	Selector  string        // a label selector, such as app.kubernetes.io/name=kratos
	Timeout   time.Duration // the diagnosis' own bound: it runs after a wait's deadline too
}

func (in PodTroubleInput) validate() error {
	switch {
	case in.Client == nil:
		return errors.New("PodTroubleInput.Client is nil")
	case in.Namespace == "":
		return errors.New("PodTroubleInput.Namespace is empty")
	case in.Selector == "":
		return errors.New("PodTroubleInput.Selector is empty")
	case in.Timeout <= 0:
		return errors.New("PodTroubleInput.Timeout is not positive")
	}
	return nil
}

// PodTrouble says why the pods the selector matches in the namespace are
// not ready: pods not scheduled (with the scheduler's reason), containers
// waiting (for an image the node cannot pull, in a crash loop's back-off,
// ...), their last exits, containers running but not ready, each with its
// last log line. It runs after the wait's own deadline too, so it takes a
// short one of its own. The kind provider's waits end their errors with it.
func PodTrouble(ctx context.Context, in PodTroubleInput) string {
	if err := in.validate(); err != nil {
		return "cannot say why: " + err.Error()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), in.Timeout)
	defer cancel()
	pods, err := in.Client.CoreV1().Pods(in.Namespace).List(ctx, metav1.ListOptions{LabelSelector: in.Selector})
	switch {
	case err != nil:
		return "listing its pods: " + err.Error()
	case len(pods.Items) == 0:
		return "no pod yet"
	}
	var out []string
	for _, p := range pods.Items {
		if c := notScheduled(&p); c != nil {
			out = append(out, fmt.Sprintf("%s not scheduled (%s): %s", p.Name, c.Reason, c.Message))
		}
		for _, cs := range slices.Concat(p.Status.InitContainerStatuses, p.Status.ContainerStatuses) {
			what := containerTrouble(cs)
			if what == "" {
				continue
			}
			tail := int64(1)
			if log, err := in.Client.CoreV1().Pods(in.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: cs.Name, TailLines: &tail}).DoRaw(ctx); err == nil && len(log) > 0 {
				what += "; last log line: " + strings.TrimSpace(string(log))
			}
			out = append(out, p.Name+"/"+cs.Name+" "+what)
		}
	}
	return strings.Join(out, "; ")
}

// notScheduled is the pod's PodScheduled condition when the scheduler has
// not placed it (its reason, such as Unschedulable, and message), or nil.
func notScheduled(p *corev1.Pod) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if c := &p.Status.Conditions[i]; c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			return c
		}
	}
	return nil
}

// containerTrouble says what a container's status shows against it: what it
// waits for, else how it failed or last exited, else that it runs but is not ready;
// "" when none of these.
func containerTrouble(cs corev1.ContainerStatus) string {
	switch {
	case cs.State.Waiting != nil:
		return fmt.Sprintf("waiting: %s %s", cs.State.Waiting.Reason, cs.State.Waiting.Message)
	case cs.State.Terminated != nil && cs.State.Terminated.ExitCode != 0:
		// A Job's pod that does not restart (a migration) has only this exit.
		t := cs.State.Terminated
		return fmt.Sprintf("exited %d (%s)", t.ExitCode, t.Reason)
	case cs.LastTerminationState.Terminated != nil:
		t := cs.LastTerminationState.Terminated
		return fmt.Sprintf("exited %d (%s)", t.ExitCode, t.Reason)
	case cs.State.Running != nil && !cs.Ready:
		return "running, not ready"
	}
	return ""
}

// imagePullWait is the first of the containers that waits for an image the
// node cannot get, or nil.
func imagePullWait(statuses []corev1.ContainerStatus) *corev1.ContainerStateWaiting {
	for _, c := range statuses {
		if w := c.State.Waiting; w != nil && (w.Reason == "ErrImagePull" || w.Reason == "ImagePullBackOff" || w.Reason == "InvalidImageName" || w.Reason == "ErrImageNeverPull") {
			return w
		}
	}
	return nil
}

// imageTrouble is why the node cannot get a container's image, or "": the
// wording of the suite's own pods (the in-cluster run, the load generators),
// which fail at once on it.
func imageTrouble(p *corev1.Pod) string {
	if w := imagePullWait(p.Status.ContainerStatuses); w != nil {
		return w.Reason + ": " + w.Message
	}
	return ""
}

// podTroubleOf is why a pending pod is not scheduled, if it says: the
// wording of the suite's own pods.
func podTroubleOf(p *corev1.Pod) string {
	if c := notScheduled(p); c != nil {
		return "(not scheduled: " + c.Reason + ": " + c.Message + ")"
	}
	return ""
}
