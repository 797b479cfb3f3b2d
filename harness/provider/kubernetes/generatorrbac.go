package kubernetes

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// generatorRBAC gives one generator Job its own ServiceAccount, Role and
// RoleBinding, all named after the Job: the Role lets its pods get their
// barrier ConfigMap (also named after the Job) and nothing else. Shared
// names broke side-by-side scenarios: two Jobs at once found the first's
// Role in place, and the second's pods could never read their barrier.
func (s *Stack) generatorRBAC(ctx context.Context, name string, undo *undoList) error {
	ns, deadline := s.opts.Namespace, s.deadline()
	meta := func() metav1.ObjectMeta {
		m := metav1.ObjectMeta{Name: name, Namespace: ns}
		stamp(&m, deadline)
		return m
	}
	sa := &corev1.ServiceAccount{ObjectMeta: meta()}
	role := &rbacv1.Role{ObjectMeta: meta(), Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}, ResourceNames: []string{name}},
	}}
	binding := &rbacv1.RoleBinding{ObjectMeta: meta(),
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: ns}}}
	sas, roles, bindings := s.cs.CoreV1().ServiceAccounts(ns), s.cs.RbacV1().Roles(ns), s.cs.RbacV1().RoleBindings(ns)
	steps := []struct {
		what   string
		create func() error
		remove func(context.Context) error
	}{
		{"ServiceAccount", func() error { _, err := sas.Create(ctx, sa, metav1.CreateOptions{}); return err },
			func(c context.Context) error { return sas.Delete(c, name, metav1.DeleteOptions{}) }},
		{"Role", func() error { _, err := roles.Create(ctx, role, metav1.CreateOptions{}); return err },
			func(c context.Context) error { return roles.Delete(c, name, metav1.DeleteOptions{}) }},
		{"RoleBinding", func() error { _, err := bindings.Create(ctx, binding, metav1.CreateOptions{}); return err },
			func(c context.Context) error { return bindings.Delete(c, name, metav1.DeleteOptions{}) }},
	}
	for _, st := range steps {
		if err := st.create(); err != nil {
			return fmt.Errorf("create the generators' %s %s/%s (the launching identity needs to create ServiceAccounts, Roles and RoleBindings): %w", st.what, ns, name, err)
		}
		undo.add(func(c context.Context) { _ = st.remove(c) })
	}
	return nil
}
