package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	kindcluster "sigs.k8s.io/kind/pkg/cluster"

	"kratos-conformance/harness"
	k8sprovider "kratos-conformance/harness/provider/kubernetes"
	"kratos-conformance/internal/netns"
	"kratos-conformance/internal/portforward"
	manifests "kratos-conformance/kind"
	"kratos-conformance/kind/engine"
)

// Stack is the kind provider's harness.Stack: a private Docker engine, a
// kind cluster in it, kind/manifests applied, the APIs reached by port-forward.
type Stack struct {
	cfg       harness.StackConfig
	opts      Options
	runID     string
	logDir    string
	name      string // the cluster
	engine    *engine.Engine
	kind      *kindcluster.Provider
	kubeconf  string
	rest      *rest.Config
	cs        *kubernetes.Clientset
	sysctls   savedSysctls
	faultMu   sync.Mutex                      // one fault operation at a time: they read and write the same Deployments
	forwards  map[string]*portforward.Forward // by app (the pods' app.kubernetes.io/name)
	stopRelay func()                          // the public API's relay
	rendered  *manifests.Rendered
	site      harness.Site         // the host names the public API is reached under
	helm      *manifests.HelmChart // -kc.helm-chart with its values, loaded once
	// publicPort: the public API's relay on this machine's loopback, which
	// Kratos' public base URL names.
	publicPort int
	// helmHooks: the hook Jobs Helm ran to success and what they mount,
	// which the chart may have deleted from the cluster since.
	helmHooks *manifests.Objects
	reader    *k8sprovider.Stack // -kc.kind-discover: the deployment as the kubernetes provider reads it
	ep        harness.Endpoints
	env       harness.Environment
	up        harness.ImagePath // -kc.upgrade-from, to the tested image
	hops      int               // the upgrade's rolls done
}

var (
	_ harness.Stack          = (*Stack)(nil)
	_ harness.ConfigSource   = (*Stack)(nil)
	_ harness.InCluster      = (*Stack)(nil)
	_ harness.LoadGenerators = (*Stack)(nil)
)

func newStack(in harness.StackInput, o Options) *Stack {
	return &Stack{cfg: in.Config, opts: o, runID: in.RunID, logDir: in.LogDir,
		name: clusterName(in.RunID), forwards: map[string]*portforward.Forward{}, up: harness.ImagePath{Images: harness.UpgradePath(in.Config.UpgradeFrom), Tested: o.images.kratos},
		env: harness.Environment{Provider: "kind", KratosBinary: o.images.kratos, Components: map[string]string{}}}
}

// clusterName is kind's name for the run's cluster: the run id in the
// characters kind allows (a certification's stack ids hold a slash).
func clusterName(runID string) string {
	return "kc-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '-'
	}, strings.ToLower(runID))
}

// Up runs the bring-up's steps in order. The first that fails ends it, its
// error returned as it is (the text reports have always shown, not prefixed
// with the step's name); Down removes what the steps before it made.
func (s *Stack) Up(ctx context.Context) error {
	for _, st := range s.steps() {
		if err := st.run(ctx); err != nil {
			return err
		}
	}
	return nil
}

// step is one named part of the bring-up, as kind's own cluster creation is
// a list of actions (sigs.k8s.io/kind pkg/cluster/internal/create). A step
// that does not apply to the run's flags returns nil at once.
type step struct {
	name string
	run  func(context.Context) error
}

