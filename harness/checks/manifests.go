package checks

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"kratos-conformance/reports"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"kratos-conformance/fixtures"
	"kratos-conformance/kind"
)

// Check runs the guide's checklist on the rendered config and the manifests'
// own checks on the objects, whichever layout they follow.
func Check(r *kind.Rendered) []Result {
	var out []Result
	if cfg, err := ParseConfig(r.KratosConfig); err != nil {
		out = append(out, Result{ID: "KM-CONFIG-000", Requirement: "configs.yaml parses", Status: reports.Fail, Detail: err.Error()})
	} else {
		out = append(out, CheckConfig(cfg)...)
		out = append(out, schemaMatchesFixture(r.Objects, cfg))
	}
	return append(out, CheckObjects(r.Objects)...)
}

// CheckObjects checks the manifests alone. Kratos' containers are found by
// what they run, so the guide's one pod and Ory's chart (serve Deployment,
// courier StatefulSet, migration hook Job) are held to the same rules.
func CheckObjects(o *kind.Objects) []Result {
	k := kratosContainers(o)
	return []Result{
		adminNotExposed(o, k), volumesExist(o), configMounted(o, k), servicePorts(o, k), oneImageThreeRoles(k),
		migrateFirst(k), courierRuns(k), oneCourier(k), sameSecrets(k), noDev(k), probes(k), hardened(k),
	}
}

func res(id, requirement string, problems []string) Result {
	r := Result{ID: id, Requirement: requirement, Status: reports.Pass}
	if len(problems) > 0 {
		r.Status, r.Detail = reports.Fail, strings.Join(problems, "; ")
	}
	return r
}

// adminNotExposed: the guide's "never, ever expose Kratos Admin interface
// (port 4434) to the public internet". The admin port is serve's own
// (serve.admin.port, Kratos' default 4434, and any container port named
// for admin); every way to it from outside the cluster is a problem: a
// NodePort or LoadBalancer Service or one with externalIPs that sends to
// it, an Ingress or a Gateway API route to any Service that does, a
// hostPort on it, or serve on the node's network.
func adminNotExposed(o *kind.Objects, all []kratosContainer) Result {
	var problems []string
	toAdmin := map[string][]corev1.ServicePort{} // by Service: its ports that reach serve's admin port
	for _, k := range byRole(all, roleServe) {
		ports := adminPorts(o, k)
		if k.spec.HostNetwork {
			problems = append(problems, fmt.Sprintf("%s runs on the node's network: admin port %v listens on the node's address", k.workload, ports))
		}
		for _, p := range k.c.Ports {
			if p.HostPort != 0 && slices.Contains(ports, p.ContainerPort) {
				problems = append(problems, fmt.Sprintf("%s/%s publishes the admin port %d as hostPort %d", k.workload, k.c.Name, p.ContainerPort, p.HostPort))
			}
		}
		for _, svc := range o.Services {
			if len(svc.Spec.Selector) == 0 || !selects(svc.Spec.Selector, k.labels) {
				continue
			}
			for _, p := range svc.Spec.Ports {
				target := targetPort(p, k.c)
				if !slices.Contains(ports, target) {
					continue
				}
				toAdmin[svc.Name] = append(toAdmin[svc.Name], p)
				if how := outside(svc); how != "" {
					problems = append(problems, fmt.Sprintf("Service %s (%s) sends port %d to serve's admin port %d", svc.Name, how, p.Port, target))
				}
			}
		}
	}
	reaches := func(service string, number int32, name string) bool {
		return slices.ContainsFunc(toAdmin[service], func(p corev1.ServicePort) bool {
			return (number == 0 && name == "") || p.Port == number || (name != "" && p.Name == name)
		})
	}
	for _, ing := range o.Ingresses {
		backends := []*networkingv1.IngressBackend{ing.Spec.DefaultBackend}
		for _, rule := range ing.Spec.Rules {
			if rule.HTTP != nil {
				for i := range rule.HTTP.Paths {
					backends = append(backends, &rule.HTTP.Paths[i].Backend)
				}
			}
		}
		for _, b := range backends {
			if b != nil && b.Service != nil && reaches(b.Service.Name, b.Service.Port.Number, b.Service.Port.Name) {
				problems = append(problems, fmt.Sprintf("Ingress %s routes to Service %s, which reaches the admin API", ing.Name, b.Service.Name))
			}
		}
	}
	for _, r := range o.Routes {
		for _, b := range r.Backends {
			if reaches(b.Service, b.Port, "") {
				problems = append(problems, fmt.Sprintf("%s %s routes to Service %s, which reaches the admin API", r.Kind, r.Name, b.Service))
			}
		}
	}
	return res("KM-ADMIN-001", "the admin API is not reachable from outside the cluster (NodePort, LoadBalancer, externalIPs, Ingress, Gateway route, hostPort, hostNetwork)", problems)
}

