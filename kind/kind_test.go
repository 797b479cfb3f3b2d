package kind

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"kratos-conformance/harness"
)

func TestDecodeIsStrict(t *testing.T) {
	_, err := Decode([]byte("apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  typo: NodePort\n"))
	if err == nil || !strings.Contains(err.Error(), "typo") {
		t.Errorf("an unknown field must be an error, got %v", err)
	}
	if _, err := Decode([]byte("apiVersion: v9\nkind: Gizmo\n")); err == nil {
		t.Error("an unknown kind must be an error")
	}
}

// kind renders Kratos' config like every provider, so -kc.break reaches it.
func TestRenderAppliesTheBreakage(t *testing.T) {
	r, err := Render(RenderInput{KratosImage: "k:1", PostgresImage: "p:1", RedisImage: "r:1", MailpitImage: "m:1", PublicHostPort: 30443, Break: "noop-cipher"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(r.KratosConfig), "algorithm: noop") {
		t.Error("the breakage noop-cipher is not in kind's rendered config")
	}
}

// The chart layout carries DSN, secrets and SMTP URI as the Secret the pods
// read as environment, never in the ConfigMap; every workload gets its image.
func TestRenderChartSplitsConfigFromSecrets(t *testing.T) {
	r, err := Render(RenderInput{KratosImage: "k:1", PostgresImage: "p:1", RedisImage: "r:1", MailpitImage: "m:1", PublicHostPort: 30443, Layout: LayoutChart})
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]string
	for _, s := range r.Objects.Secrets {
		if s.Name == "kratos" {
			env = s.StringData
		}
	}
	for _, key := range []string{"dsn", "secretsDefault", "secretsCookie", "secretsCipher", "smtpConnectionURI"} {
		if v := env[key]; v == "" || strings.Contains(v, "RENDERED") || !strings.Contains(string(r.KratosConfig), v) && key != "secretsDefault" {
			t.Errorf("Secret kratos key %s = %q: not the rendered config's value", key, v)
		}
	}
	for _, c := range r.Objects.ConfigMaps {
		if c.Name != "kratos-config" {
			continue
		}
		for _, leak := range []string{env["dsn"], env["secretsCookie"], env["secretsCipher"], "connection_uri"} {
			if strings.Contains(c.Data["kratos.yaml"], leak) {
				t.Errorf("ConfigMap kratos-config holds %q, which belongs in Secret kratos", leak)
			}
		}
		if !strings.Contains(c.Data["identity.default.schema.json"], "traits") {
			t.Error("ConfigMap kratos-config has no identity schema")
		}
	}
	if len(r.Objects.Jobs) != 1 || len(r.Objects.StatefulSets) != 1 {
		t.Fatalf("want the migration Job and the courier StatefulSet, got %d and %d", len(r.Objects.Jobs), len(r.Objects.StatefulSets))
	}
	for _, spec := range r.Objects.PodSpecs() {
		for _, c := range spec.Containers {
			if strings.HasPrefix(c.Image, "kratos-conformance/") {
				t.Errorf("container %s still has the placeholder image %s", c.Name, c.Image)
			}
		}
	}
}

// The in-cluster objects decode, and the Job and the helm-test Pod run the
// suite's container as the ServiceAccount rbac.yaml binds.
func TestInClusterObjectsRunAsTheBoundAccount(t *testing.T) {
	ic, err := InClusterObjects()
	if err != nil {
		t.Fatal(err)
	}
	sa := ic.ServiceAccount.Name
	if len(ic.RoleBinding.Subjects) != 1 || ic.RoleBinding.Subjects[0].Name != sa || ic.RoleBinding.RoleRef.Name != ic.Role.Name {
		t.Errorf("RoleBinding %+v does not bind ServiceAccount %s to Role %s", ic.RoleBinding, sa, ic.Role.Name)
	}
	for what, spec := range map[string]corev1.PodSpec{"Job": ic.Job.Spec.Template.Spec, "helm-test Pod": ic.TestPod.Spec} {
		if spec.ServiceAccountName != sa || len(spec.Containers) != 1 || spec.Containers[0].Name != "suite" {
			t.Errorf("%s: runs as %q with containers %+v, want one container suite as %s", what, spec.ServiceAccountName, spec.Containers, sa)
		}
	}
	if ic.TestPod.Annotations["helm.sh/hook"] != "test" {
		t.Errorf("the helm-test Pod lacks helm.sh/hook: test")
	}
}

// The cluster's Mailpit runs as every stack's does (harness.MailpitFlags):
// without --smtp-disable-rdns a courier pod no Service selects waited 4 s
// per mail for a reverse lookup the offline cluster cannot answer.
func TestMailpitRunsWithTheStacksFlags(t *testing.T) {
	r, err := Render(RenderInput{KratosImage: "k:1", PostgresImage: "p:1", RedisImage: "r:1", MailpitImage: "m:1", PublicHostPort: 30443})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range r.Objects.Deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			if c.Image == "m:1" && !slices.Equal(c.Args, harness.MailpitFlags) {
				t.Errorf("Mailpit's args %v, want harness.MailpitFlags %v", c.Args, harness.MailpitFlags)
			}
		}
	}
}
