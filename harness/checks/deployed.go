package checks

import (
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"kratos-conformance/internal/kratosenv"
	"kratos-conformance/kind"
)

// Deployed is what a Kratos deployment's Kubernetes objects say about it,
// read as Kratos reads them: serve's --config file through its mount, with
// serve's environment on top.
type Deployed struct {
	Config       []byte // serve's config, environment overrides applied
	ConfigSource string // where it came from, e.g. "ConfigMap kratos-config key kratos.yaml; env DSN, SECRETS_DEFAULT"
	Serve        string // e.g. "container kratos of Deployment kratos"
	ServePod     map[string]string
	Couriers     []string // where courier watch runs
	Migrations   []string // where migrate sql runs
}

// ReadDeployed finds the one serve container in o and its configuration.
// Several serve workloads (two releases in one namespace) are an error that
// asks for a narrower selection, never a guess.
func ReadDeployed(o *kind.Objects) (*Deployed, error) {
	all := kratosContainers(o)
	serves := byRole(all, roleServe)
	switch len(serves) {
	case 0:
		return nil, errors.New("no container runs kratos serve (its command or args name serve)")
	case 1:
	default:
		var where []string
		for _, s := range serves {
			where = append(where, s.where())
		}
		return nil, fmt.Errorf("%d containers run kratos serve (%s): select one deployment", len(serves), strings.Join(where, "; "))
	}
	s := serves[0]
	d := &Deployed{Serve: s.where(), ServePod: s.labels}
	for _, c := range byRole(all, roleCourier) {
		d.Couriers = append(d.Couriers, fmt.Sprintf("%s (%d replicas)", c.where(), c.replicas))
	}
	for _, m := range byRole(all, roleMigrate) {
		d.Migrations = append(d.Migrations, m.where())
	}
	file := configPath(s.c)
	if file == "" {
		return nil, fmt.Errorf("%s has no --config file", s.where())
	}
	src, key, ok := mountedKey(s.spec, s.c, file)
	if !ok {
		return nil, fmt.Errorf("%s reads %s, which no Secret or ConfigMap volume holds", s.where(), file)
	}
	raw, ok := keyValue(o, src, key)
	if !ok {
		return nil, fmt.Errorf("%s reads %s: %s has no key %s", s.where(), file, src, key)
	}
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(raw), &doc); err != nil {
		return nil, fmt.Errorf("%s key %s is not YAML: %w", src, key, err)
	}
	if doc == nil {
		doc = map[string]any{}
	}
	applied := kratosenv.Apply(doc, envOf(o, s.c))
	b, err := yaml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	d.Config, d.ConfigSource = b, src+" key "+key
	if len(applied) > 0 {
		d.ConfigSource += "; env " + strings.Join(applied, ", ")
	}
	return d, nil
}

func (k kratosContainer) where() string {
	kind := "container"
	if k.init {
		kind = "initContainer"
	}
	w := fmt.Sprintf("%s %s of %s", kind, k.c.Name, k.workload)
	if k.hook != "" {
		w += " (helm.sh/hook " + k.hook + ")"
	}
	return w
}

// envOf is the container's environment as the kubelet sets it: envFrom
// sources first, then env, which wins; a missing optional key is unset.
func envOf(o *kind.Objects, c *corev1.Container) map[string]string {
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		src := ""
		switch {
		case from.SecretRef != nil:
			src = "Secret " + from.SecretRef.Name
		case from.ConfigMapRef != nil:
			src = "ConfigMap " + from.ConfigMapRef.Name
		}
		for _, k := range sourceKeys(o, src) {
			if v, ok := keyValue(o, src, k); ok {
				env[from.Prefix+k] = v
			}
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			if v, ok := keyValue(o, "Secret "+e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key); ok {
				env[e.Name] = v
			}
		case e.ValueFrom.ConfigMapKeyRef != nil:
			if v, ok := keyValue(o, "ConfigMap "+e.ValueFrom.ConfigMapKeyRef.Name, e.ValueFrom.ConfigMapKeyRef.Key); ok {
				env[e.Name] = v
			}
		}
	}
	return env
}

func sourceKeys(o *kind.Objects, source string) []string {
	var keys []string
	for _, s := range o.Secrets {
		if "Secret "+s.Name == source {
			for k := range s.Data {
				keys = append(keys, k)
			}
			for k := range s.StringData {
				keys = append(keys, k)
			}
		}
	}
	for _, c := range o.ConfigMaps {
		if "ConfigMap "+c.Name == source {
			for k := range c.Data {
				keys = append(keys, k)
			}
		}
	}
	return keys
}
