package checks

import (
	"slices"
	"strings"
	"testing"

	"kratos-conformance/reports"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"kratos-conformance/kind"
)

func render(t *testing.T) *kind.Rendered { return renderLayout(t, kind.LayoutGuide) }

func renderLayout(t *testing.T, layout string) *kind.Rendered {
	t.Helper()
	r, err := kind.Render(kind.RenderInput{KratosImage: "k:1", PostgresImage: "p:1", RedisImage: "r:1", MailpitImage: "m:1", PublicHostPort: 30443, Layout: layout})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// kratosPod is the Deployment kratos's pod spec.
func kratosPod(o *kind.Objects) *corev1.PodSpec {
	for i := range o.Deployments {
		if o.Deployments[i].Name == "kratos" {
			return &o.Deployments[i].Spec.Template.Spec
		}
	}
	return nil
}

func container(spec *corev1.PodSpec, name string) *corev1.Container {
	for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

func statusOf(results []Result, id string) (Result, bool) {
	for _, r := range results {
		if r.ID == id {
			return r, true
		}
	}
	return Result{}, false
}

func TestShippedManifestsPassEveryCheck(t *testing.T) {
	results := Check(render(t))
	if len(results) < 15 {
		t.Errorf("only %d checks ran", len(results))
	}
	for _, r := range results {
		if r.Status != reports.Pass {
			t.Errorf("%s %s: %s (%s)", r.ID, r.Requirement, r.Status, r.Detail)
		}
	}
}

// Each check must fail when its requirement is broken on purpose.
func TestEachCheckFailsOnAManifestBrokenOnPurpose(t *testing.T) {
	dep := func(r *kind.Rendered) *corev1.PodSpec { return kratosPod(r.Objects) }
	byName := func(spec *corev1.PodSpec, name string) *corev1.Container { return container(spec, name) }
	config := func(old, new string) func(*testing.T, *kind.Rendered) {
		return func(t *testing.T, r *kind.Rendered) {
			if !strings.Contains(string(r.KratosConfig), old) {
				t.Fatalf("the rendered config has no %q to break", old)
			}
			r.KratosConfig = []byte(strings.Replace(string(r.KratosConfig), old, new, 1))
		}
	}
	for id, breakIt := range map[string]func(*testing.T, *kind.Rendered){
		"CL-TLS-001":    config("base_url: https://kratos.", "base_url: http://kratos."),
		"CL-COOKIE-001": config(`domain: ".example.test"`, `domain: "example.test"`),
		"CL-COOKIE-002": config("ui_url: https://auth.example.test/login", "ui_url: https://login.other.test/login"),
		"CL-SECRET-001": func(t *testing.T, r *kind.Rendered) {
			cfg := string(r.KratosConfig)
			i := strings.Index(cfg, "cookie:\n    - ")
			end := strings.Index(cfg[i+14:], "\n")
			r.KratosConfig = []byte(cfg[:i+14] + "a8ba727309b345a0a0e8dd9b2eae8b19" + cfg[i+14+end:])
		},
		"CL-CIPHER-001": config("algorithm: xchacha20-poly1305", "algorithm: noop"),
		"CL-CORS-001":   config("allowed_origins:\n", "allowed_origins:\n        - \"*\"\n"),
		"CL-DEV-001":    config("dev: false", "dev: true"),
		"KM-ADMIN-001": func(t *testing.T, r *kind.Rendered) {
			for i := range r.Objects.Services {
				if r.Objects.Services[i].Name == "kratos-admin" {
					r.Objects.Services[i].Spec.Type = corev1.ServiceTypeLoadBalancer
				}
			}
		},
		"KM-WIRE-001": func(t *testing.T, r *kind.Rendered) {
			dep(r).Volumes[0].ConfigMap.Name = "identity-schema" // a typo
		},
		"KM-WIRE-002": func(t *testing.T, r *kind.Rendered) {
			byName(dep(r), "courier").Args[1] = "/identity/config/configs.yaml"
		},
		"KM-WIRE-003": func(t *testing.T, r *kind.Rendered) {
			r.Objects.ConfigMaps[0].Data["default.json"] = `{"type": "object"}`
		},
		"KM-WIRE-004": func(t *testing.T, r *kind.Rendered) {
			for i := range r.Objects.Services {
				if r.Objects.Services[i].Name == "kratos-public" {
					r.Objects.Services[i].Spec.Ports[0].TargetPort = intstr.FromInt32(4434)
				}
			}
		},
		"KM-WIRE-005": func(t *testing.T, r *kind.Rendered) {
			byName(dep(r), "courier").Image = "oryd/kratos:v1.0.0" // the guide's own mismatch
		},
		"KM-MIGRATE-001": func(t *testing.T, r *kind.Rendered) {
			spec := dep(r)
			spec.Containers = append(spec.Containers, spec.InitContainers...)
			spec.InitContainers = nil
		},
		"KM-COURIER-001": func(t *testing.T, r *kind.Rendered) {
			spec := dep(r)
			spec.Containers = spec.Containers[:1]
		},
		"KM-DEV-001": func(t *testing.T, r *kind.Rendered) {
			c := byName(dep(r), "kratos")
			c.Args = append(c.Args, "--dev")
		},
		"KM-PROBE-001": func(t *testing.T, r *kind.Rendered) {
			byName(dep(r), "kratos").LivenessProbe = nil
		},
		// Issue 30: any path with /health/ in it passed.
		"KM-PROBE-001 readiness on alive": func(t *testing.T, r *kind.Rendered) {
			byName(dep(r), "kratos").ReadinessProbe.HTTPGet.Path = "/admin/health/alive"
		},
		"KM-PROBE-001 liveness on ready": func(t *testing.T, r *kind.Rendered) {
			byName(dep(r), "kratos").LivenessProbe.HTTPGet.Path = "/health/ready"
		},
		"KM-SEC-001": func(t *testing.T, r *kind.Rendered) {
			dep(r).SecurityContext = nil
		},
	} {
		t.Run(id, func(t *testing.T) {
			r := render(t)
			breakIt(t, r)
			id, _, _ := strings.Cut(id, " ") // "ID variant"
			got, ok := statusOf(Check(r), id)
			if !ok {
				t.Fatalf("no check %s ran", id)
			}
			if got.Status != reports.Fail {
				t.Errorf("%s stayed %s on a manifest broken on purpose", id, got.Status)
			}
		})
	}
}

// Ory's chart layout is held to the same rules: it passes all but the probe
// check, because the chart's defaults have no liveness probe (and readiness
// on /admin/health/alive, which a dead database does not fail).
func TestChartLayoutPassesAllButTheProbes(t *testing.T) {
	for _, r := range Check(renderLayout(t, kind.LayoutChart)) {
		want := reports.Pass
		if r.ID == "KM-PROBE-001" {
			want = reports.Fail
		}
		if r.Status != want {
			t.Errorf("%s %s: %s, want %s (%s)", r.ID, r.Requirement, r.Status, want, r.Detail)
		}
		if len(r.Warnings) > 0 {
			t.Errorf("%s warns: %v", r.ID, r.Warnings)
		}
	}
}

// Two couriers are a warning; serve workloads with different secrets fail;
// a migration Job that is no pre-install/pre-upgrade hook fails.
func TestChartLayoutBrokenOnPurpose(t *testing.T) {
	r := renderLayout(t, kind.LayoutChart)
	two := int32(2)
	r.Objects.StatefulSets[0].Spec.Replicas = &two
	got, _ := statusOf(Check(r), "KM-COURIER-002")
	if got.Status != reports.Pass || len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], "2 courier processes") {
		t.Errorf("two courier replicas: got %+v, want a passing row with one warning", got)
	}

	r = renderLayout(t, kind.LayoutChart)
	canary := *r.Objects.Deployments[0].DeepCopy()
	canary.Name = "kratos-canary"
	for i, e := range canary.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "SECRETS_COOKIE" {
			canary.Spec.Template.Spec.Containers[0].Env[i].ValueFrom.SecretKeyRef.Name = "kratos-canary"
		}
	}
	r.Objects.Deployments = append(r.Objects.Deployments, canary)
	if got, _ := statusOf(Check(r), "KM-SECRETS-001"); got.Status != reports.Fail {
		t.Errorf("a second serve Deployment with another cookie secret: got %+v", got)
	}

	r = renderLayout(t, kind.LayoutChart)
	r.Objects.Jobs[0].Annotations = nil
	if got, _ := statusOf(Check(r), "KM-MIGRATE-001"); got.Status != reports.Fail {
		t.Errorf("a migration Job without the hook: got %+v", got)
	}
}