// adminPorts are the ports serve's admin API listens on: serve.admin.port
// of its config (Kratos' default 4434), and container ports named for admin.
func adminPorts(o *kind.Objects, k kratosContainer) []int32 {
	ports := []int32{4434}
	if d, err := ReadDeployed(o); err == nil {
		if cfg, err := ParseConfig(d.Config); err == nil {
			if p, err := strconv.Atoi(fmt.Sprint(cfg.get("serve.admin.port"))); err == nil && p > 0 {
				ports = []int32{int32(p)}
			}
		}
	}
	for _, p := range k.c.Ports {
		if strings.Contains(strings.ToLower(p.Name), "admin") && !slices.Contains(ports, p.ContainerPort) {
			ports = append(ports, p.ContainerPort)
		}
	}
	return ports
}

// targetPort is the container port a Service port sends to: a number, a
// named port of c, or (unset) the Service port itself.
func targetPort(p corev1.ServicePort, c *corev1.Container) int32 {
	switch {
	case p.TargetPort.StrVal != "":
		for _, cp := range c.Ports {
			if cp.Name == p.TargetPort.StrVal {
				return cp.ContainerPort
			}
		}
		return 0
	case p.TargetPort.IntVal != 0:
		return p.TargetPort.IntVal
	default:
		return p.Port
	}
}

// outside says how a Service is reachable from outside the cluster, or "".
func outside(svc corev1.Service) string {
	var how []string
	if t := svc.Spec.Type; t == corev1.ServiceTypeNodePort || t == corev1.ServiceTypeLoadBalancer {
		how = append(how, "type "+string(t))
	}
	if len(svc.Spec.ExternalIPs) > 0 {
		how = append(how, fmt.Sprintf("externalIPs %v", svc.Spec.ExternalIPs))
	}
	return strings.Join(how, ", ")
}

// volumesExist: every ConfigMap and Secret a pod mounts or reads is in the set
// (a reference marked optional may be missing).
func volumesExist(o *kind.Objects) Result {
	have := map[string]bool{}
	for _, c := range o.ConfigMaps {
		have["ConfigMap/"+c.Name] = true
	}
	for _, s := range o.Secrets {
		have["Secret/"+s.Name] = true
	}
	var problems []string
	for _, spec := range o.PodSpecs() {
		for _, v := range spec.Volumes {
			if v.ConfigMap != nil && !have["ConfigMap/"+v.ConfigMap.Name] {
				problems = append(problems, fmt.Sprintf("a pod mounts ConfigMap %s, which is not defined", v.ConfigMap.Name))
			}
			if v.Secret != nil && !have["Secret/"+v.Secret.SecretName] {
				problems = append(problems, fmt.Sprintf("a pod mounts Secret %s, which is not defined", v.Secret.SecretName))
			}
		}
		for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
			for _, c := range list {
				for _, e := range c.Env {
					ref := e.ValueFrom
					if ref != nil && ref.SecretKeyRef != nil && !have["Secret/"+ref.SecretKeyRef.Name] && (ref.SecretKeyRef.Optional == nil || !*ref.SecretKeyRef.Optional) {
						problems = append(problems, fmt.Sprintf("%s reads Secret %s, which is not defined", c.Name, ref.SecretKeyRef.Name))
					}
				}
			}
		}
	}
	return res("KM-WIRE-001", "every ConfigMap and Secret the pods use is defined", problems)
}

// configMounted: each Kratos container's -c/--config file is a key of a
// Secret or ConfigMap it mounts.
func configMounted(o *kind.Objects, all []kratosContainer) Result {
	var problems []string
	if len(all) == 0 {
		problems = append(problems, "no container runs Kratos")
	}
	for _, k := range all {
		file := configPath(k.c)
		src, key, ok := mountedKey(k.spec, k.c, file)
		if _, found := keyValue(o, src, key); !ok || !found {
			problems = append(problems, fmt.Sprintf("%s/%s reads config %q, which is no key of a Secret or ConfigMap it mounts", k.workload, k.c.Name, file))
		}
	}
	return res("KM-WIRE-002", "Kratos reads its config from a key of a Secret or ConfigMap it mounts", problems)
}

