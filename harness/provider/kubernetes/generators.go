package kubernetes

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"kratos-conformance/harness"
	"kratos-conformance/internal/wait"
	"kratos-conformance/kind"
	"kratos-conformance/load"
)

// A generator pod is the suite's binary with these variables set: the
// folder of its spec (spec-<index>.json, from a ConfigMap) and the ConfigMap
// whose "start" key is the barrier: the time all generators begin.
const (
	envGeneratorSpecs   = "KC_LOAD_GENERATOR"
	envGeneratorBarrier = "KC_LOAD_BARRIER"
	generatorReady      = "kc-generator-ready"
	barrierKey          = "start"
	// barrierLead is how far ahead of now the start is set once all
	// generators run: they poll the ConfigMap every barrierPoll, so each sees
	// it well before it comes.
	barrierLead = 2 * time.Second
	barrierPoll = 100 * time.Millisecond
)

var _ harness.LoadGenerators = (*Stack)(nil)

// GeneratorEndpoints are the public API as a pod reaches it: its base_url,
// dialled at the Service in front of serve's public port (else a serve pod's IP).
func (s *Stack) GeneratorEndpoints(ctx context.Context) (harness.Endpoints, error) {
	config, err := s.config()
	if err != nil {
		return harness.Endpoints{}, err
	}
	base, _ := config.Value("serve.public.base_url")
	u, err := s.publicBase(config, base)
	if err != nil {
		return harness.Endpoints{}, fmt.Errorf("load generators in the cluster: %w", err)
	}
	pod, err := s.readyPod(ctx, s.opts.Namespace, labels.SelectorFromSet(s.deployed.ServePod))
	if err != nil {
		return harness.Endpoints{}, err
	}
	port := portOf(config, "serve.public.port", 4433)
	addr, ok := s.serviceAddr(pod, port)
	if !ok {
		addr = net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(port))
	}
	return harness.Endpoints{KratosPublic: u, CAPEM: s.ep.CAPEM, HostAliases: map[string]string{harness.HostPort(u): addr}}, nil
}

// RunGenerators runs the specs as an Indexed Job of the suite's image (one
// completion index per spec, each pod reading its own), follows every pod's
// log into lines, releases them together by the barrier ConfigMap once all
// run, and removes the Job and the ConfigMap.
func (s *Stack) RunGenerators(ctx context.Context, specs [][]byte, lines func(int, []byte)) error {
	if s.opts.SuiteImage == "" {
		return errors.New("-kc.load-generators runs the suite's image in the cluster: pass -kc.k8s-suite-image (kind: -kc.kind-in-cluster)")
	}
	iv, ns, n := s.cfg.Intervals, s.opts.Namespace, len(specs)
	name := "kc-load-" + strings.ToLower(rand.Text()[:8])
	ic, err := kind.InClusterObjects()
	if err != nil {
		return err
	}
	var undo undoList
	defer undo.run(ctx, iv.Teardown)
	if err := s.sweepKilledRuns(ctx); err != nil {
		return err
	}
	if err := s.generatorRBAC(ctx, name, &undo); err != nil { // the generators read their barrier ConfigMap
		return err
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: map[string]string{}}
	stamp(&cm.ObjectMeta, s.deadline())
	for i, spec := range specs {
		cm.Data[fmt.Sprintf("spec-%d.json", i)] = string(spec)
	}
	if _, err := s.cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create the generators' ConfigMap %s/%s: %w", ns, name, err)
	}
	undo.add(func(c context.Context) { _ = s.cs.CoreV1().ConfigMaps(ns).Delete(c, name, metav1.DeleteOptions{}) })
	job, err := s.generatorJob(ic, name, n)
	if err != nil {
		return err
	}
	if _, err := s.cs.BatchV1().Jobs(ns).Create(ctx, job, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create the generators' Job %s/%s: %w", ns, name, err)
	}
	background := metav1.DeletePropagationBackground
	undo.add(func(c context.Context) {
		_ = s.cs.BatchV1().Jobs(ns).Delete(c, name, metav1.DeleteOptions{PropagationPolicy: &background})
		// The next step's generators need the CPU these pods request: wait until they are gone.
		_ = wait.For(c, wait.Input{Name: "the generator pods of Job " + ns + "/" + name + " to go", Timeout: iv.Teardown, Interval: iv.Poll,
			Check: func(ctx context.Context) error {
				list, err := s.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "batch.kubernetes.io/job-name=" + name})
				if err == nil && len(list.Items) > 0 {
					err = fmt.Errorf("%d left", len(list.Items))
				}
				return err
			}})
	})
	pods := make([]string, n)
	if err := wait.For(ctx, wait.Input{Name: fmt.Sprintf("%d generator pods of Job %s/%s to run", n, ns, name), Timeout: iv.Rollout, Interval: iv.Poll,
		Check: func(ctx context.Context) error { return s.generatorPods(ctx, name, pods) },
		// A generator the scheduler has no room for will not get it by waiting.
		Alive: func() error { return s.generatorsUnschedulable(ctx, name) }}); err != nil {
		return err
	}
	_, cs, err := s.streamClient()
	if err != nil {
		return err
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		ready = make([]bool, n)
		errs  = make([]error, n)
	)
	for i, pod := range pods {
		wg.Go(func() {
			errs[i] = followLog(ctx, cs, ns, pod, "generator", func(line []byte) {
				if string(line) == generatorReady {
					mu.Lock()
					ready[i] = true
					mu.Unlock()
					return
				}
				lines(i, line)
			})
		})
	}
	err = wait.For(ctx, wait.Input{Name: fmt.Sprintf("%d generator pods of Job %s/%s to say %s", n, ns, name, generatorReady), Timeout: iv.Rollout, Interval: iv.Poll,
		Check: func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			for i, r := range ready {
				if !r {
					return fmt.Errorf("generator %d (pod %s) not ready", i, pods[i])
				}
			}
			return nil
		}})
	if err == nil {
		start := time.Now().Add(barrierLead).UTC().Format(time.RFC3339Nano)
		cm.Data[barrierKey] = start
		_, err = s.cs.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
	}
	if err != nil {
		// Without a start the generators would wait out their pods' deadline: end them now.
		_ = s.cs.BatchV1().Jobs(ns).Delete(context.WithoutCancel(ctx), name, metav1.DeleteOptions{PropagationPolicy: &background})
	}
	wg.Wait()
	if err == nil {
		err = s.generatorExits(context.WithoutCancel(ctx), name, n)
	}
	return errors.Join(append([]error{err}, errs...)...)
}