// steps is the bring-up, in order: the private engine and a kind cluster in
// it, the public API relayed to this machine, the layout rendered and
// applied and rolled out (or the operator's chart installed), then the
// deployment read back or its APIs forwarded.
func (s *Stack) steps() []step {
	return []step{
		{"save host settings", s.saveHostSettings},
		{"start engine", s.startEngine},
		{"sweep stale clusters", s.sweepStaleClusters},
		{"create cluster", s.createCluster},
		{"client", s.connect},
		{"relay public port", s.relayPublicPort},
		{"upgrade path images", func(ctx context.Context) error {
			if len(s.up.Images) == 0 {
				return nil
			}
			return s.upgradePath(ctx)
		}},
		{"render manifests", s.render},
		{"load suite image", func(ctx context.Context) error {
			if !s.opts.InCluster {
				return nil
			}
			return s.loadImage(ctx, s.opts.images.suite)
		}},
		{"apply", s.apply},
		{"wait rollouts", s.waitRollouts},
		{"helm install", func(ctx context.Context) error {
			if s.opts.HelmChart == "" {
				return nil
			}
			// The operator's config is in their values: nothing of it is the suite's profile.
			s.env.Profile = ""
			return s.helmInstall(ctx, s.publicPort)
		}},
		{"discover or forward", func(ctx context.Context) error {
			if s.opts.Discover {
				return s.discover(ctx, s.publicPort)
			}
			return s.forwardAll(ctx, s.publicPort)
		}},
		{"record upgrade path", func(context.Context) error {
			// A read-back deployment has no upgrade path (ValidateUpgradeFrom).
			if s.opts.Discover || s.up.From() == "" {
				return nil
			}
			// The tested image is the record; the stack serves the oldest for now.
			s.env.KratosVersion, s.env.UpgradedFrom = s.up.TestedVersion, strings.Join(s.up.Versions, " -> ")
			return nil
		}},
	}
}

// saveHostSettings keeps the host settings kubelet changes, for Down to
// write back (and the next run, if this one is killed).
func (s *Stack) saveHostSettings(context.Context) error {
	var err error
	s.sysctls, err = saveSysctls(filepath.Join(s.opts.cache, "sysctl.saved"))
	return err
}

// startEngine starts the private Docker engine the cluster runs in.
func (s *Stack) startEngine(ctx context.Context) error {
	iv := s.cfg.Intervals
	s.engine = engine.New(filepath.Join(s.opts.cache, "engine"))
	return s.engine.Start(ctx, iv.EngineReady, iv.Poll)
}

// sweepStaleClusters deletes the clusters a killed run left: the engine's
// folder is this run's alone (its lock), so any cluster in it is one.
func (s *Stack) sweepStaleClusters(context.Context) error {
	s.kind = kindcluster.NewProvider(kindcluster.ProviderWithDocker())
	stale, err := s.kind.List()
	if err != nil {
		return fmt.Errorf("list kind clusters in the private engine: %w", err)
	}
	for _, name := range stale {
		if err := s.kind.Delete(name, ""); err != nil {
			return fmt.Errorf("delete cluster %s, left by a killed run: %w", name, err)
		}
	}
	return nil
}

// createCluster creates the run's cluster from the offline node image and
// waits until its node is ready.
func (s *Stack) createCluster(context.Context) error {
	iv := s.cfg.Intervals
	s.kubeconf = filepath.Join(s.logDir, "kubeconfig")
	clusterCfg, err := clusterConfig(s.opts.nodeImage)
	if err != nil {
		return err
	}
	if err := s.kind.Create(s.name, kindcluster.CreateWithRawConfig(clusterCfg), kindcluster.CreateWithKubeconfigPath(s.kubeconf),
		kindcluster.CreateWithWaitForReady(iv.ClusterUp), kindcluster.CreateWithDisplayUsage(false), kindcluster.CreateWithDisplaySalutation(false)); err != nil {
		return fmt.Errorf("kind create cluster %s: %w", s.name, err)
	}
	return nil
}

// connect makes the cluster's client, dialling into the engine's network
// namespace.
func (s *Stack) connect(context.Context) error {
	var err error
	if s.rest, err = clientcmd.BuildConfigFromFlags("", s.kubeconf); err != nil {
		return err
	}
	s.rest.Dial = netns.Dialer(s.engine.NetNS())
	s.cs, err = kubernetes.NewForConfig(s.rest)
	return err
}

