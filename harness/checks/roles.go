package checks

import (
	"crypto/sha256"
	"fmt"
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"kratos-conformance/kind"
)

// role is what a Kratos container does, read from its command line, so the
// checks find serve, the courier and migrations wherever a layout puts them
// (the guide: one pod; Ory's chart: a Deployment, a StatefulSet, a hook Job).
type role string

const (
	roleServe   role = "serve"
	roleCourier role = "courier"
	roleMigrate role = "migrate"
)

// kratosContainer is one container running Kratos, and where it runs.
type kratosContainer struct {
	role     role
	workload string // e.g. "Deployment kratos"
	spec     *corev1.PodSpec
	c        *corev1.Container
	init     bool              // an initContainer of its pod
	replicas int32             // the workload's replicas; a Job's pod runs once
	labels   map[string]string // the pod template's labels
	hook     string            // a Job's helm.sh/hook annotation
}

// kratosContainers finds every container that runs Kratos in one of the three roles.
func kratosContainers(o *kind.Objects) []kratosContainer {
	var out []kratosContainer
	add := func(workload string, spec *corev1.PodSpec, replicas *int32, labels map[string]string, hook string) {
		n := int32(1)
		if replicas != nil {
			n = *replicas
		}
		for i, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
			for j := range list {
				if r, ok := roleOf(&list[j]); ok {
					out = append(out, kratosContainer{role: r, workload: workload, spec: spec, c: &list[j], init: i == 0, replicas: n, labels: labels, hook: hook})
				}
			}
		}
	}
	for i := range o.Deployments {
		d := &o.Deployments[i]
		add("Deployment "+d.Name, &d.Spec.Template.Spec, d.Spec.Replicas, d.Spec.Template.Labels, "")
	}
	for i := range o.StatefulSets {
		s := &o.StatefulSets[i]
		add("StatefulSet "+s.Name, &s.Spec.Template.Spec, s.Spec.Replicas, s.Spec.Template.Labels, "")
	}
	for i := range o.Jobs {
		j := &o.Jobs[i]
		add("Job "+j.Name, &j.Spec.Template.Spec, nil, j.Spec.Template.Labels, j.Annotations["helm.sh/hook"])
	}
	return out
}

func byRole(all []kratosContainer, r role) []kratosContainer {
	return slices.DeleteFunc(slices.Clone(all), func(k kratosContainer) bool { return k.role != r })
}

// words is the Kratos command line after the binary: the command's tail
// when it names kratos, then the args.
func words(c *corev1.Container) []string {
	var w []string
	if len(c.Command) > 0 && path.Base(c.Command[0]) == "kratos" {
		w = append(w, c.Command[1:]...)
	}
	return append(w, c.Args...)
}

func roleOf(c *corev1.Container) (role, bool) {
	w := subcommand(words(c))
	switch {
	case len(w) >= 1 && w[0] == "serve":
		return roleServe, true
	case len(w) >= 2 && w[0] == "courier" && w[1] == "watch":
		return roleCourier, true
	case len(w) >= 2 && w[0] == "migrate" && w[1] == "sql":
		return roleMigrate, true
	}
	return "", false
}

// valueFlags are the flags whose value is the next word and that say
// nothing about the role: where the config is, where metrics go.
var valueFlags = []string{"-c", "--config", "--expose-metrics-port"}

// subcommand is the command line without those flags and their values.
func subcommand(w []string) []string {
	var out []string
	for i := 0; i < len(w); i++ {
		if slices.Contains(valueFlags, w[i]) {
			i++
			continue
		}
		out = append(out, w[i])
	}
	return out
}

// configPath is the file the container's -c or --config names.
func configPath(c *corev1.Container) string {
	w := words(c)
	for i := 0; i+1 < len(w); i++ {
		if w[i] == "-c" || w[i] == "--config" {
			return w[i+1]
		}
	}
	return ""
}

// mountedKey finds which Secret or ConfigMap key a file path in the container
// is, through its mounts: ("Secret identity-configs", "configs.yaml").
func mountedKey(spec *corev1.PodSpec, c *corev1.Container, file string) (source, key string, ok bool) {
	for _, m := range c.VolumeMounts {
		dir := strings.TrimSuffix(m.MountPath, "/") + "/"
		if !strings.HasPrefix(file, dir) {
			continue
		}
		for _, v := range spec.Volumes {
			if v.Name != m.Name {
				continue
			}
			switch {
			case v.Secret != nil:
				return "Secret " + v.Secret.SecretName, strings.TrimPrefix(file, dir), true
			case v.ConfigMap != nil:
				return "ConfigMap " + v.ConfigMap.Name, strings.TrimPrefix(file, dir), true
			}
		}
	}
	return "", "", false
}

// keyValue is the content of a Secret's or ConfigMap's key in the set.
func keyValue(o *kind.Objects, source, key string) (string, bool) {
	for _, s := range o.Secrets {
		if "Secret "+s.Name == source {
			if v, ok := s.StringData[key]; ok {
				return v, true
			}
			v, ok := s.Data[key]
			return string(v), ok
		}
	}
	for _, c := range o.ConfigMaps {
		if "ConfigMap "+c.Name == source {
			v, ok := c.Data[key]
			return v, ok
		}
	}
	return "", false
}

// secretSources fingerprints where a container's Kratos secrets come from:
// the config file's source and key, and each SECRETS_* variable's.
func secretSources(k kratosContainer) string {
	var parts []string
	if src, key, ok := mountedKey(k.spec, k.c, configPath(k.c)); ok {
		parts = append(parts, "config "+src+"/"+key)
	}
	for _, e := range k.c.Env {
		if !strings.HasPrefix(e.Name, "SECRETS_") {
			continue
		}
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			parts = append(parts, fmt.Sprintf("%s from Secret %s/%s", e.Name, e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key))
		default:
			parts = append(parts, fmt.Sprintf("%s inline %x", e.Name, sha256.Sum256([]byte(e.Value))))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}
