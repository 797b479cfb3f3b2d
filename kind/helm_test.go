package kind

import (
	"slices"
	"strings"
	"testing"
)

const testChart = "testdata/kratos-chart"

// The chart renders with Helm's SDK from the operator's values, the suite's
// on top (each listed), hooks in Helm's order, and the kinds the suite
// does not read named rather than refused.
func TestRenderHelm(t *testing.T) {
	h, err := LoadHelm(testChart, []string{"testdata/values/good.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := h.Render("kratos", "identity", map[string]any{"kratos": map[string]any{"config": map[string]any{"dsn": "postgres://kratos:stack-pw@postgres/kratos"}}},
		map[string]string{"kratos": "the run's Postgres"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Secret kratos (weight 0)", "ConfigMap kratos-config (weight 0)", "Job kratos-automigrate (weight 1)"}; !slices.Equal(r.Hooks, want) {
		t.Errorf("pre-install hooks %v, want %v (by weight, then Helm's kind order)", r.Hooks, want)
	}
	if !slices.Contains(r.Skipped, "ServiceAccount kratos") {
		t.Errorf("skipped %v: want the ServiceAccount named", r.Skipped)
	}
	if len(r.Objects.Deployments) != 1 || len(r.Objects.Jobs) != 1 || len(r.Objects.StatefulSets) != 1 {
		t.Errorf("decoded %s", r.Objects.Kinds())
	}
	var dsn string
	for _, s := range r.Objects.Secrets {
		dsn = s.StringData["dsn"]
	}
	if dsn != "postgres://kratos:stack-pw@postgres/kratos" {
		t.Errorf("the Secret's dsn %q: want the overlay's", dsn)
	}
	if len(r.Overlays) != 1 || r.Overlays[0].Key != "values kratos.config.dsn" || strings.Contains(r.Overlays[0].Theirs+r.Overlays[0].Used, "pw") {
		t.Errorf("overlays %+v: want the DSN listed, passwords masked", r.Overlays)
	}
}

func TestRenderHelmNamesBadValues(t *testing.T) {
	for file, want := range map[string]string{
		"testdata/values/no-dsn.yaml":   "kratos.config.dsn is required",
		"testdata/values/not-yaml.yaml": "not-yaml.yaml",
		"testdata/values/missing.yaml":  "missing.yaml",
	} {
		h, err := LoadHelm(testChart, []string{file})
		if err == nil {
			_, err = h.Render("kratos", "identity", nil, nil)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error naming %q", file, err, want)
		}
	}
	if _, err := LoadHelm("testdata/no-chart", nil); err == nil || !strings.Contains(err.Error(), "-kc.helm-chart") {
		t.Errorf("a missing chart: got %v", err)
	}
}
