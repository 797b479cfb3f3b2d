package kind

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	kindcluster "sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"

	"kratos-conformance/harness"
	"kratos-conformance/harness/provider/kind/engine"
	k8sprovider "kratos-conformance/harness/provider/kubernetes"
	"kratos-conformance/internal/netns"
	"kratos-conformance/internal/portforward"
	"kratos-conformance/internal/wait"
	manifests "kratos-conformance/kind"
)

// Stack is the kind provider's harness.Stack: a private Docker engine, a
// kind cluster in it, kind/manifests applied, the APIs reached by port-forward.
type Stack struct {
	cfg       harness.Config
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

// relayPublicPort reaches the public API as browsers reach the guide's:
// through the Service (NodePort 30443 on the node), relayed from this
// machine's loopback into the engine's network namespace. A port-forward
// through the API server would measure its stream tunnel, not Kratos
// (whoami p99 156 ms at 50/s that way, here).
func (s *Stack) relayPublicPort(ctx context.Context) error {
	nodes, err := s.kind.ListNodes(s.name)
	if err != nil || len(nodes) == 0 {
		return fmt.Errorf("the nodes of cluster %s: %v", s.name, err)
	}
	nodeIP, _, err := nodes[0].IP()
	if err != nil {
		return err
	}
	publicAddr, stopRelay, err := netns.Forward(context.WithoutCancel(ctx), s.engine.NetNS(), nodeIP+":30443")
	if err != nil {
		return err
	}
	s.stopRelay = stopRelay
	_, port, _ := strings.Cut(publicAddr, ":")
	s.publicPort, _ = strconv.Atoi(port)
	return nil
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

// discover hands the deployed cluster to the kubernetes provider's reading:
// clients come in through the NodePort relay, as with forwardAll, and the run's
// CA is the one the public certificate was made by.
func (s *Stack) discover(ctx context.Context, publicPort int) error {
	var err error
	suiteImage := ""
	if s.opts.InCluster {
		suiteImage = s.opts.images.suite
	}
	s.reader, err = k8sprovider.Attach(harness.StackInput{Config: s.cfg, RunID: s.runID, LogDir: s.logDir}, s.rest, k8sprovider.Options{
		SuiteImage: suiteImage, SuiteAs: k8sprovider.SuiteAsJob,
		Namespace: namespace, PublicURL: "https://" + s.site.PublicHost + ":" + strconv.Itoa(publicPort) + "/", Resolve: s.site.Resolve(), CAFile: filepath.Join(s.logDir, "ca.crt")})
	if err != nil {
		return err
	}
	if err := s.reader.Up(ctx); err != nil {
		return err
	}
	s.ep = s.reader.Endpoints()
	got := s.reader.Environment()
	s.env.KratosVersion, s.env.PostgresVersion, s.env.RedisVersion = got.KratosVersion, got.PostgresVersion, got.RedisVersion
	maps.Copy(s.env.Components, got.Components)
	s.env.Components["cluster"] = "kind " + s.name + " (node image " + s.opts.nodeImage + "), read as -kc.provider=kubernetes reads a cluster"
	return nil
}

// apply creates every object of the layout: configuration and Services
// first, then the Jobs Helm runs as pre-install hooks, each to completion,
// then the workloads.
func (s *Stack) apply(ctx context.Context) error {
	o, opts := s.rendered.Objects, metav1.CreateOptions{}
	core, apps := s.cs.CoreV1(), s.cs.AppsV1()
	if err := errors.Join(
		createAll(o.Namespaces, func(n *corev1.Namespace) error { _, err := core.Namespaces().Create(ctx, n, opts); return err }),
		createAll(o.ConfigMaps, func(c *corev1.ConfigMap) error {
			_, err := core.ConfigMaps(c.Namespace).Create(ctx, c, opts)
			return err
		}),
		createAll(o.Secrets, func(c *corev1.Secret) error { _, err := core.Secrets(c.Namespace).Create(ctx, c, opts); return err }),
		createAll(o.Services, func(c *corev1.Service) error { _, err := core.Services(c.Namespace).Create(ctx, c, opts); return err }),
	); err != nil {
		return err
	}
	// The test infrastructure first: a hook Job migrates a database that,
	// for a real release, exists before it.
	infra := slices.DeleteFunc(slices.Clone(o.Deployments), func(d appsv1.Deployment) bool { return d.Labels[partOf] != testInfra })
	if err := createAll(infra, func(d *appsv1.Deployment) error {
		_, err := apps.Deployments(d.Namespace).Create(ctx, d, opts)
		return err
	}); err != nil {
		return err
	}
	if len(o.Jobs) > 0 {
		for _, d := range infra {
			if err := s.waitRollout(ctx, d.Name); err != nil {
				return err
			}
		}
	}
	for i := range o.Jobs {
		j := &o.Jobs[i]
		if _, err := s.cs.BatchV1().Jobs(j.Namespace).Create(ctx, j, opts); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create Job %s/%s: %w", j.Namespace, j.Name, err)
		}
		if err := s.waitJob(ctx, j.Name, j.Spec.Template.Labels[strings.TrimSuffix(appLabel, "=")]); err != nil {
			return err
		}
	}
	return errors.Join(
		createAll(o.Deployments, func(d *appsv1.Deployment) error {
			_, err := apps.Deployments(d.Namespace).Create(ctx, d, opts)
			return err
		}),
		createAll(o.StatefulSets, func(d *appsv1.StatefulSet) error {
			_, err := apps.StatefulSets(d.Namespace).Create(ctx, d, opts)
			return err
		}),
	)
}

// waitJob waits until the Job completed; a failed Job ends the wait at once.
func (s *Stack) waitJob(ctx context.Context, name, app string) error {
	iv := s.cfg.Intervals
	return wait.For(ctx, wait.Input{Name: "Job " + namespace + "/" + name + " complete", Timeout: iv.Rollout, Interval: iv.Poll,
		Alive: func() error {
			j, err := s.cs.BatchV1().Jobs(namespace).Get(ctx, name, metav1.GetOptions{})
			if err == nil && j.Status.Failed > 0 {
				return fmt.Errorf("Job %s failed: %s", name, s.podTrouble(ctx, app))
			}
			return nil
		},
		Check: func(ctx context.Context) error {
			j, err := s.cs.BatchV1().Jobs(namespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if j.Status.Succeeded > 0 {
				return nil
			}
			return fmt.Errorf("not complete; %s", s.podTrouble(ctx, app))
		}})
}

// createAll creates each object, taking one that already exists as created.
func createAll[T any, P interface {
	*T
	metav1.Object
}](objs []T, create func(P) error) error {
	for i := range objs {
		obj := P(&objs[i])
		if err := create(obj); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create %T %s/%s: %w", obj, obj.GetNamespace(), obj.GetName(), err)
		}
	}
	return nil
}

// waitRollouts waits, one named wait each, until every workload is rolled out.
func (s *Stack) waitRollouts(ctx context.Context) error {
	for _, d := range s.rendered.Objects.Deployments {
		if err := s.waitRollout(ctx, d.Name); err != nil {
			return err
		}
	}
	for _, st := range s.rendered.Objects.StatefulSets {
		if err := s.waitStatefulSet(ctx, st.Name, st.Spec.Template.Labels[strings.TrimSuffix(appLabel, "=")]); err != nil {
			return err
		}
	}
	return nil
}

// waitStatefulSet waits until every replica runs the latest revision and is ready.
func (s *Stack) waitStatefulSet(ctx context.Context, name, app string) error {
	return s.waitWorkload(ctx, "statefulset "+namespace+"/"+name, app, func(ctx context.Context) (bool, int32, string, error) {
		st, err := s.cs.AppsV1().StatefulSets(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, 0, "", err
		}
		want, got := *st.Spec.Replicas, st.Status
		done := got.ObservedGeneration >= st.Generation && got.CurrentRevision == got.UpdateRevision && got.ReadyReplicas == want && got.Replicas == want
		return done, want, fmt.Sprintf("%d of %d replicas ready at the latest revision", got.ReadyReplicas, want), nil
	})
}

// waitRollout waits until the Deployment's controller saw its latest spec and
// every replica it asks for is updated and available, with no old pod left.
func (s *Stack) waitRollout(ctx context.Context, name string) error {
	return s.waitWorkload(ctx, "deployment "+namespace+"/"+name, name, func(ctx context.Context) (bool, int32, string, error) {
		d, err := s.cs.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, 0, "", err
		}
		want, st := *d.Spec.Replicas, d.Status
		done := st.ObservedGeneration >= d.Generation && st.UpdatedReplicas == want && st.AvailableReplicas == want && st.Replicas == want
		return done, want, fmt.Sprintf("%d of %d replicas updated and available", st.AvailableReplicas, want), nil
	})
}