// schemaMatchesFixture: the identity schema the config names (file://) is a
// mounted key of serve's pod and holds the schema every provider uses.
func schemaMatchesFixture(o *kind.Objects, cfg *Config) Result {
	const id, requirement = "KM-WIRE-003", "the identity schema the config names is mounted and is the one the other providers use"
	u := cfg.str("identity.default_schema_url")
	if schemas, ok := cfg.get("identity.schemas").([]any); ok && len(schemas) > 0 {
		if first, ok := schemas[0].(map[string]any); ok {
			u, _ = first["url"].(string)
		}
	}
	file, ok := strings.CutPrefix(u, "file://")
	if !ok {
		return res(id, requirement, []string{fmt.Sprintf("the config's schema URL %q is not a mounted file", u)})
	}
	var problems []string
	for _, k := range byRole(kratosContainers(o), roleServe) {
		src, key, ok := mountedKey(k.spec, k.c, file)
		v, found := keyValue(o, src, key)
		switch {
		case !ok || !found:
			problems = append(problems, fmt.Sprintf("%s/%s does not mount %s", k.workload, k.c.Name, file))
		case strings.TrimSpace(v) != strings.TrimSpace(string(fixtures.IdentitySchema())):
			problems = append(problems, fmt.Sprintf("%s key %s differs from fixtures/kratos/identity.default.schema.json", src, key))
		}
	}
	return res(id, requirement, problems)
}

// servicePorts: Services select serve's pods and reach its public (4433) and admin (4434) ports.
func servicePorts(o *kind.Objects, all []kratosContainer) Result {
	reached := map[int32][]string{}
	for _, k := range byRole(all, roleServe) {
		for _, svc := range o.Services {
			if len(svc.Spec.Selector) == 0 || !selects(svc.Spec.Selector, k.labels) {
				continue
			}
			for _, p := range svc.Spec.Ports {
				target := targetPort(p, k.c)
				reached[target] = append(reached[target], svc.Name)
			}
		}
	}
	var problems []string
	for _, port := range []int32{4433, 4434} {
		if len(reached[port]) == 0 {
			problems = append(problems, fmt.Sprintf("no Service reaches serve's port %d", port))
		}
	}
	if both := slices.DeleteFunc(slices.Clone(reached[4433]), func(n string) bool { return !slices.Contains(reached[4434], n) }); len(both) > 0 {
		problems = append(problems, fmt.Sprintf("Service %v reaches both the public and the admin port", both))
	}
	return res("KM-WIRE-004", "Services reach serve's public (4433) and admin (4434) ports, each its own", problems)
}

func selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// roleArgs are the guide's commands for each role (config flags aside).
var roleArgs = map[role][][]string{
	roleMigrate: {{"migrate", "sql", "-e", "--yes"}},
	roleServe:   {{"serve"}, {"serve", "all"}},
	roleCourier: {{"courier", "watch"}},
}

func oneImageThreeRoles(all []kratosContainer) Result {
	var problems []string
	images := map[string]bool{}
	for _, r := range []role{roleMigrate, roleServe, roleCourier} {
		if len(byRole(all, r)) == 0 {
			problems = append(problems, "no container runs "+string(r))
		}
	}
	for _, k := range all {
		images[k.c.Image] = true
		if got := subcommand(words(k.c)); !slices.ContainsFunc(roleArgs[k.role], func(want []string) bool { return slices.Equal(got, want) }) {
			problems = append(problems, fmt.Sprintf("%s/%s runs %v, want one of %v", k.workload, k.c.Name, got, roleArgs[k.role]))
		}
	}
	if len(images) > 1 {
		problems = append(problems, fmt.Sprintf("migrate, serve and courier use different images: %v", keys(images)))
	}
	return res("KM-WIRE-005", "migrate, serve and courier run one image with the guide's commands", problems)
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// migrateFirst: migrations finish before serve starts: an initContainer of
// every serve pod, or a Job Helm runs as a pre-install and pre-upgrade hook.
func migrateFirst(all []kratosContainer) Result {
	var problems []string
	var hookJob bool
	for _, m := range byRole(all, roleMigrate) {
		if strings.HasPrefix(m.workload, "Job ") {
			if strings.Contains(m.hook, "pre-install") && strings.Contains(m.hook, "pre-upgrade") {
				hookJob = true
			} else {
				problems = append(problems, fmt.Sprintf("%s migrates without the pre-install, pre-upgrade hook (%q): serve may start on an old schema", m.workload, m.hook))
			}
		}
	}
	for _, s := range byRole(all, roleServe) {
		init := slices.ContainsFunc(byRole(all, roleMigrate), func(m kratosContainer) bool { return m.spec == s.spec && m.init })
		if !init && !hookJob {
			problems = append(problems, s.workload+" has no migrate initContainer and no migration hook Job runs first")
		}
	}
	if len(byRole(all, roleMigrate)) == 0 {
		problems = append(problems, "nothing runs migrate sql: migrations must finish before serve starts")
	}
	return res("KM-MIGRATE-001", "migrations run as their own step before serve (an initContainer, or a pre-install/pre-upgrade hook Job)", problems)
}

func courierRuns(all []kratosContainer) Result {
	var problems []string
	if len(couriers(all)) == 0 {
		problems = append(problems, "no courier watch container and serve lacks --watch-courier: verification and recovery mail is never sent")
	}
	return res("KM-COURIER-001", "a courier runs (its own container, or serve --watch-courier)", problems)
}

// couriers are the containers that send mail: courier watch, or serve --watch-courier.
func couriers(all []kratosContainer) []kratosContainer {
	return slices.DeleteFunc(slices.Clone(all), func(k kratosContainer) bool {
		return k.role != roleCourier && !(k.role == roleServe && slices.Contains(words(k.c), "--watch-courier"))
	})
}

// oneCourier warns about more than one courier process: Kratos v1.3.1 claims
// queued messages without a row lock, so two couriers polling at once can
// both send one mail (ory/kratos#652, #732).
func oneCourier(all []kratosContainer) Result {
	r := res("KM-COURIER-002", "one courier process (several may send a mail twice)", nil)
	var n int32
	var where []string
	for _, k := range couriers(all) {
		n += k.replicas
		where = append(where, fmt.Sprintf("%s/%s ×%d", k.workload, k.c.Name, k.replicas))
	}
	if n > 1 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d courier processes (%s)", n, strings.Join(where, ", ")))
	}
	return r
}

