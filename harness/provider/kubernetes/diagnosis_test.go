package kubernetes

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// PodTrouble names each way a pod is not ready, with the container's last
// log line where it has one, and only for the pods the selector matches.
func TestPodTroubleNamesEachCause(t *testing.T) {
	const ns, app = "identity", "app.kubernetes.io/name=kratos"
	pod := func(name string, st corev1.PodStatus) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app.kubernetes.io/name": "kratos"}}, Status: st}
	}
	unscheduled := pod("kratos-unscheduled", corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: "0/1 nodes are available: 1 Insufficient cpu."}}})
	pull := pod("kratos-pull", corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{
		{Name: "kratos", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: `Back-off pulling image "oryd/kratos:nope"`}}}}})
	crash := pod("kratos-crash", corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
		{Name: "courier", RestartCount: 3,
			State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 40s restarting failed container=courier"}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}}}})
	restarted := pod("kratos-restarted", corev1.PodStatus{Phase: corev1.PodRunning, InitContainerStatuses: []corev1.ContainerStatus{
		{Name: "migrate", RestartCount: 1, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}}}})
	failedJob := pod("kratos-migrate-x", corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{
		{Name: "kratos-migrate", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}}}})
	unready := pod("kratos-unready", corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
		{Name: "serve", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}})
	other := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "mailpit-0", Namespace: ns, Labels: map[string]string{"app.kubernetes.io/name": "mailpit"}},
		Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: unscheduled.Status.Conditions}}

	cs := fake.NewClientset(unscheduled, pull, crash, restarted, failedJob, unready, other)
	// The last log line of each container, by its name (a log request does
	// not carry the pod's); a container that never started has none.
	logs := map[string]string{
		"courier": "time=... level=error msg=\"Unable to connect to the SMTP server\"\n",
		"migrate": "could not apply migration 20260101000000000000: connection refused\n",
		"serve":   "starting the public API on :4433\n",
	}
	cs.PrependReactor("get", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "log" {
			return false, nil, nil
		}
		o := a.(k8stesting.GenericAction).GetValue().(*corev1.PodLogOptions)
		if o.TailLines == nil || *o.TailLines != 1 {
			return true, nil, errors.New("not asked for the last line only")
		}
		line, ok := logs[o.Container]
		if !ok {
			return true, nil, errors.New(`container "` + o.Container + `" is waiting to start`)
		}
		return true, &runtime.Unknown{Raw: []byte(line)}, nil
	})

	got := PodTrouble(context.Background(), PodTroubleInput{Client: cs, Namespace: ns, Selector: app, Timeout: time.Second})
	for _, want := range []string{
		"kratos-unscheduled not scheduled (Unschedulable): 0/1 nodes are available: 1 Insufficient cpu.",
		`kratos-pull/kratos waiting: ImagePullBackOff Back-off pulling image "oryd/kratos:nope"`,
		`kratos-crash/courier waiting: CrashLoopBackOff back-off 40s restarting failed container=courier; last log line: time=... level=error msg="Unable to connect to the SMTP server"`,
		"kratos-restarted/migrate exited 1 (Error); last log line: could not apply migration 20260101000000000000: connection refused",
		"kratos-unready/serve running, not ready; last log line: starting the public API on :4433",
		"kratos-migrate-x/kratos-migrate exited 1 (Error)", // a Job's pod that does not restart
	} {
		if !strings.Contains(got, want) {
			t.Errorf("PodTrouble lacks %q; it says:\n%s", want, got)
		}
	}
	if strings.Contains(got, "mailpit") || strings.Contains(got, "kratos-pull/kratos waiting: ImagePullBackOff Back-off pulling image \"oryd/kratos:nope\"; last log line") {
		t.Errorf("PodTrouble names what it should not (another app's pod, or a log line of a container that never started):\n%s", got)
	}

	if got := PodTrouble(context.Background(), PodTroubleInput{Client: cs, Namespace: ns, Selector: "app.kubernetes.io/name=redis", Timeout: time.Second}); got != "no pod yet" {
		t.Errorf("no pod matches: got %q", got)
	}
	if got := PodTrouble(context.Background(), PodTroubleInput{Client: cs, Namespace: ns, Selector: app}); !strings.Contains(got, "PodTroubleInput.Timeout") {
		t.Errorf("a missing timeout is named: got %q", got)
	}
}

// The suite's own pods keep their wording, built from the same pieces.
func TestInClusterPodWording(t *testing.T) {
	p := &corev1.Pod{Status: corev1.PodStatus{
		Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: "0/1 nodes are available"}},
		ContainerStatuses: []corev1.ContainerStatus{
			{Name: "suite", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImageNeverPull", Message: "image is not present"}}}},
	}}
	if got, want := podTroubleOf(p), "(not scheduled: Unschedulable: 0/1 nodes are available)"; got != want {
		t.Errorf("podTroubleOf = %q, want %q", got, want)
	}
	if got, want := imageTrouble(p), "ErrImageNeverPull: image is not present"; got != want {
		t.Errorf("imageTrouble = %q, want %q", got, want)
	}
	p.Status.ContainerStatuses[0].State.Waiting.Reason = "CrashLoopBackOff"
	if got := imageTrouble(p); got != "" {
		t.Errorf("a crash loop is not an image the node cannot get: %q", got)
	}
}