// waitWorkload is the named rollout wait both share: progress says whether
// the controller is done and how many replicas it wants; then no more pods of
// app may exist than that (a terminating one still serves its old spec).
func (s *Stack) waitWorkload(ctx context.Context, what, app string, progress func(context.Context) (done bool, want int32, detail string, err error)) error {
	iv := s.cfg.Intervals
	return wait.For(ctx, wait.Input{Name: "rollout of " + what, Timeout: iv.Rollout, Interval: iv.Poll,
		Check: func(ctx context.Context) error {
			done, want, detail, err := progress(ctx)
			if err != nil {
				return err
			}
			if done {
				return s.podsGone(ctx, app, want)
			}
			return fmt.Errorf("%s; %s", detail, s.podTrouble(ctx, app))
		}})
}

// podsGone says whether no more than want pods of the app exist, terminating ones included.
func (s *Stack) podsGone(ctx context.Context, app string, want int32) error {
	pods, err := s.cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: appLabel + app})
	if err != nil {
		return err
	}
	if n := len(pods.Items); int32(n) > want {
		return fmt.Errorf("%d pods of %s still exist, %d wanted", n, app, want)
	}
	return nil
}

// podTrouble says why an app's pods are not ready: the diagnosis the
// kubernetes provider shares (k8sprovider.PodTrouble), with a short timeout
// of its own.
func (s *Stack) podTrouble(ctx context.Context, app string) string {
	return k8sprovider.PodTrouble(ctx, k8sprovider.PodTroubleInput{Client: s.cs, Namespace: namespace, Selector: appLabel + app, Timeout: s.cfg.Intervals.HTTPRequest})
}

