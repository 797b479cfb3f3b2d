package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	release "helm.sh/helm/v4/pkg/release/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"kratos-conformance/fixtures"
	"kratos-conformance/harness"
	"kratos-conformance/harness/checks"
	manifests "kratos-conformance/kind"
)

// helmRelease is the release name the operator's chart is installed as.
const helmRelease = "kratos"

// helmOverlay is what the suite sets in the operator's values, in the
// layout of Ory's chart (ory/k8s helm/charts/kratos): the Kratos image the
// node holds, where Kratos reaches the run's Postgres and Mailpit, its public
// base URL and TLS (the run's CA, as with the guide's layout), and the public
// Service on the node port the suite relays to.
func (s *Stack) helmOverlay(publicPort int, theirs map[string]any) (map[string]any, map[string]string) {
	repo, tag, _ := strings.Cut(s.up.Current(), ":")
	dep, _ := theirs["deployment"].(map[string]any)
	volumes, _ := dep["extraVolumes"].([]any)
	mounts, _ := dep["extraVolumeMounts"].([]any)
	dsn, smtp := "postgres://kratos@postgres/kratos", manifests.StackSMTPURI
	if s.rendered != nil {
		dsn = s.rendered.StackDSN()
	}
	dsn = fixtures.OwnDSN(dsn, helmKratosConfig(theirs).String("dsn"))
	over := map[string]any{
		"image": map[string]any{"registry": "docker.io", "repository": repo, "tag": tag, "pullPolicy": "Never"},
		"kratos": map[string]any{"config": map[string]any{
			"dsn":     dsn,
			"courier": map[string]any{"smtp": map[string]any{"connection_uri": smtp}},
			"serve": map[string]any{"public": map[string]any{
				"base_url": fmt.Sprintf("https://%s:%d/", s.site.PublicHost, publicPort),
				"tls":      map[string]any{"cert": map[string]any{"path": "/identity/tls/tls.crt"}, "key": map[string]any{"path": "/identity/tls/tls.key"}},
			}},
		}},
		"service": map[string]any{"public": map[string]any{"type": "NodePort", "nodePort": 30443}},
		"deployment": map[string]any{
			"extraVolumes":      append(volumes, map[string]any{"name": "kc-public-tls", "secret": map[string]any{"secretName": "kratos-public-tls"}}),
			"extraVolumeMounts": append(mounts, map[string]any{"name": "kc-public-tls", "mountPath": "/identity/tls", "readOnly": true}),
		},
	}
	why := map[string]string{
		"image":      "the Kratos image the kind node holds (no registry here)",
		"kratos":     "the run's Postgres (their pool settings kept) and Mailpit, and the public URL and TLS the suite reaches",
		"service":    "the node port the suite relays the public API to",
		"deployment": "mounts the run's TLS certificate (theirs kept)",
	}
	return over, why
}

// helmSite reads the host names of the operator's values (kratos.config,
// the layout of Ory's chart): the public API keeps its host name.
func (s *Stack) helmSite() harness.Site {
	return harness.OwnSite(helmKratosConfig(s.helm.Values))
}

// helmKratosConfig is kratos.config of values in the layout of Ory's chart.
func helmKratosConfig(values map[string]any) fixtures.Doc {
	k, _ := values["kratos"].(map[string]any)
	config, _ := k["config"].(map[string]any)
	return fixtures.Doc(config)
}

// renderHelm renders the operator's chart with their values and the
// suite's (publicPort: the relay's, or a placeholder before it exists).
func (s *Stack) renderHelm(publicPort int) (*manifests.HelmRender, error) {
	over, why := s.helmOverlay(publicPort, s.helm.Values)
	r, err := s.helm.Render(helmRelease, namespace, over, why)
	if err != nil {
		return nil, err
	}
	// What the kubernetes provider will read must be there: a chart whose
	// Kratos the suite cannot find is bad input, named before any cluster.
	if _, err := checks.ReadDeployed(r.Objects); err != nil {
		return nil, fmt.Errorf("-kc.helm-chart %s with -kc.helm-values %s: %w (the kinds it renders that the suite reads: %s; the others Helm applies: %s)",
			s.helm.Path, strings.Join(s.helm.ValueFiles, ","), err, r.Objects.Kinds(), strings.Join(r.Skipped, ", "))
	}
	return r, nil
}

// helmInstall installs the chart as `helm install` does, with Helm's own
// SDK: pre-install hooks first, by weight, each waited for (the migration
// Job), then the rest in Helm's kind order, waited until ready. It records
// the hooks' run times against the Deployment's creation as evidence.
func (s *Stack) helmInstall(ctx context.Context, publicPort int) error {
	r, err := s.renderHelm(publicPort)
	if err != nil {
		return err
	}
	cfg := action.NewConfiguration()
	if err := cfg.Init(restGetter{s.rest, namespace}, namespace, "secret"); err != nil {
		return fmt.Errorf("helm: %w", err)
	}
	install := action.NewInstall(cfg)
	install.ReleaseName, install.Namespace, install.Timeout = helmRelease, namespace, s.cfg.Intervals.Rollout
	install.WaitStrategy, install.WaitForJobs = kube.StatusWatcherStrategy, true
	rel, err := install.RunWithContext(ctx, r.Chart, r.Values)
	if err != nil {
		return fmt.Errorf("helm install of %s (-kc.helm-chart) in the kind cluster: %w; the cluster's warnings: %s", s.opts.HelmChart, err, s.warnings(ctx))
	}
	v1, _ := rel.(*release.Release)
	s.env.Overlays = r.Overlays
	s.env.Components["helm"] = s.hookEvidence(ctx, v1, r)
	s.helmHooks = succeededHooks(v1, r)
	return nil
}

