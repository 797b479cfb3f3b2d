package checks

import (
	"fmt"
	"slices"
	"strings"

	"kratos-conformance/reports"

	corev1 "k8s.io/api/core/v1"

	"kratos-conformance/fixtures"
	"kratos-conformance/kind"
)

// Check runs the guide's checklist on the rendered config and the manifests'
// own checks on the objects.
func Check(r *kind.Rendered) []Result {
	var out []Result
	if cfg, err := ParseConfig(r.KratosConfig); err != nil {
		out = append(out, Result{ID: "KM-CONFIG-000", Requirement: "configs.yaml parses", Status: reports.Fail, Detail: err.Error()})
	} else {
		out = append(out, CheckConfig(cfg)...)
	}
	return append(out, CheckObjects(r.Objects)...)
}

// CheckObjects checks the manifests alone.
func CheckObjects(o *kind.Objects) []Result {
	k := kratosPod(o)
	return []Result{
		adminNotExposed(o), volumesExist(o), configMounted(o, k), schemaMatchesFixture(o), servicePorts(o, k),
		oneImageThreeRoles(k), migrateFirst(k), courierRuns(k), noDev(o), probes(k), hardened(k),
	}
}

// kratosSpec is the kratos Deployment's pod spec, or nil.
type kratosSpec = corev1.PodSpec

func kratosPod(o *kind.Objects) *kratosSpec {
	for i := range o.Deployments {
		if o.Deployments[i].Name == "kratos" {
			return &o.Deployments[i].Spec.Template.Spec
		}
	}
	return nil
}

func container(spec *kratosSpec, name string) *corev1.Container {
	if spec == nil {
		return nil
	}
	for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

func res(id, requirement string, problems []string) Result {
	r := Result{ID: id, Requirement: requirement, Status: reports.Pass}
	if len(problems) > 0 {
		r.Status, r.Detail = reports.Fail, strings.Join(problems, "; ")
	}
	return r
}

// adminNotExposed: the guide's "never, ever expose Kratos Admin interface (port 4434) to the public internet".
func adminNotExposed(o *kind.Objects) Result {
	var problems []string
	for _, s := range o.Services {
		if s.Spec.Type != corev1.ServiceTypeNodePort && s.Spec.Type != corev1.ServiceTypeLoadBalancer {
			continue
		}
		for _, p := range s.Spec.Ports {
			if p.Port == 4434 || p.TargetPort.String() == "admin" || p.TargetPort.IntValue() == 4434 {
				problems = append(problems, fmt.Sprintf("Service %s of type %s exposes the admin port", s.Name, s.Spec.Type))
			}
		}
	}
	for _, ing := range o.Ingresses {
		for _, rule := range ing.Spec.Rules {
			if rule.HTTP == nil {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				if p.Backend.Service != nil && (p.Backend.Service.Name == "kratos-admin" || p.Backend.Service.Port.Number == 4434) {
					problems = append(problems, fmt.Sprintf("Ingress %s routes to the admin API", ing.Name))
				}
			}
		}
	}
	return res("KM-ADMIN-001", "the admin API (4434) is not exposed by a NodePort or LoadBalancer Service or an Ingress", problems)
}

// volumesExist: every ConfigMap and Secret a pod mounts or reads is in the set.
func volumesExist(o *kind.Objects) Result {
	have := map[string]bool{}
	for _, c := range o.ConfigMaps {
		have["ConfigMap/"+c.Name] = true
	}
	for _, s := range o.Secrets {
		have["Secret/"+s.Name] = true
	}
	var problems []string
	for _, d := range o.Deployments {
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.ConfigMap != nil && !have["ConfigMap/"+v.ConfigMap.Name] {
				problems = append(problems, fmt.Sprintf("%s mounts ConfigMap %s, which is not defined", d.Name, v.ConfigMap.Name))
			}
			if v.Secret != nil && !have["Secret/"+v.Secret.SecretName] {
				problems = append(problems, fmt.Sprintf("%s mounts Secret %s, which is not defined", d.Name, v.Secret.SecretName))
			}
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && !have["Secret/"+e.ValueFrom.SecretKeyRef.Name] {
					problems = append(problems, fmt.Sprintf("%s reads Secret %s, which is not defined", d.Name, e.ValueFrom.SecretKeyRef.Name))
				}
			}
		}
	}
	return res("KM-WIRE-001", "every ConfigMap and Secret the pods use is defined", problems)
}

