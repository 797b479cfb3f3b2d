package hygiene

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"kratos-conformance/harness"
	kindprovider "kratos-conformance/kind/provider"
)

// managed selects everything the suite creates in a cluster.
const managed = "app.kubernetes.io/managed-by=kratos-conformance"

// A kubernetes-provider run SIGKILLed while its in-cluster Job runs leaves
// its Job, ServiceAccount, Role and RoleBinding; kccleanup leaves them while
// their deadline is ahead (a live run is never disturbed) and removes them
// once it has passed. Then the host's leftovers of the killed kind run go
// too. Needs the kind node image: make hygiene-kind (KIND=1 make test).
func TestKilledInClusterRunIsSwept(t *testing.T) {
	if os.Getenv("KC_HYGIENE_KIND") == "" {
		t.Skip("kind only: make hygiene-kind")
	}
	sysctlsBefore := readSysctls(t)
	t.Cleanup(func() {
		if err := kindprovider.SweepKilledRun(); err != nil {
			t.Errorf("sweep the killed kind run: %v", err)
		}
		if netns, _ := filepath.Glob("/run/netns/kc-kind-*"); len(netns) > 0 {
			t.Errorf("network namespaces left: %v", netns)
		}
		// A kubelet left running rewrites the host settings below again (seen
		// here: kernel.panic back at 10 seconds after being restored).
		if left := kindNodeProcesses(); len(left) > 0 {
			t.Errorf("processes of the killed kind node still run: %v", left)
		}
		if after := readSysctls(t); after != sysctlsBefore {
			t.Errorf("host settings %s, were %s before the kind run", after, sysctlsBefore)
		}
	})
	cleanup := buildCleanup(t)
	out := t.TempDir()
	// in-cluster-run bounds the deadline the objects carry: created + 1m + teardown.
	cmd := runSuite(t, out, "-kc.provider=kind", "-kc.kind-in-cluster", "-kc.load=off", "-kc.partial",
		"-ginkgo.label-filter=in-cluster", "-kc.intervals=in-cluster-run=1m")
	var node, objects string
	poll(t, 10*time.Minute, "the in-cluster Job to exist", func() bool {
		node = controlPlane()
		objects = listManaged(node)
		return strings.Contains(objects, "Job/")
	})
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	namespace := strings.Split(strings.Fields(objects)[0], "/")[1]
	t.Logf("killed the run; left in namespace %s:\n%s", namespace, objects)
	for _, kind := range []string{"Job/", "ServiceAccount/", "Role/", "RoleBinding/"} {
		if !strings.Contains(objects, kind) {
			t.Errorf("no %s of the run to sweep: %s", kind, objects)
		}
	}
	copyInto(t, node, cleanup)
	if got := runCleanup(t, node, namespace); !strings.Contains(got, "nothing of the suite's to remove") {
		t.Errorf("kccleanup removed objects before their deadline: %s", got)
	}
	var removed string
	poll(t, 4*time.Minute, "kccleanup to remove the objects past their deadline", func() bool {
		removed = runCleanup(t, node, namespace)
		return strings.Contains(removed, "removed in namespace")
	})
	t.Log(removed)
	poll(t, 2*time.Minute, "the objects to be gone", func() bool {
		left := listManaged(node)
		return !strings.Contains(left, "Job/") && !strings.Contains(left, "Role/") && !strings.Contains(left, "ServiceAccount/")
	})
}

func readSysctls(t *testing.T) string {
	var vals []string
	for _, p := range []string{"kernel/panic", "kernel/panic_on_oops", "vm/overcommit_memory"} {
		b, err := os.ReadFile("/proc/sys/" + p)
		if err != nil {
			t.Fatal(err)
		}
		vals = append(vals, p+"="+strings.TrimSpace(string(b)))
	}
	return strings.Join(vals, " ")
}

// buildCleanup builds kccleanup static, to run inside the kind node (the
// API server lives in the private engine's network namespace).
func buildCleanup(t *testing.T) string {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "kccleanup")
	build := exec.Command("go", "build", "-o", bin, "./cmd/kccleanup")
	build.Dir, build.Env = root, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build kccleanup: %v\n%s", err, out)
	}
	return bin
}

// controlPlane is the kind node's container in the private engine (DOCKER_HOST).
func controlPlane() string {
	out, _ := exec.Command("docker", "ps", "--filter", "label=io.x-k8s.kind.role=control-plane", "--format", "{{.Names}}").Output()
	return strings.TrimSpace(string(out))
}

// listManaged is every object of the suite's kinds in the cluster, as Kind/namespace/name lines.
func listManaged(node string) string {
	if node == "" {
		return ""
	}
	out, _ := exec.Command("docker", "exec", node, "kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf", "get",
		"jobs,serviceaccounts,roles,rolebindings", "-A", "-l", managed,
		"-o", `jsonpath={range .items[*]}{.kind}/{.metadata.namespace}/{.metadata.name}{"\n"}{end}`).Output()
	return string(out)
}

func copyInto(t *testing.T, node, bin string) {
	if out, err := exec.Command("docker", "cp", bin, node+":/kccleanup").CombinedOutput(); err != nil {
		t.Fatalf("docker cp kccleanup: %v\n%s", err, out)
	}
}

func runCleanup(t *testing.T, node, namespace string) string {
	out, err := exec.Command("docker", "exec", node, "/kccleanup", "-kubeconfig", "/etc/kubernetes/admin.conf", "-namespace", namespace).CombinedOutput()
	if err != nil {
		t.Fatalf("kccleanup: %v\n%s", err, out)
	}
	return string(out)
}

// poll checks cond until it holds or within fails the test; the suite and
// the cluster are other processes, with no event to wait on.
func poll(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", within, what)
		}
		time.Sleep(2 * time.Second) // polling another process's state
	}
}

// kindNodeProcesses are host processes a kind node runs (kubelet, the
// control plane, containerd's shims of the private engine).
func kindNodeProcesses() []string {
	var left []string
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range cmdlines {
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			continue
		}
		cmd := strings.ReplaceAll(string(b), "\x00", " ")
		for _, name := range []string{"kubelet ", "kube-apiserver ", "etcd ", "kratos-conformance/kind/engine"} {
			if strings.Contains(cmd, name) {
				left = append(left, filepath.Base(filepath.Dir(p))+": "+cmd[:min(len(cmd), 80)])
			}
		}
	}
	return left
}