// ReadDeployed finds serve's config through its mount and environment, in
// both layouts: the chart's DSN, secrets and SMTP URI come from Secret kratos.
func TestReadDeployedFollowsMountsAndEnvironment(t *testing.T) {
	for _, layout := range []string{kind.LayoutGuide, kind.LayoutChart} {
		r := renderLayout(t, layout)
		d, err := ReadDeployed(r.Objects)
		if err != nil {
			t.Fatalf("%s: %v", layout, err)
		}
		want, err := ParseConfig(r.KratosConfig)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseConfig(d.Config)
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"dsn", "courier.smtp.connection_uri", "serve.public.base_url", "cookies.domain"} {
			if g, w := got.str(path), want.str(path); g != w || g == "" {
				t.Errorf("%s: %s = %q, want %q (from %s)", layout, path, g, w, d.ConfigSource)
			}
		}
		if len(got.strs("secrets.cookie")) == 0 || len(d.Couriers) == 0 || len(d.Migrations) == 0 {
			t.Errorf("%s: secrets.cookie %v, couriers %v, migrations %v", layout, got.strs("secrets.cookie"), d.Couriers, d.Migrations)
		}
		t.Logf("%s: serve %s; config %s; couriers %v; migrations %v", layout, d.Serve, d.ConfigSource, d.Couriers, d.Migrations)
	}
}