// configMounted: each Kratos container's -c path lies in the mount of Secret
// identity-configs and names a key it holds; the schema ConfigMap is mounted too.
func configMounted(o *kind.Objects, spec *kratosSpec) Result {
	var problems []string
	if spec == nil {
		return res("KM-WIRE-002", "Kratos reads its config and schema from the guide's Secret and ConfigMap", []string{"no Deployment kratos"})
	}
	volumeOf := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumeOf[v.Name] = v
	}
	keys := map[string]bool{}
	for _, s := range o.Secrets {
		if s.Name == "identity-configs" {
			for k := range s.StringData {
				keys[k] = true
			}
			for k := range s.Data {
				keys[k] = true
			}
		}
	}
	for _, name := range []string{"migrate", "kratos", "courier"} {
		c := container(spec, name)
		if c == nil {
			continue
		}
		path := flagValue(c.Args, "-c")
		found, schemas := false, false
		for _, m := range c.VolumeMounts {
			v := volumeOf[m.Name]
			if v.Secret != nil && v.Secret.SecretName == "identity-configs" && strings.HasPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/") {
				found = keys[strings.TrimPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/")]
			}
			schemas = schemas || (v.ConfigMap != nil && v.ConfigMap.Name == "identity-schemas" && m.MountPath == "/identity/schemas")
		}
		if !found {
			problems = append(problems, fmt.Sprintf("container %s reads -c %q, which is no key of Secret identity-configs under its mount", name, path))
		}
		if !schemas {
			problems = append(problems, fmt.Sprintf("container %s does not mount ConfigMap identity-schemas at /identity/schemas", name))
		}
	}
	return res("KM-WIRE-002", "Kratos reads its config and schema from the guide's Secret and ConfigMap", problems)
}

func flagValue(args []string, flag string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag {
			return args[i+1]
		}
	}
	return ""
}

func schemaMatchesFixture(o *kind.Objects) Result {
	var problems []string
	found := false
	for _, c := range o.ConfigMaps {
		if c.Name == "identity-schemas" {
			found = true
			if strings.TrimSpace(c.Data["default.json"]) != strings.TrimSpace(string(fixtures.IdentitySchema())) {
				problems = append(problems, "ConfigMap identity-schemas default.json differs from fixtures/kratos/identity.default.schema.json")
			}
		}
	}
	if !found {
		problems = append(problems, "no ConfigMap identity-schemas")
	}
	return res("KM-WIRE-003", "the identity schema in the ConfigMap is the one the other providers use", problems)
}

// servicePorts: kratos-public and kratos-admin point at named container ports 4433 and 4434.
func servicePorts(o *kind.Objects, spec *kratosSpec) Result {
	want := map[string]int32{"kratos-public": 4433, "kratos-admin": 4434}
	ports := map[string]int32{}
	if c := container(spec, "kratos"); c != nil {
		for _, p := range c.Ports {
			ports[p.Name] = p.ContainerPort
		}
	}
	var problems []string
	for name, port := range want {
		var svc *corev1.Service
		for i := range o.Services {
			if o.Services[i].Name == name {
				svc = &o.Services[i]
			}
		}
		if svc == nil {
			problems = append(problems, "no Service "+name)
			continue
		}
		for _, p := range svc.Spec.Ports {
			target := p.TargetPort.IntVal
			if p.TargetPort.StrVal != "" {
				target = ports[p.TargetPort.StrVal]
			}
			if p.Port != port || target != port {
				problems = append(problems, fmt.Sprintf("Service %s maps %d to %s (container port %d), want %d to %d", name, p.Port, p.TargetPort.String(), target, port, port))
			}
		}
	}
	return res("KM-WIRE-004", "Services kratos-public and kratos-admin reach the container's 4433 and 4434", problems)
}

