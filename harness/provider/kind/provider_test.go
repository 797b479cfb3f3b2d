package kind

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/yaml"

	"kratos-conformance/harness"
)

// The cluster config is what kind's v1alpha4 API accepts, strictly, with the
// node image, no default CNI and kubelet allowed on cgroup v1.
func TestClusterConfigIsKindsOwn(t *testing.T) {
	b, err := clusterConfig("kratos-conformance/kind-node:v1.37.2-abc")
	if err != nil {
		t.Fatal(err)
	}
	var c v1alpha4.Cluster
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		t.Fatalf("kind would refuse it: %v\n%s", err, b)
	}
	if len(c.Nodes) != 1 || c.Nodes[0].Image != "kratos-conformance/kind-node:v1.37.2-abc" || !c.Networking.DisableDefaultCNI {
		t.Errorf("got %+v", c)
	}
	if !strings.Contains(strings.Join(c.KubeadmConfigPatches, "\n"), "failCgroupV1: false") {
		t.Error("kubelet would refuse this machine's cgroup v1")
	}
}

// Without make kind-images the provider says so before anything starts.
func TestMissingImagesNameMakeKindImages(t *testing.T) {
	t.Setenv("KC_CACHE_DIR", t.TempDir())
	p := &provider{}
	err := p.Validate(&harness.Config{})
	if err == nil || !strings.Contains(err.Error(), "make kind-images") && !strings.Contains(err.Error(), "private Docker engine") {
		t.Errorf("got %v, want an error naming make kind-images (or the engine's missing prerequisites)", err)
	}
	dir := filepath.Join(os.Getenv("KC_CACHE_DIR"), "kind")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "images.env")
	if err := os.WriteFile(path, []byte("KC_KRATOS_IMAGE=k:1\nKC_POSTGRES_IMAGE=p:1\nKC_REDIS_IMAGE=r:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readImages(path); err == nil || !strings.Contains(err.Error(), "make kind-images") {
		t.Errorf("an images.env without Mailpit: got %v", err)
	}
}

func TestUnknownLayoutNamesBoth(t *testing.T) {
	p := &provider{o: Options{Layout: "helm"}}
	if err := p.Validate(&harness.Config{}); err == nil || !strings.Contains(err.Error(), "guide or chart") {
		t.Errorf("got %v, want the two layouts named", err)
	}
}

func TestClusterNameIsOneKindAccepts(t *testing.T) {
	if got := clusterName("20261126-172214-2a98d2/short-lifespans"); got != "kc-20261126-172214-2a98d2-short-lifespans" {
		t.Errorf("got %q", got)
	}
}