// Kratos maps every key of its schema to a variable, also keys the file
// lacks: DEV=true with no dev: in the file is dev mode (issue 30 found
// CL-DEV-001 passing), and typed as the schema types it.
func TestReadDeployedAppliesVariablesForKeysTheFileLacks(t *testing.T) {
	for _, layout := range []string{kind.LayoutGuide, kind.LayoutChart} {
		r := renderLayout(t, layout)
		for i := range r.Objects.ConfigMaps {
			for k, v := range r.Objects.ConfigMaps[i].Data {
				r.Objects.ConfigMaps[i].Data[k] = strings.ReplaceAll(v, "dev: false\n", "")
			}
		}
		for i := range r.Objects.Deployments {
			for j := range r.Objects.Deployments[i].Spec.Template.Spec.Containers {
				c := &r.Objects.Deployments[i].Spec.Template.Spec.Containers[j]
				c.Env = append(c.Env, corev1.EnvVar{Name: "DEV", Value: "true"}, corev1.EnvVar{Name: "SERVE_PUBLIC_CORS_ALLOWED_ORIGINS", Value: "*"})
			}
		}
		d, err := ReadDeployed(r.Objects)
		if err != nil {
			t.Fatalf("%s: %v", layout, err)
		}
		cfg, err := ParseConfig(d.Config)
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.devOff(); got.Status != reports.Fail {
			t.Errorf("%s: DEV=true with no dev key: CL-DEV-001 %s (%s), config from %s", layout, got.Status, got.Detail, d.ConfigSource)
		}
		if got := cfg.strs("serve.public.cors.allowed_origins"); !slices.Equal(got, []string{"*"}) {
			t.Errorf("%s: SERVE_PUBLIC_CORS_ALLOWED_ORIGINS=*: allowed_origins %v", layout, got)
		}
	}
}

func TestReadDeployedRefusesTwoServeWorkloads(t *testing.T) {
	r := renderLayout(t, kind.LayoutChart)
	o := r.Objects
	second := *o.Deployments[0].DeepCopy()
	for i := range o.Deployments {
		if o.Deployments[i].Name == "kratos" {
			second = *o.Deployments[i].DeepCopy()
		}
	}
	second.Name = "kratos-b"
	o.Deployments = append(o.Deployments, second)
	if _, err := ReadDeployed(o); err == nil || !strings.Contains(err.Error(), "2 containers run kratos serve") {
		t.Fatalf("got %v", err)
	}
}
