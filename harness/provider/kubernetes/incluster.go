package kubernetes

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"kratos-conformance/harness"
	"kratos-conformance/internal/portforward"
	"kratos-conformance/internal/wait"
	"kratos-conformance/kind"
)

// Ways to run the suite in the cluster (-kc.k8s-suite-as).
const (
	SuiteAsJob      = "job"       // kind/incluster/job.yaml: the report kept for kubectl cp
	SuiteAsHelmTest = "helm-test" // kind/incluster/test-pod.yaml: what helm test runs
)

const (
	suiteContainer = "suite"
	suiteReport    = "/report"
	reportReady    = "kratos-conformance: report ready" // in-cluster-run's line once the report is written
)

var _ harness.InCluster = (*Stack)(nil)

// SuiteImage is -kc.k8s-suite-image.
func (s *Stack) SuiteImage() string { return s.opts.SuiteImage }

// RunInCluster runs the certification in a pod of the deployment's namespace
// (kind/incluster: a Job, or the helm-test Pod) as the ServiceAccount of
// rbac.yaml, selecting the same workloads; the pod reaches Kratos by its
// Services' ClusterIPs. It streams the pod's log to dir+".log", copies the
// pod's report folder into dir, and removes what it created (the
// ServiceAccount and Role only if they were not there before).
func (s *Stack) RunInCluster(ctx context.Context, dir string) (harness.InClusterRun, error) {
	run := harness.InClusterRun{ExitCode: -1, Log: dir + ".log"}
	if s.opts.SuiteImage == "" {
		return run, errors.New("no suite image: pass -kc.k8s-suite-image (make images builds it: KC_SUITE_IMAGE)")
	}
	iv := s.cfg.Intervals
	ctx, cancel := context.WithTimeout(ctx, iv.InClusterRun)
	defer cancel()
	ic, err := kind.InClusterObjects()
	if err != nil {
		return run, err
	}
	long, cs, err := s.streamClient()
	if err != nil {
		return run, err
	}
	var undo undoList
	defer undo.run(ctx, iv.Teardown)
	if err := s.sweepKilledRuns(ctx); err != nil {
		return run, err
	}
	if err := s.ensureRBAC(ctx, ic, &undo); err != nil {
		return run, err
	}
	pod, err := s.launchSuite(ctx, ic, &undo)
	if err != nil {
		return run, err
	}
	run.Pod = s.opts.Namespace + "/" + pod
	if err := s.waitSuiteStarted(ctx, pod); err != nil {
		return run, err
	}
	var ready, ended atomic.Bool
	logDone := make(chan error, 1)
	go func() { logDone <- streamLog(ctx, cs, s.opts.Namespace, pod, run.Log, &ready); ended.Store(true) }()
	if err := wait.For(ctx, wait.Input{Name: "the certification in pod " + run.Pod + " (its log: " + run.Log + ")", Timeout: iv.InClusterRun, Interval: iv.Poll,
		Check: func(context.Context) error {
			if ready.Load() {
				return nil
			}
			return errors.New("running")
		},
		Alive: func() error {
			if ended.Load() && !ready.Load() {
				return fmt.Errorf("pod %s ended before its report was written: %s", run.Pod, s.podEnd(ctx, pod))
			}
			return nil
		}}); err != nil {
		return run, err
	}
	if err := copyReport(ctx, long, cs, s.opts.Namespace, pod, dir); err != nil {
		return run, err
	}
	// The report is out: the pod may end now instead of holding it.
	_ = portforward.Exec(ctx, long, cs, s.opts.Namespace, pod, suiteContainer, []string{"touch", suiteReport + "/.fetched"}, io.Discard)
	select {
	case err := <-logDone:
		if err != nil {
			return run, err
		}
	case <-ctx.Done():
		return run, fmt.Errorf("pod %s did not end after its report was copied: %w", run.Pod, ctx.Err())
	}
	run.ExitCode, err = s.suiteExit(ctx, pod)
	return run, err
}