// sameSecrets: every serve and courier reads its secrets from one place, so
// a cookie or a cipher text made by one is read by all.
func sameSecrets(all []kratosContainer) Result {
	seen := map[string][]string{}
	for _, k := range all {
		if k.role == roleMigrate {
			continue
		}
		src := secretSources(k)
		seen[src] = append(seen[src], k.workload+"/"+k.c.Name)
	}
	var problems []string
	if len(seen) > 1 {
		for src, who := range seen {
			problems = append(problems, fmt.Sprintf("%v: %s", who, src))
		}
		slices.Sort(problems)
		problems = []string{"Kratos containers read their secrets from different places: " + strings.Join(problems, "; ")}
	}
	return res("KM-SECRETS-001", "every serve and courier reads the same secrets (config and SECRETS_* from one source)", problems)
}

func noDev(all []kratosContainer) Result {
	var problems []string
	for _, k := range all {
		if slices.Contains(words(k.c), "--dev") {
			problems = append(problems, fmt.Sprintf("%s/%s runs with --dev", k.workload, k.c.Name))
		}
	}
	return res("KM-DEV-001", "no container runs Kratos with --dev", problems)
}

// probes: Kratos' documentation has readiness on /health/ready (it fails
// while the database is away, taking the pod out of its Service) and
// liveness on /health/alive (it does not, so a database outage restarts
// nothing); on the admin port both sit under /admin. The guide names none.
func probes(all []kratosContainer) Result {
	var problems []string
	for _, k := range byRole(all, roleServe) {
		for _, p := range []struct {
			name, endpoint string
			probe          *corev1.Probe
		}{{"readiness", "health/ready", k.c.ReadinessProbe}, {"liveness", "health/alive", k.c.LivenessProbe}} {
			switch {
			case p.probe == nil || p.probe.HTTPGet == nil:
				problems = append(problems, fmt.Sprintf("%s/%s has no HTTP %s probe (Kratos: /%s)", k.workload, k.c.Name, p.name, p.endpoint))
			case !slices.Contains([]string{"/" + p.endpoint, "/admin/" + p.endpoint}, strings.TrimSuffix(p.probe.HTTPGet.Path, "/")):
				problems = append(problems, fmt.Sprintf("%s/%s's %s probe asks %s, not /%s (or /admin/%s)", k.workload, k.c.Name, p.name, p.probe.HTTPGet.Path, p.endpoint, p.endpoint))
			}
		}
	}
	return res("KM-PROBE-001", "serve's readiness probe asks /health/ready and its liveness probe /health/alive", problems)
}

func hardened(all []kratosContainer) Result {
	var problems []string
	if len(all) == 0 {
		problems = append(problems, "no container runs Kratos")
	}
	for _, k := range all {
		sc := k.spec.SecurityContext
		nonRoot := sc != nil && sc.RunAsNonRoot != nil && *sc.RunAsNonRoot ||
			k.c.SecurityContext != nil && k.c.SecurityContext.RunAsNonRoot != nil && *k.c.SecurityContext.RunAsNonRoot
		if !nonRoot {
			problems = append(problems, k.workload+"/"+k.c.Name+" may run as root (runAsNonRoot not set)")
		}
		if k.c.Resources.Requests.Cpu().IsZero() || k.c.Resources.Requests.Memory().IsZero() {
			problems = append(problems, k.workload+"/"+k.c.Name+" has no CPU or memory request")
		}
	}
	return res("KM-SEC-001", "Kratos runs as non-root with resource requests", problems)
}

// ManifestSource is implemented by providers that read a deployment's
// Kubernetes objects from its cluster, so the manifest checks can judge them.
type ManifestSource interface {
	Manifests() *kind.Objects
}