// succeededHooks are the rendered Jobs Helm ran as hooks to success, with
// the ConfigMaps and Secrets they mount. A chart may delete such a Job at
// once (Ory's: hook-delete-policy hook-succeeded), so the cluster read back
// lacks it and what it mounts; the manifest checks (KM-MIGRATE-001,
// KM-WIRE-001/002) judge them as Helm applied them.
func succeededHooks(rel *release.Release, r *manifests.HelmRender) *manifests.Objects {
	out := &manifests.Objects{}
	for _, h := range rel.Hooks {
		if h.Kind != "Job" || h.LastRun.Phase != release.HookPhaseSucceeded {
			continue
		}
		for _, j := range r.Objects.Jobs {
			if j.Name == h.Name {
				out.Jobs = append(out.Jobs, j)
			}
		}
	}
	for _, spec := range out.PodSpecs() {
		for _, v := range spec.Volumes {
			for _, c := range r.Objects.ConfigMaps {
				if v.ConfigMap != nil && v.ConfigMap.Name == c.Name {
					out.ConfigMaps = append(out.ConfigMaps, c)
				}
			}
			for _, sec := range r.Objects.Secrets {
				if v.Secret != nil && v.Secret.SecretName == sec.Name {
					out.Secrets = append(out.Secrets, sec)
				}
			}
		}
	}
	return out
}

// warnings are the namespace's Warning events (a hook Job that cannot make
// its pod says why only there), latest first, at most five.
func (s *Stack) warnings(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Intervals.HTTPRequest)
	defer cancel()
	events, err := s.cs.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{FieldSelector: "type=Warning"})
	if err != nil {
		return "listing events: " + err.Error()
	}
	items := events.Items
	slices.SortFunc(items, func(a, b corev1.Event) int { return b.LastTimestamp.Compare(a.LastTimestamp.Time) })
	var out []string
	for _, e := range items[:min(len(items), 5)] {
		out = append(out, fmt.Sprintf("%s %s: %s", e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Message))
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, "; ")
}

// hookEvidence says which pre-install hooks ran, when, and that they ended
// before Helm created the serve Deployment.
func (s *Stack) hookEvidence(ctx context.Context, rel *release.Release, r *manifests.HelmRender) string {
	var lines []string
	var lastHook time.Time
	for _, h := range rel.Hooks {
		if h.LastRun.StartedAt.IsZero() {
			continue
		}
		lines = append(lines, fmt.Sprintf("%s %s (weight %d) %s %s-%s", h.Kind, h.Name, h.Weight, h.LastRun.Phase,
			h.LastRun.StartedAt.Format("15:04:05.000"), h.LastRun.CompletedAt.Format("15:04:05.000")))
		if h.LastRun.CompletedAt.After(lastHook) {
			lastHook = h.LastRun.CompletedAt
		}
	}
	deployed := "no serve Deployment found"
	if d, err := checks.ReadDeployed(r.Objects); err == nil {
		name := d.Serve[strings.LastIndex(d.Serve, " ")+1:] // "container kratos of Deployment NAME"
		if dep, err := s.cs.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{}); err == nil {
			order := "after"
			if dep.CreationTimestamp.Time.Before(lastHook.Truncate(time.Second)) {
				order = "BEFORE"
			}
			deployed = fmt.Sprintf("Deployment %s created %s, %s the last hook ended", name, dep.CreationTimestamp.Format("15:04:05"), order)
		}
	}
	return fmt.Sprintf("helm install (SDK) of chart %s %s as release %s: hooks %s; %s", r.Chart.Name(), r.Chart.Metadata.Version, rel.Name,
		strings.Join(lines, ", "), deployed)
}

// restGetter hands Helm the suite's REST config, whose dialer reaches the
// API server inside the private engine's network namespace.
type restGetter struct {
	cfg       *rest.Config
	namespace string
}

var _ genericclioptions.RESTClientGetter = restGetter{}

func (g restGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.cfg), nil }

func (g restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(g.cfg)
	if err != nil {
		return nil, err
	}
	return memory.NewMemCacheClient(dc), nil
}

func (g restGetter) ToRESTMapper() (meta.RESTMapper, error) {
	dc, err := g.ToDiscoveryClient()
	if err != nil {
		return nil, err
	}
	return restmapper.NewDeferredDiscoveryRESTMapper(dc), nil
}

func (g restGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return clientcmd.NewDefaultClientConfig(clientcmdapi.Config{}, &clientcmd.ConfigOverrides{Context: clientcmdapi.Context{Namespace: g.namespace}})
}