// generatorExits waits for the n generator pods of job to end and checks
// each exited 0 and none ran twice: a log that ended is not a generator
// that succeeded (an OOM kill ends it too).
func (s *Stack) generatorExits(ctx context.Context, job string, n int) error {
	var failed []error
	err := wait.For(ctx, wait.Input{Name: "the generator pods of Job " + job + " to end", Timeout: s.cfg.Intervals.Teardown, Interval: s.cfg.Intervals.Poll,
		Check: func(ctx context.Context) error {
			list, err := s.cs.CoreV1().Pods(s.opts.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "batch.kubernetes.io/job-name=" + job})
			if err != nil {
				return err
			}
			failed = nil
			if len(list.Items) != n {
				failed = append(failed, fmt.Errorf("Job %s ran %d generator pods for %d generators: one was replaced and its results are incomplete", job, len(list.Items), n))
			}
			for _, p := range list.Items {
				for _, c := range p.Status.ContainerStatuses {
					switch t := c.State.Terminated; {
					case t == nil:
						return fmt.Errorf("generator pod %s still runs", p.Name)
					case t.ExitCode != 0:
						failed = append(failed, fmt.Errorf("generator pod %s exited %d (%s %s)", p.Name, t.ExitCode, t.Reason, t.Message))
					}
				}
			}
			return nil
		}})
	return errors.Join(err, errors.Join(failed...))
}

// generatorApp labels the generator pods (app.kubernetes.io/name), which
// is how a step tells their CPU apart where it reads every pod (kind).
const generatorApp = "kratos-conformance-load"

// generatorJob is the Indexed Job of n generators: the in-cluster Job's pod
// (its ServiceAccount, security context) running the suite's binary in
// generator mode with the ConfigMap mounted, each pod's CPU limited by
// -kc.load-generator-cpu so a run says what one generator of that size offers.
func (s *Stack) generatorJob(ic *kind.InCluster, name string, n int) (*batchv1.Job, error) {
	cpu, err := resource.ParseQuantity(s.cfg.LoadGeneratorCPU)
	if err != nil {
		return nil, fmt.Errorf("-kc.load-generator-cpu=%q: %w", s.cfg.LoadGeneratorCPU, err)
	}
	j := ic.Job.DeepCopy()
	j.Name, j.Namespace = name, s.opts.Namespace
	j.Labels = map[string]string{"app.kubernetes.io/name": generatorApp}
	j.Spec.Template.Labels = maps.Clone(j.Labels)
	stamp(&j.ObjectMeta, s.deadline())
	indexed := batchv1.IndexedCompletion
	count := int32(n)
	j.Spec.CompletionMode, j.Spec.Completions, j.Spec.Parallelism = &indexed, &count, &count
	deadline := int64(s.cfg.Intervals.InClusterRun.Seconds())
	j.Spec.ActiveDeadlineSeconds = &deadline
	spec := &j.Spec.Template.Spec
	spec.ServiceAccountName = name // its own, which may read only its barrier (generatorRBAC)
	suite := spec.Containers[0]
	spec.Containers = []corev1.Container{{
		Name: "generator", Image: s.opts.SuiteImage, ImagePullPolicy: suite.ImagePullPolicy,
		Command:         []string{"/usr/local/bin/kratos-conformance"},
		Env:             []corev1.EnvVar{{Name: envGeneratorSpecs, Value: "/spec"}, {Name: envGeneratorBarrier, Value: name}},
		VolumeMounts:    []corev1.VolumeMount{{Name: "spec", MountPath: "/spec", ReadOnly: true}, {Name: "tmp", MountPath: "/tmp"}},
		SecurityContext: suite.SecurityContext,
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: cpu, corev1.ResourceMemory: resource.MustParse("64Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: cpu, corev1.ResourceMemory: resource.MustParse("512Mi")},
		},
	}}
	spec.Volumes = []corev1.Volume{
		{Name: "spec", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}}}},
		{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	return j, nil
}

