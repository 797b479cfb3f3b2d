package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
)

// Everything the suite creates in an operator's namespace carries
// LabelManaged, and the time after which no live run can still need it:
// the next run (and kccleanup) removes what a killed run left once that
// time has passed, and never what a live run is using.
const (
	labelKey, labelVal = "app.kubernetes.io/managed-by", "kratos-conformance"
	LabelManaged       = labelKey + "=" + labelVal // the selector of all of it
	annotationDeadline = "kratos-conformance/deadline"
)

// stamp labels an object the suite creates with its owner and deadline.
func stamp(m *metav1.ObjectMeta, deadline time.Time) {
	if m.Labels == nil {
		m.Labels = map[string]string{}
	}
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	m.Labels[labelKey] = labelVal
	m.Annotations[annotationDeadline] = deadline.UTC().Format(time.RFC3339)
}

// deadline is when a run started now ends at the latest: its longest step
// and its teardown.
func (s *Stack) deadline() time.Time {
	return time.Now().Add(s.cfg.Intervals.InClusterRun + s.cfg.Intervals.Teardown)
}

// managedKinds are the kinds the suite creates in a namespace, those that
// own others first (a Job's pods go with it).
var managedKinds = []struct {
	kind string
	gvr  schema.GroupVersionResource
}{
	{"Job", batchv1.SchemeGroupVersion.WithResource("jobs")},
	{"Pod", corev1.SchemeGroupVersion.WithResource("pods")},
	{"ConfigMap", corev1.SchemeGroupVersion.WithResource("configmaps")},
	{"RoleBinding", rbacv1.SchemeGroupVersion.WithResource("rolebindings")},
	{"Role", rbacv1.SchemeGroupVersion.WithResource("roles")},
	{"ServiceAccount", corev1.SchemeGroupVersion.WithResource("serviceaccounts")},
}

// Sweep deletes the suite's objects in ns whose deadline has passed (with
// all, every one of them) and names what it deleted.
func Sweep(ctx context.Context, cfg *rest.Config, ns string, all bool) ([]string, error) {
	mc, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	background := metav1.DeletePropagationBackground
	var gone []string
	var errs []error
	for _, k := range managedKinds {
		objs := mc.Resource(k.gvr).Namespace(ns)
		list, err := objs.List(ctx, metav1.ListOptions{LabelSelector: LabelManaged})
		if err != nil {
			errs = append(errs, fmt.Errorf("list %ss in namespace %s: %w", k.kind, ns, err))
			continue
		}
		for _, o := range list.Items {
			t, err := time.Parse(time.RFC3339, o.Annotations[annotationDeadline])
			if !all && (err != nil || time.Now().Before(t)) {
				continue // a live run's, or not stamped by the suite (a Job's pod goes with its Job)
			}
			err = objs.Delete(ctx, o.Name, metav1.DeleteOptions{PropagationPolicy: &background})
			if err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("delete %s %s/%s: %w", k.kind, ns, o.Name, err))
				continue
			}
			gone = append(gone, k.kind+" "+o.Name)
		}
	}
	return gone, errors.Join(errs...)
}
