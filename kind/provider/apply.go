package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// apply creates every object of the layout: configuration and Services
// first, then the Jobs Helm runs as pre-install hooks, each to completion,
// then the workloads.
func (s *Stack) apply(ctx context.Context) error {
	o, opts := s.rendered.Objects, metav1.CreateOptions{}
	core, apps := s.cs.CoreV1(), s.cs.AppsV1()
	if err := errors.Join(
		createAll(o.Namespaces, func(n *corev1.Namespace) error { _, err := core.Namespaces().Create(ctx, n, opts); return err }),
		createAll(o.ConfigMaps, func(c *corev1.ConfigMap) error {
			_, err := core.ConfigMaps(c.Namespace).Create(ctx, c, opts)
			return err
		}),
		createAll(o.Secrets, func(c *corev1.Secret) error { _, err := core.Secrets(c.Namespace).Create(ctx, c, opts); return err }),
		createAll(o.Services, func(c *corev1.Service) error { _, err := core.Services(c.Namespace).Create(ctx, c, opts); return err }),
	); err != nil {
		return err
	}
	// The test infrastructure first: a hook Job migrates a database that,
	// for a real release, exists before it.
	infra := slices.DeleteFunc(slices.Clone(o.Deployments), func(d appsv1.Deployment) bool { return d.Labels[partOf] != testInfra })
	if err := createAll(infra, func(d *appsv1.Deployment) error {
		_, err := apps.Deployments(d.Namespace).Create(ctx, d, opts)
		return err
	}); err != nil {
		return err
	}
	if len(o.Jobs) > 0 {
		for _, d := range infra {
			if err := s.waitRollout(ctx, d.Name); err != nil {
				return err
			}
		}
	}
	for i := range o.Jobs {
		j := &o.Jobs[i]
		if _, err := s.cs.BatchV1().Jobs(j.Namespace).Create(ctx, j, opts); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create Job %s/%s: %w", j.Namespace, j.Name, err)
		}
		if err := s.waitJob(ctx, j.Name, j.Spec.Template.Labels[strings.TrimSuffix(appLabel, "=")]); err != nil {
			return err
		}
	}
	return errors.Join(
		createAll(o.Deployments, func(d *appsv1.Deployment) error {
			_, err := apps.Deployments(d.Namespace).Create(ctx, d, opts)
			return err
		}),
		createAll(o.StatefulSets, func(d *appsv1.StatefulSet) error {
			_, err := apps.StatefulSets(d.Namespace).Create(ctx, d, opts)
			return err
		}),
	)
}

// createAll creates each object, taking one that already exists as created.
func createAll[T any, P interface {
	*T
	metav1.Object
}](objs []T, create func(P) error) error {
	for i := range objs {
		obj := P(&objs[i])
		if err := create(obj); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create %T %s/%s: %w", obj, obj.GetNamespace(), obj.GetName(), err)
		}
	}
	return nil
}