// generatorPods fills pods[index] with the running pod of each completion index.
func (s *Stack) generatorPods(ctx context.Context, job string, pods []string) error {
	list, err := s.cs.CoreV1().Pods(s.opts.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "batch.kubernetes.io/job-name=" + job})
	if err != nil {
		return err
	}
	running := 0
	for _, p := range list.Items {
		i, err := strconv.Atoi(p.Annotations["batch.kubernetes.io/job-completion-index"])
		if err != nil || i < 0 || i >= len(pods) {
			continue
		}
		if p.Status.Phase == corev1.PodRunning {
			pods[i] = p.Name
			running++
			continue
		}
		if t := imageTrouble(&p); t != "" {
			return fmt.Errorf("generator %d: %s (-kc.k8s-suite-image)", i, t)
		}
		if t := podTroubleOf(&p); t != "" {
			return fmt.Errorf("generator %d %s", i, t)
		}
	}
	if running < len(pods) {
		return fmt.Errorf("%d of %d running", running, len(pods))
	}
	return nil
}

// generatorsUnschedulable names a generator pod the scheduler refused.
func (s *Stack) generatorsUnschedulable(ctx context.Context, job string) error {
	list, err := s.cs.CoreV1().Pods(s.opts.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "batch.kubernetes.io/job-name=" + job})
	if err != nil {
		return nil
	}
	for _, p := range list.Items {
		if c := notScheduled(&p); c != nil && c.Reason == corev1.PodReasonUnschedulable {
			return fmt.Errorf("generator pod %s cannot be scheduled: %s (lower -kc.load-generator-cpu=%s or -kc.load-generators)", p.Name, c.Message, s.cfg.LoadGeneratorCPU)
		}
	}
	return nil
}

// followLog passes each line of a container's log to line until it ends.
func followLog(ctx context.Context, cs kubernetes.Interface, ns, pod, container string, line func([]byte)) error {
	rc, err := cs.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: container, Follow: true}).Stream(ctx)
	if err != nil {
		return fmt.Errorf("follow the log of %s/%s: %w", ns, pod, err)
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line(sc.Bytes())
	}
	return sc.Err()
}

// GeneratorMain runs this process as a load generator when the suite's
// binary is started in a generator pod; ok is false elsewhere.
func GeneratorMain() (code int, ok bool) {
	dir := os.Getenv(envGeneratorSpecs)
	if dir == "" {
		return 0, false
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runGenerator(ctx, dir); err != nil {
		fmt.Fprintln(os.Stderr, "kc-generator:", err)
		return 1, true
	}
	return 0, true
}

func runGenerator(ctx context.Context, dir string) error {
	index := os.Getenv("JOB_COMPLETION_INDEX")
	raw, err := os.ReadFile(filepath.Join(dir, "spec-"+index+".json"))
	if err != nil {
		return fmt.Errorf("generator %q: %w", index, err)
	}
	var spec load.GeneratorSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return err
	}
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ns, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
	if err != nil {
		return err
	}
	fmt.Println(generatorReady)
	tick := time.NewTicker(barrierPoll)
	defer tick.Stop()
	for {
		cm, err := cs.CoreV1().ConfigMaps(string(ns)).Get(ctx, os.Getenv(envGeneratorBarrier), metav1.GetOptions{})
		if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
			return fmt.Errorf("read the barrier ConfigMap: %w", err) // waiting would not help: end, and say why
		}
		if err == nil && cm.Data[barrierKey] != "" {
			start, err := time.Parse(time.RFC3339Nano, cm.Data[barrierKey])
			if err != nil {
				return fmt.Errorf("barrier %q: %w", cm.Data[barrierKey], err)
			}
			select {
			case <-time.After(time.Until(start)):
			case <-ctx.Done():
				return ctx.Err()
			}
			return load.Generate(ctx, spec, os.Stdout)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