// sweepKilledRuns removes, before the run creates anything, what killed
// runs left in the namespace (their deadline passed), and says so.
func (s *Stack) sweepKilledRuns(ctx context.Context) error {
	gone, err := Sweep(ctx, s.rest, s.opts.Namespace, false)
	if len(gone) > 0 {
		fmt.Fprintf(os.Stderr, "kubernetes: removed what a killed run left in namespace %s: %s\n", s.opts.Namespace, strings.Join(gone, ", "))
	}
	if err != nil {
		return fmt.Errorf("sweep what killed runs left (the launching identity needs list and delete on the kinds it creates): %w", err)
	}
	return nil
}

// undoList removes what a run created in the cluster, last first.
type undoList []func(context.Context)

func (u *undoList) add(f func(context.Context)) { *u = append(*u, f) }

// run undoes everything within bound, also after ctx ended (Ctrl-C). A
// pointer receiver: `defer undo.run(...)` must see what is added after it.
func (u *undoList) run(ctx context.Context, bound time.Duration) {
	cleanup, done := context.WithTimeout(context.WithoutCancel(ctx), bound)
	defer done()
	for i := len(*u) - 1; i >= 0; i-- {
		(*u)[i](cleanup)
	}
}

// streamClient is a client without the per-request bound: log streams and
// copies last as long as the run (ctx bounds them).
func (s *Stack) streamClient() (*rest.Config, kubernetes.Interface, error) {
	long := rest.CopyConfig(s.rest)
	long.Timeout = 0
	cs, err := kubernetes.NewForConfig(long)
	return long, cs, err
}

// ensureRBAC creates rbac.yaml's ServiceAccount, Role (tailored to the
// deployment read) and RoleBinding in the namespace where they are missing,
// and undoes exactly those.
func (s *Stack) ensureRBAC(ctx context.Context, ic *kind.InCluster, undo *undoList, configMaps ...string) error {
	ns, deadline := s.opts.Namespace, s.deadline()
	ic.ServiceAccount.Namespace, ic.Role.Namespace, ic.RoleBinding.Namespace = ns, ns, ns
	tailorRole(&ic.Role, s.objs, configMaps...)
	for _, m := range []*metav1.ObjectMeta{&ic.ServiceAccount.ObjectMeta, &ic.Role.ObjectMeta, &ic.RoleBinding.ObjectMeta} {
		stamp(m, deadline)
	}
	for i := range ic.RoleBinding.Subjects {
		ic.RoleBinding.Subjects[i].Namespace = ns
	}
	sa, roles, bindings := s.cs.CoreV1().ServiceAccounts(ns), s.cs.RbacV1().Roles(ns), s.cs.RbacV1().RoleBindings(ns)
	steps := []struct {
		what   string
		create func() error
		remove func(context.Context) error
	}{
		{"ServiceAccount " + ic.ServiceAccount.Name, func() error { _, err := sa.Create(ctx, &ic.ServiceAccount, metav1.CreateOptions{}); return err },
			func(c context.Context) error { return sa.Delete(c, ic.ServiceAccount.Name, metav1.DeleteOptions{}) }},
		{"Role " + ic.Role.Name, func() error { _, err := roles.Create(ctx, &ic.Role, metav1.CreateOptions{}); return err },
			func(c context.Context) error { return roles.Delete(c, ic.Role.Name, metav1.DeleteOptions{}) }},
		{"RoleBinding " + ic.RoleBinding.Name, func() error { _, err := bindings.Create(ctx, &ic.RoleBinding, metav1.CreateOptions{}); return err },
			func(c context.Context) error { return bindings.Delete(c, ic.RoleBinding.Name, metav1.DeleteOptions{}) }},
	}
	for _, st := range steps {
		err := st.create()
		if apierrors.IsAlreadyExists(err) {
			continue // the operator's own: left as it is
		}
		if err != nil {
			return fmt.Errorf("create %s in namespace %s (the launching identity needs to create it, or apply kind/incluster/rbac.yaml first): %w", st.what, ns, err)
		}
		undo.add(func(c context.Context) { _ = st.remove(c) })
	}
	return nil
}

