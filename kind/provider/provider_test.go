package provider

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	release "helm.sh/helm/v4/pkg/release/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/yaml"

	"kratos-conformance/harness"
	manifests "kratos-conformance/kind"
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
	if err := p.Validate(&harness.Config{Profile: "guide"}); err != nil {
		t.Fatalf("Validate reads no cache, yet: %v", err)
	}
	err := p.Prepare()
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

// The bring-up's order, read at a glance; the steps the run's flags do not
// ask for (an upgrade path, the suite's image, a Helm chart) do nothing.
func TestUpStepsInOrder(t *testing.T) {
	s := newStack(harness.StackInput{RunID: "r"}, Options{})
	var names []string
	for _, st := range s.steps() {
		names = append(names, st.name)
		if slices.Contains([]string{"upgrade path images", "load suite image", "helm install", "record upgrade path"}, st.name) {
			if err := st.run(context.Background()); err != nil {
				t.Errorf("step %q without its flag: %v", st.name, err)
			}
		}
	}
	want := []string{"save host settings", "start engine", "sweep stale clusters", "create cluster", "client", "relay public port",
		"upgrade path images", "render manifests", "load suite image", "apply", "wait rollouts", "helm install", "discover or forward", "record upgrade path"}
	if !slices.Equal(names, want) {
		t.Errorf("steps %q, want %q", names, want)
	}
	if s.env.KratosVersion != "" || s.env.UpgradedFrom != "" {
		t.Errorf("without -kc.upgrade-from, an upgrade was recorded: %+v", s.env)
	}
}

// The upgrade's migration Job runs the next version's migrate command with
// the flags the layout gave it: the guide's -c before, the chart's --config after.
func TestMigrateArgs(t *testing.T) {
	for _, c := range []struct {
		args    []string
		version string
		want    string
	}{
		{[]string{"-c", "/identity/configs/configs.yaml", "migrate", "sql", "-e", "--yes"}, "v26.2.0", "-c /identity/configs/configs.yaml migrate sql up -e --yes"},
		{[]string{"migrate", "sql", "-e", "--yes", "--config", "/etc/config/kratos.yaml"}, "v25.4.0", "migrate sql up -e --yes --config /etc/config/kratos.yaml"},
		{[]string{"migrate", "sql", "up", "-e", "--yes", "--config", "/etc/config/kratos.yaml"}, "v1.3.1", "migrate sql -e --yes --config /etc/config/kratos.yaml"},
	} {
		if got := strings.Join(migrateArgs(c.args, c.version), " "); got != c.want {
			t.Errorf("migrateArgs(%q, %s) = %q, want %q", c.args, c.version, got, c.want)
		}
	}
}

// retag moves only the containers on the old image, and changes the template
// even when old and new are one image, so the workload rolls.
func TestRetag(t *testing.T) {
	tpl := corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "migrate", Image: "k:old"}},
		Containers:     []corev1.Container{{Name: "kratos", Image: "k:old"}, {Name: "sidecar", Image: "other:1"}}}}
	retag(&tpl, "k:old", "k:new", "hop 1: k:new")
	if tpl.Spec.InitContainers[0].Image != "k:new" || tpl.Spec.Containers[0].Image != "k:new" || tpl.Spec.Containers[1].Image != "other:1" {
		t.Errorf("retag: %+v", tpl.Spec)
	}
	same := tpl.DeepCopy()
	retag(same, "k:new", "k:new", "hop 2: k:new")
	if same.Annotations["kratos-conformance/upgrade"] == tpl.Annotations["kratos-conformance/upgrade"] {
		t.Error("retag to the same image must still change the template")
	}
}

