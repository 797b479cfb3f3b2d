package kubernetes

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"kratos-conformance/harness"
	"kratos-conformance/kind"
)

// Bad input is refused by Validate, before anything is dialled, naming the flag.
func TestBadFlagsNameTheFlag(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Release: "kratos", Selector: "app=kratos"}, "give one"},
		{Options{Kubeconfig: filepath.Join(t.TempDir(), "missing")}, "kubeconfig"},
		{Options{PublicURL: "kratos.example.com"}, "-kc.k8s-public-url"},
		{Options{Resolve: resolve("kratos.example.com")}, "-kc.k8s-resolve"},
		{Options{Reach: "tunnel"}, "-kc.k8s-reach"},
		{Options{SuiteAs: "cronjob"}, "-kc.k8s-suite-as"},
	} {
		p := &provider{o: tc.o}
		if err := p.Validate(&harness.Config{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want an error naming %s", tc.o, err, tc.want)
		}
	}
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	t.Setenv("HOME", t.TempDir())
	p := &provider{}
	if err := p.Validate(&harness.Config{}); err != nil {
		t.Errorf("Validate reads no kubeconfig, yet: %v", err)
	}
	if err := p.Prepare(); err == nil || !strings.Contains(err.Error(), "no usable kubeconfig") {
		t.Errorf("without any kubeconfig: got %v", err)
	}
}

// An API server that does not answer fails Up within its named wait, saying
// which cluster and which flags; nothing is left open.
func TestUnreachableClusterFailsWithinItsWait(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: identity}}]
current-context: x
`), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &provider{o: Options{Kubeconfig: kubeconfig}}
	cfg := harness.DefaultConfig()
	if err := errors.Join(p.Validate(&cfg), p.Prepare()); err != nil {
		t.Fatal(err)
	}
	if p.o.Namespace != "identity" {
		t.Errorf("namespace %q, want the context's identity", p.o.Namespace)
	}
	cfg.Intervals.KratosReady, cfg.Intervals.Poll = 2*time.Second, 200*time.Millisecond
	s, err := p.New(context.Background(), harness.StackInput{Config: cfg.Stack(), RunID: "t", LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.Up(context.Background())
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") || !strings.Contains(err.Error(), "-kc.kubeconfig") {
		t.Errorf("got %v, want the API server and the flag named", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Up took %s with a 2s wait", d)
	}
	if err := s.Down(context.Background()); err != nil {
		t.Error(err)
	}
}

// Kratos' pool settings in its DSN never reach the suite's Postgres client.
func TestLibpqParamsDropKratosPoolSettings(t *testing.T) {
	got := libpqParams(map[string][]string{"sslmode": {"disable"}, "max_conns": {"20"}, "max_idle_conns": {"4"}, "search_path": {"kratos"}}).Encode()
	if got != "search_path=kratos&sslmode=disable" {
		t.Errorf("got %s", got)
	}
}

// The Role an in-cluster run makes reads only the Secrets and ConfigMaps
// Kratos' pods reference, by name, and cannot port-forward.
func TestTailorRole(t *testing.T) {
	ic, err := kind.InClusterObjects()
	if err != nil {
		t.Fatal(err)
	}
	objs := &kind.Objects{Deployments: []appsv1.Deployment{{Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		Volumes:    []corev1.Volume{{Name: "c", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "their-config"}}}}},
		Containers: []corev1.Container{{Name: "kratos", EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "their-secrets"}}}}}},
	}}}}}}
	tailorRole(&ic.Role, objs)
	got := map[string][]string{}
	for _, r := range ic.Role.Rules {
		for _, res := range r.Resources {
			if res == "pods/portforward" {
				t.Error("the in-cluster Role keeps port-forward")
			}
			if res == "secrets" || res == "configmaps" {
				got[res] = append(got[res], r.ResourceNames...)
			}
		}
	}
	if !slices.Equal(got["secrets"], []string{"their-secrets"}) || !slices.Equal(got["configmaps"], []string{"their-config"}) {
		t.Errorf("secrets %v, configmaps %v: want each by the name the pods reference", got["secrets"], got["configmaps"])
	}
}

func resolve(s string) harness.HostAliases {
	var h harness.HostAliases
	_ = h.Set(s)
	return h
}