// launchSuite creates the Job or the helm-test Pod with the suite's image and
// the selection's flags, and returns the pod's name once it exists.
func (s *Stack) launchSuite(ctx context.Context, ic *kind.InCluster, undo *undoList) (string, error) {
	ns, name := s.opts.Namespace, "kratos-conformance-"+strings.ToLower(rand.Text()[:8])
	args := []string{"-kc.k8s-namespace=" + ns}
	if s.opts.Release != "" {
		args = append(args, "-kc.k8s-release="+s.opts.Release)
	}
	if s.opts.Selector != "" {
		args = append(args, "-kc.k8s-selector="+s.opts.Selector)
	}
	setSuite := func(spec *corev1.PodSpec) {
		for i := range spec.Containers {
			if spec.Containers[i].Name == suiteContainer {
				c := &spec.Containers[i]
				c.Image = s.opts.SuiteImage
				c.Args = append(withoutSelection(c.Args), args...)
				// Held until copied (the launcher then ends the hold), the helm-test Pod too.
				for k := range c.Env {
					if c.Env[k].Name == "KC_REPORT_HOLD" {
						c.Env[k].Value = strconv.Itoa(int(s.cfg.Intervals.InClusterRun.Seconds()))
					}
				}
			}
		}
	}
	background := metav1.DeletePropagationBackground
	if s.opts.SuiteAs == SuiteAsHelmTest {
		p := ic.TestPod.DeepCopy()
		p.Name, p.Namespace = name, ns
		stamp(&p.ObjectMeta, s.deadline())
		setSuite(&p.Spec)
		if _, err := s.cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			return "", fmt.Errorf("create the helm-test Pod %s/%s: %w", ns, name, err)
		}
		undo.add(func(c context.Context) { _ = s.cs.CoreV1().Pods(ns).Delete(c, name, metav1.DeleteOptions{}) })
		return name, nil
	}
	j := ic.Job.DeepCopy()
	j.Name, j.Namespace = name, ns
	stamp(&j.ObjectMeta, s.deadline())
	setSuite(&j.Spec.Template.Spec)
	if _, err := s.cs.BatchV1().Jobs(ns).Create(ctx, j, metav1.CreateOptions{}); err != nil {
		return "", fmt.Errorf("create the Job %s/%s: %w", ns, name, err)
	}
	undo.add(func(c context.Context) {
		_ = s.cs.BatchV1().Jobs(ns).Delete(c, name, metav1.DeleteOptions{PropagationPolicy: &background})
	})
	var pod string
	err := wait.For(ctx, wait.Input{Name: "the pod of Job " + ns + "/" + name, Timeout: s.cfg.Intervals.Rollout, Interval: s.cfg.Intervals.Poll,
		Check: func(ctx context.Context) error {
			pods, err := s.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "batch.kubernetes.io/job-name=" + name})
			if err != nil {
				return err
			}
			if len(pods.Items) == 0 {
				return errors.New("no pod yet")
			}
			pod = pods.Items[0].Name
			return nil
		}})
	return pod, err
}

// withoutSelection drops namespace and selection flags a shipped manifest
// carries: the launcher names the deployment under test.
func withoutSelection(args []string) []string {
	var out []string
	for _, a := range args {
		if !strings.HasPrefix(a, "-kc.k8s-namespace=") && !strings.HasPrefix(a, "-kc.k8s-release=") && !strings.HasPrefix(a, "-kc.k8s-selector=") {
			out = append(out, a)
		}
	}
	return out
}