// forwardAll reaches Kratos' admin API, Mailpit's API, Postgres and Redis by
// port-forward, as an operator does; the public API is already relayed to
// publicPort, which Kratos' public base URL names.
func (s *Stack) forwardAll(ctx context.Context, publicPort int) error {
	ports := map[string]int{"public": publicPort}
	for _, app := range []string{"kratos", "mailpit", "postgres", "redis"} {
		local, err := harness.FreePort()
		if err != nil {
			return err
		}
		if err := s.forwardTo(ctx, app, local); err != nil {
			return err
		}
		ports[app] = local
	}
	kratosPod := s.forwards["kratos"].Pod
	public := &url.URL{Scheme: "https", Host: harness.KratosHost + ":" + strconv.Itoa(ports["public"]), Path: "/"}
	admin := &url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(ports["kratos"]), Path: "/"}
	mail := &url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(ports["mailpit"]), Path: "/"}
	s.ep = harness.LocalEndpoints(harness.GuideSite(), public, admin, mail, s.rendered.CA)
	s.ep.PostgresDSN = fmt.Sprintf("postgres://kratos:%s@127.0.0.1:%d/kratos?sslmode=disable", s.rendered.PostgresPassword, ports["postgres"])
	s.ep.RedisAddr = "127.0.0.1:" + strconv.Itoa(ports["redis"])
	if err := harness.WaitForKratos(ctx, s.ep, s.cfg.Intervals, nil); err != nil {
		return err
	}
	var err error
	if s.env.PostgresVersion, err = harness.CheckPostgresVersion(ctx, s.ep.PostgresDSN); err != nil {
		return err
	}
	if s.env.RedisVersion, err = harness.CheckRedisVersion(ctx, s.ep.RedisAddr); err != nil {
		return err
	}
	client, err := s.ep.HTTPClient(nil, s.cfg.Intervals.HTTPRequest)
	if err != nil {
		return err
	}
	s.env.KratosVersion, err = harness.KratosVersion(ctx, client, admin)
	s.env.Components["cluster"] = "kind " + s.name + " (node image " + s.opts.nodeImage + ")"
	s.env.Components["kratos"] = "pod identity/" + kratosPod + " (migrate initContainer, kratos, courier)"
	if s.opts.Layout == manifests.LayoutChart {
		s.env.Components["kratos"] = "Ory's Helm chart layout: Job kratos-automigrate (pre-install hook), Deployment kratos (pod " + kratosPod + "), StatefulSet kratos-courier"
	}
	return err
}

// forwardPorts is the port each app's forward reaches in its pod.
var forwardPorts = map[string]int{"kratos": 4434, "mailpit": 8025, "postgres": 5432, "redis": 6379}

