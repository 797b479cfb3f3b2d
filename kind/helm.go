package kind

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/cli/values"
	"helm.sh/helm/v4/pkg/getter"
	release "helm.sh/helm/v4/pkg/release/v1"

	"kratos-conformance/reports"
)

// HelmChart is an operator's chart (-kc.helm-chart) and values files
// (-kc.helm-values, later files win as with helm -f), loaded and merged
// once: what the suite reads of their values needs no render.
type HelmChart struct {
	Path       string
	ValueFiles []string
	Chart      *chart.Chart
	Values     map[string]any // their files merged, before the suite's values
}

// HelmRender is a chart rendered with Helm's own SDK (no helm binary, no
// network): what to install, and what the suite reads of it.
type HelmRender struct {
	Chart    *chart.Chart
	Values   map[string]any // their files, then the overlay: what install gets
	Overlays []reports.Overlay
	Objects  *Objects // the kinds the suite reads, hooks included
	Skipped  []string // the kinds it does not read, which Helm applies
	Hooks    []string // pre-install hooks in the order Helm runs them
}

// LoadHelm loads the chart and merges the values files; a chart or values
// file that does not load is an error that names it.
func LoadHelm(path string, valueFiles []string) (*HelmChart, error) {
	ch, err := loader.Load(path)
	if err != nil {
		return nil, fmt.Errorf("-kc.helm-chart %s: %w", path, err)
	}
	theirs, err := (&values.Options{ValueFiles: valueFiles}).MergeValues(getter.Providers{})
	if err != nil {
		return nil, fmt.Errorf("-kc.helm-values: %w", err)
	}
	return &HelmChart{Path: path, ValueFiles: valueFiles, Chart: ch, Values: theirs}, nil
}

// Render renders the chart with their values and the suite's overlay on
// top (why says, per top-level key of the overlay, why the suite sets it)
// client-side, as `helm template` does.
func (h *HelmChart) Render(releaseName, namespace string, overlay map[string]any, why map[string]string) (*HelmRender, error) {
	r := &HelmRender{Chart: h.Chart, Values: deepCopy(h.Values)}
	r.overlay("", r.Values, overlay, h.Values, why)
	install := action.NewInstall(action.NewConfiguration())
	install.DryRunStrategy, install.ReleaseName, install.Namespace = action.DryRunClient, releaseName, namespace
	install.Replace = true // a client-side render has no release history to clash with
	rel, err := install.Run(h.Chart, r.Values)
	if err != nil {
		return nil, fmt.Errorf("the chart %s does not render with -kc.helm-values %s: %w", h.Path, strings.Join(h.ValueFiles, ","), err)
	}
	v1, ok := rel.(*release.Release)
	if !ok {
		return nil, errors.New("helm returned a release of an unknown version")
	}
	stream := v1.Manifest
	hooks := slices.Clone(v1.Hooks)
	slices.SortStableFunc(hooks, func(a, b *release.Hook) int { return cmp.Compare(a.Weight, b.Weight) })
	for _, hook := range hooks {
		stream += "\n---\n" + hook.Manifest
		if slices.Contains(hook.Events, release.HookPreInstall) {
			r.Hooks = append(r.Hooks, fmt.Sprintf("%s %s (weight %d)", hook.Kind, hook.Name, hook.Weight))
		}
	}
	if r.Objects, r.Skipped, err = DecodeKnown([]byte(stream)); err != nil {
		return nil, fmt.Errorf("the chart %s renders an object the suite cannot read: %w", h.Path, err)
	}
	return r, nil
}

// overlay puts the suite's values into dst, listing each leaf with the
// value their files gave (or the chart's default).
func (r *HelmRender) overlay(prefix string, dst, over, theirs map[string]any, why map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(over)) {
		path := strings.TrimPrefix(prefix+"."+k, ".")
		sub, isMap := over[k].(map[string]any)
		if isMap {
			d, ok := dst[k].(map[string]any)
			if !ok {
				d = map[string]any{}
				dst[k] = d
			}
			t, _ := theirs[k].(map[string]any)
			r.overlay(path, d, sub, t, why)
			continue
		}
		was := "(chart default)"
		if v, ok := theirs[k]; ok {
			was = fmt.Sprint(v)
		}
		dst[k] = over[k]
		top, _, _ := strings.Cut(path, ".")
		r.Overlays = append(r.Overlays, reports.Overlay{Key: "values " + path, Theirs: masked(was), Used: masked(fmt.Sprint(over[k])), Why: why[top]})
	}
}

// masked hides a URL's password (a DSN's).
func masked(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return s
}

func deepCopy(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = deepCopy(sub)
		}
		out[k] = v
	}
	return out
}