// waitSuiteStarted waits for the suite's container to run; an image the
// node cannot pull fails at once, naming the flag.
func (s *Stack) waitSuiteStarted(ctx context.Context, pod string) error {
	ns := s.opts.Namespace
	return wait.For(ctx, wait.Input{Name: "the suite's container in pod " + ns + "/" + pod + " to start", Timeout: s.cfg.Intervals.Rollout, Interval: s.cfg.Intervals.Poll,
		Check: func(ctx context.Context) error {
			p, err := s.cs.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
			if err != nil {
				return err
			}
			for _, c := range p.Status.ContainerStatuses {
				switch {
				case c.State.Running != nil || c.State.Terminated != nil:
					return nil
				case c.State.Waiting != nil:
					return fmt.Errorf("%s: %s", c.State.Waiting.Reason, c.State.Waiting.Message)
				}
			}
			return fmt.Errorf("phase %s %s", p.Status.Phase, podTroubleOf(p))
		},
		Alive: func() error {
			p, err := s.cs.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
			if err != nil {
				return nil
			}
			if t := imageTrouble(p); t != "" {
				return fmt.Errorf("the node cannot get image %s (-kc.k8s-suite-image): %s", s.opts.SuiteImage, t)
			}
			return nil
		}})
}

// streamLog follows the suite container's log into path until the container
// ends, setting ready once the report is written.
func streamLog(ctx context.Context, cs kubernetes.Interface, ns, pod, path string, ready *atomic.Bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return followLog(ctx, cs, ns, pod, suiteContainer, func(line []byte) {
		fmt.Fprintf(f, "%s\n", line)
		if bytes.HasPrefix(line, []byte(reportReady)) {
			ready.Store(true)
		}
	})
}

// copyReport copies the pod's report folder into dir, as kubectl cp does:
// tar in the pod, untarred here with every path kept inside dir.
func copyReport(ctx context.Context, cfg *rest.Config, cs kubernetes.Interface, ns, pod, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := portforward.Exec(ctx, cfg, cs, ns, pod, suiteContainer, []string{"tar", "-C", suiteReport, "-cf", "-", "."}, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	err := untar(tar.NewReader(pr), dir)
	_, _ = io.Copy(io.Discard, pr) // tar's trailing padding: let the exec end cleanly
	if execErr := <-done; err == nil && execErr != nil {
		err = execErr
	}
	if err != nil {
		return fmt.Errorf("copy %s from %s/%s: %w", suiteReport, ns, pod, err)
	}
	return nil
}

// untar writes a tar stream into dir, every path kept inside dir.
func untar(tr *tar.Reader, dir string) error {
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			f, err := os.Create(target)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			f.Close()
			if err != nil {
				return err
			}
		}
	}
}

// suiteExit is the suite container's exit code once it ended.
func (s *Stack) suiteExit(ctx context.Context, pod string) (int, error) {
	code := -1
	err := wait.For(ctx, wait.Input{Name: "pod " + s.opts.Namespace + "/" + pod + " to end", Timeout: s.cfg.Intervals.Teardown, Interval: s.cfg.Intervals.Poll,
		Check: func(ctx context.Context) error {
			p, err := s.cs.CoreV1().Pods(s.opts.Namespace).Get(ctx, pod, metav1.GetOptions{})
			if err != nil {
				return err
			}
			for _, c := range p.Status.ContainerStatuses {
				if c.Name == suiteContainer && c.State.Terminated != nil {
					code = int(c.State.Terminated.ExitCode)
					return nil
				}
			}
			return errors.New("still running")
		}})
	return code, err
}

// podEnd says how the pod's suite container ended.
func (s *Stack) podEnd(ctx context.Context, pod string) string {
	p, err := s.cs.CoreV1().Pods(s.opts.Namespace).Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		return err.Error()
	}
	for _, c := range p.Status.ContainerStatuses {
		if t := c.State.Terminated; t != nil {
			return fmt.Sprintf("exit %d (%s) %s", t.ExitCode, t.Reason, t.Message)
		}
	}
	return "phase " + string(p.Status.Phase)
}
