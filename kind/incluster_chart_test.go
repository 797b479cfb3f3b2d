package kind

import (
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	release "helm.sh/helm/v4/pkg/release/v1"
)

// renderTestHooks renders incluster/chart as `helm template` does and
// returns its test hooks' manifests by kind.
func renderTestHooks(t *testing.T, vals map[string]any) (map[string]string, error) {
	t.Helper()
	ch, err := loader.Load("incluster/chart")
	if err != nil {
		t.Fatal(err)
	}
	install := action.NewInstall(action.NewConfiguration())
	install.DryRunStrategy, install.ReleaseName, install.Namespace = action.DryRunClient, "kc", "identity"
	rel, err := install.Run(ch, vals)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, h := range rel.(*release.Release).Hooks {
		if len(h.Events) != 1 || h.Events[0] != release.HookTest {
			t.Errorf("%s %s runs on %v, want only helm test", h.Kind, h.Name, h.Events)
		}
		out[h.Kind] = h.Manifest
	}
	return out, nil
}

// The helm-test chart grants get on the named Secrets and ConfigMaps only,
// certifies the named release, and refuses values that would grant more or
// certify nothing in particular.
func TestInClusterChartIsLeastPrivilege(t *testing.T) {
	hooks, err := renderTestHooks(t, map[string]any{"kratosRelease": "auth", "readSecrets": []any{"auth-kratos"}, "readConfigMaps": []any{"auth-kratos-config"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"ServiceAccount", "Role", "RoleBinding", "Pod"} {
		if hooks[kind] == "" {
			t.Errorf("no %s among the test hooks", kind)
		}
	}
	role := hooks["Role"]
	for _, want := range []string{`resourceNames: ["auth-kratos"]`, `resourceNames: ["auth-kratos-config"]`} {
		if !strings.Contains(role, want) {
			t.Errorf("the Role lacks %s:\n%s", want, role)
		}
	}
	if strings.Contains(role, "portforward") || strings.Count(role, "resources: [secrets]") != 1 {
		t.Errorf("the Role grants more than a pod in the cluster needs:\n%s", role)
	}
	if !strings.Contains(hooks["Pod"], "- -kc.k8s-release=auth") {
		t.Errorf("the Pod does not certify release auth:\n%s", hooks["Pod"])
	}
	for name, vals := range map[string]map[string]any{
		"no names":             {"readSecrets": []any{}, "readConfigMaps": []any{}},
		"release and selector": {"kratosSelector": "app=kratos"},
		"neither":              {"kratosRelease": ""},
	} {
		if _, err := renderTestHooks(t, vals); err == nil {
			t.Errorf("%s: rendered, want refused", name)
		}
	}
}
