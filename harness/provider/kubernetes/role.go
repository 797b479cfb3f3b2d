package kubernetes

import (
	"maps"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"

	"kratos-conformance/kind"
)

// tailorRole narrows rbac.yaml's Role to the deployment read: get on the
// Secrets and on the ConfigMaps Kratos' pods reference, each by name (a
// rule without names would grant every one), and no port-forward, which a
// pod in the cluster does not need: it reaches pods and Services directly.
// extra are ConfigMaps of the run's own its pods read (the generators'
// barrier).
func tailorRole(role *rbacv1.Role, objs *kind.Objects, extra ...string) {
	secrets, configMaps := referenced(objs.PodSpecs())
	for _, name := range extra {
		configMaps[name] = true
	}
	var rules []rbacv1.PolicyRule
	for _, r := range role.Rules {
		switch {
		case slices.Contains(r.Resources, "pods/portforward"):
		case slices.Contains(r.Resources, "secrets") || slices.Contains(r.Resources, "configmaps"):
			for _, by := range []struct {
				resource string
				names    map[string]bool
			}{{"secrets", secrets}, {"configmaps", configMaps}} {
				if len(by.names) > 0 {
					rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{by.resource}, Verbs: []string{"get"},
						ResourceNames: slices.Sorted(maps.Keys(by.names))})
				}
			}
		default:
			rules = append(rules, r)
		}
	}
	role.Rules = rules
}