// render renders the layout for the public port (with -kc.helm-chart, the
// host names of the operator's values) and writes the run's CA for clients.
func (s *Stack) render(context.Context) error {
	s.site = harness.GuideSite()
	if s.opts.HelmChart != "" {
		s.site = s.helmSite()
	}
	var err error
	s.rendered, err = manifests.Render(manifests.RenderInput{KratosImage: s.up.Current(), PostgresImage: s.opts.images.postgres,
		RedisImage: s.opts.images.redis, MailpitImage: s.opts.images.mailpit, PublicHostPort: s.publicPort,
		Profile: s.cfg.Profile, Break: s.cfg.Break, Layout: s.opts.Layout, Site: s.site})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(s.logDir, "ca.crt"), s.rendered.CA.CAPEM, 0o644); err != nil {
		return err
	}
	s.env.Profile, s.env.Breakage, s.env.ConfigHash = s.cfg.Profile, s.cfg.Break, s.rendered.ConfigHash
	s.env.Hasher, s.env.HasherCost = s.rendered.Hasher, s.rendered.HasherCost
	return nil
}

const (
	partOf, testInfra = "app.kubernetes.io/part-of", "test-infra" // the label of kind/manifests' Postgres, Redis and Mailpit
	namespace         = "identity"                                // kind/manifests' namespace
	appLabel          = "app.kubernetes.io/name="
)

func (s *Stack) Endpoints() harness.Endpoints     { return s.ep }
func (s *Stack) Environment() harness.Environment { return s.env }

// KratosConfig is serve's config, as deployed (with -kc.kind-discover: as read back from the cluster).
func (s *Stack) KratosConfig() []byte {
	if s.reader != nil {
		return s.reader.KratosConfig()
	}
	if s.rendered == nil {
		return nil
	}
	return s.rendered.KratosConfig
}

// CollectLogs exports every node and container log (kind export logs) into
// dir/kind; with -kc.kind-discover, also what the kubernetes provider collects.
func (s *Stack) CollectLogs(ctx context.Context, dir string) error {
	if s.kind == nil {
		return nil
	}
	var err error
	if s.reader != nil {
		err = s.reader.CollectLogs(ctx, dir)
	}
	return errors.Join(err, s.kind.CollectLogs(s.name, filepath.Join(dir, "kind")))
}

// Down deletes the cluster, stops the engine and restores the host settings
// kubelet changed. Safe after a failed Up and safe to call twice.
func (s *Stack) Down(ctx context.Context) error {
	var errs []error
	if s.reader != nil {
		errs = append(errs, s.reader.Down(ctx))
	}
	for _, f := range s.forwards {
		f.Close()
	}
	clear(s.forwards)
	if s.stopRelay != nil {
		s.stopRelay()
		s.stopRelay = nil
	}
	if s.kind != nil {
		if err := s.kind.Delete(s.name, s.kubeconf); err != nil {
			errs = append(errs, fmt.Errorf("kind delete cluster %s: %w", s.name, err))
		}
		s.kind = nil
	}
	if s.engine != nil {
		errs = append(errs, s.engine.Stop(s.cfg.Intervals.StopGrace))
		s.engine = nil
	}
	errs = append(errs, s.sysctls.restore())
	return errors.Join(errs...)
}

// Keep leaves the cluster and engine running.
func (s *Stack) Keep() string {
	if s.engine == nil {
		return "The kind stack did not get as far as starting its engine: nothing was left running."
	}
	return fmt.Sprintf("The kind cluster %s is still running in the private Docker engine (DOCKER_HOST=%s, network namespace %s, kubeconfig %s).\n"+
		"Remove it with: DOCKER_HOST=%s kind delete cluster --name %s; then stop the engine's dockerd and containerd and run ip netns del %s",
		s.name, s.engine.Host(), s.engine.NetNS(), s.kubeconf, s.engine.Host(), s.name, filepath.Base(s.engine.NetNS()))
}