func oneImageThreeRoles(spec *kratosSpec) Result {
	var problems []string
	images := map[string]bool{}
	for _, role := range []struct {
		name string
		args []string
	}{{"migrate", []string{"migrate", "sql", "-e", "--yes"}}, {"kratos", []string{"serve"}}, {"courier", []string{"courier", "watch"}}} {
		c := container(spec, role.name)
		if c == nil {
			problems = append(problems, "no container "+role.name)
			continue
		}
		images[c.Image] = true
		if rest := withoutConfigFlag(c.Args); !slices.Equal(rest, role.args) {
			problems = append(problems, fmt.Sprintf("container %s runs %v, want %v", role.name, rest, role.args))
		}
	}
	if len(images) > 1 {
		problems = append(problems, fmt.Sprintf("migrate, kratos and courier use different images: %v", keys(images)))
	}
	return res("KM-WIRE-005", "migrate, kratos and courier run one image with the guide's commands", problems)
}

func withoutConfigFlag(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == "-c" || args[i] == "--config" {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func migrateFirst(spec *kratosSpec) Result {
	var problems []string
	ok := false
	if spec != nil {
		for _, c := range spec.InitContainers {
			ok = ok || slices.Contains(c.Args, "migrate")
		}
	}
	if !ok {
		problems = append(problems, "no initContainer runs migrate: migrations must finish before serve starts")
	}
	return res("KM-MIGRATE-001", "migrations run as their own step before serve (initContainer)", problems)
}

func courierRuns(spec *kratosSpec) Result {
	ok := container(spec, "courier") != nil
	if c := container(spec, "kratos"); c != nil && slices.Contains(c.Args, "--watch-courier") {
		ok = true
	}
	var problems []string
	if !ok {
		problems = append(problems, "no courier container and serve lacks --watch-courier: verification and recovery mail is never sent")
	}
	return res("KM-COURIER-001", "a courier runs (its own container, or serve --watch-courier)", problems)
}

func noDev(o *kind.Objects) Result {
	var problems []string
	for _, d := range o.Deployments {
		for _, list := range [][]corev1.Container{d.Spec.Template.Spec.InitContainers, d.Spec.Template.Spec.Containers} {
			for _, c := range list {
				if slices.Contains(c.Args, "--dev") {
					problems = append(problems, fmt.Sprintf("%s/%s runs with --dev", d.Name, c.Name))
				}
			}
		}
	}
	return res("KM-DEV-001", "no container runs Kratos with --dev", problems)
}

func probes(spec *kratosSpec) Result {
	var problems []string
	c := container(spec, "kratos")
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
	}{{"readiness", probeOf(c, true)}, {"liveness", probeOf(c, false)}} {
		if p.probe == nil || p.probe.HTTPGet == nil || !strings.Contains(p.probe.HTTPGet.Path, "/health/") {
			problems = append(problems, "kratos has no "+p.name+" probe on a health endpoint")
		}
	}
	return res("KM-PROBE-001", "the kratos container has readiness and liveness probes on its health endpoints", problems)
}

func probeOf(c *corev1.Container, readiness bool) *corev1.Probe {
	if c == nil {
		return nil
	}
	if readiness {
		return c.ReadinessProbe
	}
	return c.LivenessProbe
}

func hardened(spec *kratosSpec) Result {
	var problems []string
	if spec == nil {
		return res("KM-SEC-001", "Kratos runs as non-root with resource requests", []string{"no Deployment kratos"})
	}
	podNonRoot := spec.SecurityContext != nil && spec.SecurityContext.RunAsNonRoot != nil && *spec.SecurityContext.RunAsNonRoot
	for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for _, c := range list {
			nonRoot := podNonRoot || (c.SecurityContext != nil && c.SecurityContext.RunAsNonRoot != nil && *c.SecurityContext.RunAsNonRoot)
			if !nonRoot {
				problems = append(problems, c.Name+" may run as root (runAsNonRoot not set)")
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
				problems = append(problems, c.Name+" has no CPU or memory request")
			}
		}
	}
	return res("KM-SEC-001", "Kratos runs as non-root with resource requests", problems)
}