// -kc.helm-chart makes the layout helm (once settled) and refuses what would change a
// config that is the operator's; -kc.helm-values needs a chart.
func TestHelmFlags(t *testing.T) {
	for name, c := range map[string]struct {
		o    Options
		cfg  harness.Config
		want string
	}{
		"values alone":  {Options{HelmValues: "v.yaml"}, harness.Config{Profile: "guide"}, "goes with -kc.helm-chart"},
		"missing chart": {Options{HelmChart: "no/such/chart"}, harness.Config{Profile: "guide"}, "-kc.helm-chart"},
		"a breakage":    {Options{HelmChart: "../testdata/kratos-chart"}, harness.Config{Profile: "guide", Break: "noop-cipher"}, "drop -kc.break"},
		"chart layout":  {Options{HelmChart: "../testdata/kratos-chart", Layout: "chart"}, harness.Config{Profile: "guide"}, "drop -kc.kind-layout=chart"},
	} {
		if err := c.o.validateHelm(&c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
	o := Options{HelmChart: "../testdata/kratos-chart", HelmValues: "../testdata/values/good.yaml", Layout: "guide"}
	err := o.validateHelm(&harness.Config{Profile: "guide"})
	if o.settle(); err != nil || o.Layout != "helm" {
		t.Errorf("a chart and values: %v, layout %q", err, o.Layout)
	}
}

// The suite's DSN replaces their server but keeps what sizes and times
// their pool: a values file's max_conns is part of what is certified.
func TestHelmOverlayKeepsPoolSettings(t *testing.T) {
	h, err := manifests.LoadHelm("../testdata/kratos-chart", []string{"testdata/pool-values.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	s := &Stack{helm: h, up: harness.ImagePath{Tested: "kratos:1"}}
	r, err := s.renderHelm(30443)
	if err != nil {
		t.Fatal(err)
	}
	dsn := helmKratosConfig(r.Values).String("dsn")
	if !strings.Contains(dsn, "max_conns=7") || strings.Contains(dsn, "db.example.com") || strings.Contains(dsn, "sslmode") {
		t.Errorf("dsn %q: want the stack's server with their max_conns and without their sslmode", dsn)
	}
}

// A hook Job Helm ran to success is judged even when the chart deleted it
// (Ory's chart: hook-succeeded); one that failed or never ran is not added.
func TestSucceededHooks(t *testing.T) {
	h, err := manifests.LoadHelm("../testdata/kratos-chart", []string{"../testdata/values/good.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := h.Render("kratos", "identity", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	run := func(phase release.HookPhase) []string {
		rel := &release.Release{Hooks: []*release.Hook{{Kind: "Job", Name: "kratos-automigrate", LastRun: release.HookExecution{Phase: phase}}}}
		var names []string
		hooks := succeededHooks(rel, r)
		for _, j := range hooks.Jobs {
			names = append(names, j.Name)
		}
		if len(hooks.Jobs) > 0 && len(hooks.ConfigMaps) == 0 {
			t.Error("the migration Job's ConfigMap is not with it")
		}
		return names
	}
	if got := run(release.HookPhaseSucceeded); len(got) != 1 || got[0] != "kratos-automigrate" {
		t.Errorf("succeeded: %v", got)
	}
	if got := run(release.HookPhaseFailed); len(got) != 0 {
		t.Errorf("failed: %v, want none", got)
	}
}

// Reading the deployment back (-kc.kind-in-cluster, -kc.kind-discover)
// still lets a replica sweep scale the suite's own serve, not faults that
// restart pods under the reader, nor a sweep of an operator's chart.
func TestDiscoverFlagCombinations(t *testing.T) {
	chart := "../testdata/kratos-chart"
	for name, c := range map[string]struct {
		o    Options
		cfg  harness.Config
		want string // "" when allowed
	}{
		"sweep read back":      {Options{InCluster: true}, harness.Config{Profile: "guide", LoadReplicas: []int{1, 2}}, ""},
		"faults read back":     {Options{Discover: true}, harness.Config{Profile: "guide", Faults: true}, "drop -kc.faults"},
		"sweep of their chart": {Options{HelmChart: chart}, harness.Config{Profile: "guide", LoadReplicas: []int{1, 2}}, "drop -kc.load-replicas"},
	} {
		err := (&provider{o: c.o}).Validate(&c.cfg)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
}