// forwardTo (re)opens the forward from loopback port local to the app's
// running pod: a forward is bound to one pod, so the fault scenarios renew it
// after a scale or rollout replaced the pod, on the same local port.
func (s *Stack) forwardTo(ctx context.Context, app string, local int) error {
	if old := s.forwards[app]; old != nil {
		old.Close()
		<-old.Closed() // the listener is closed: the port is free again
		delete(s.forwards, app)
	}
	pod, err := s.runningPod(ctx, app)
	if err != nil {
		return err
	}
	fw, err := portforward.Open(ctx, s.rest, s.cs, namespace, pod, local, forwardPorts[app])
	if err != nil {
		return err
	}
	fw.Pod, fw.Local = pod, local
	s.forwards[app] = fw
	return nil
}

// runningPod is a Running pod of the app that is not being deleted.
func (s *Stack) runningPod(ctx context.Context, app string) (string, error) {
	pods, err := s.cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: appLabel + app, FieldSelector: "status.phase=Running"})
	if err != nil {
		return "", err
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			return p.Name, nil
		}
	}
	return "", fmt.Errorf("no running pod of %s/%s", namespace, app)
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

// loadImage copies an image of the private engine into the node's
// containerd, as kind load docker-image does: the suite's image changes with
// every commit, so it is not baked into the node image.
func (s *Stack) loadImage(ctx context.Context, image string) error {
	nodes, err := s.kind.ListNodes(s.name)
	if err != nil || len(nodes) == 0 {
		return fmt.Errorf("the nodes of cluster %s: %v", s.name, err)
	}
	save := exec.CommandContext(ctx, "docker", "save", image) // DOCKER_HOST: the private engine (Validate checked)
	out, err := save.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr strings.Builder
	save.Stderr = &stderr
	if err := save.Start(); err != nil {
		return fmt.Errorf("docker save %s: %w", image, err)
	}
	loadErr := nodeutils.LoadImageArchive(nodes[0], out)
	_, _ = io.Copy(io.Discard, out)
	if err := save.Wait(); err != nil {
		return fmt.Errorf("docker save %s: %w: %s (make kind-images builds it)", image, err, strings.TrimSpace(stderr.String()))
	}
	if loadErr != nil {
		return fmt.Errorf("load %s into the node of cluster %s: %w", image, s.name, loadErr)
	}
	return nil
}

// SuiteImage and RunInCluster: with -kc.kind-in-cluster, the suite's image
// loaded into the node, run as the kubernetes provider runs it.
func (s *Stack) SuiteImage() string {
	if s.reader == nil {
		return ""
	}
	return s.reader.SuiteImage()
}

func (s *Stack) RunInCluster(ctx context.Context, dir string) (harness.InClusterRun, error) {
	if s.reader == nil {
		return harness.InClusterRun{ExitCode: -1}, errors.New("-kc.kind-in-cluster was not given")
	}
	return s.reader.RunInCluster(ctx, dir)
}

// GeneratorEndpoints and RunGenerators: with -kc.kind-in-cluster, load
// generators run as the kubernetes provider runs them.
func (s *Stack) GeneratorEndpoints(ctx context.Context) (harness.Endpoints, error) {
	if s.reader == nil {
		return harness.Endpoints{}, errors.New("-kc.load-generators on kind needs -kc.kind-in-cluster")
	}
	return s.reader.GeneratorEndpoints(ctx)
}

func (s *Stack) RunGenerators(ctx context.Context, specs [][]byte, lines func(int, []byte)) error {
	if s.reader == nil {
		return errors.New("-kc.load-generators on kind needs -kc.kind-in-cluster")
	}
	return s.reader.RunGenerators(ctx, specs, lines)
}

// Manifests are the objects as read back from the cluster, with
// -kc.kind-discover only; with -kc.helm-chart also the hook Jobs Helm ran
// to success, and what they mount, where the cluster no longer has them.
func (s *Stack) Manifests() *manifests.Objects {
	if s.reader == nil {
		return nil
	}
	read := s.reader.Manifests()
	if read == nil || s.helmHooks == nil {
		return read
	}
	o := *read
	o.Jobs = addMissing(read.Jobs, s.helmHooks.Jobs, func(j batchv1.Job) string { return j.Name })
	o.ConfigMaps = addMissing(read.ConfigMaps, s.helmHooks.ConfigMaps, func(c corev1.ConfigMap) string { return c.Name })
	o.Secrets = addMissing(read.Secrets, s.helmHooks.Secrets, func(c corev1.Secret) string { return c.Name })
	return &o
}

// addMissing is have with the objects of extra whose name it lacks.
func addMissing[T any](have, extra []T, name func(T) string) []T {
	out := slices.Clone(have)
	for _, e := range extra {
		if !slices.ContainsFunc(out, func(h T) bool { return name(h) == name(e) }) {
			out = append(out, e)
		}
	}
	return out
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
