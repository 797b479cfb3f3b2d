// Package hygiene proves the suite leaves nothing behind: it runs the
// conformance suite as a user would (a normal run, a failing run, a run
// interrupted by SIGINT mid-way, two runs at once) and then looks for
// leftover processes, temp folders and listening ports of those runs.
package hygiene

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"kratos-conformance/harness"
)

const tempPrefix = "kratos-conformance-" // the process provider's temp folders

// leftovers is what a run may leave: processes working in a temp folder of
// the process provider, the folders themselves. (redis-server rewrites its
// command line to "redis-server 127.0.0.1:PORT"; the port check finds it.)
type leftovers struct {
	procs []string
	dirs  []string
}

func snapshot(t *testing.T) leftovers {
	t.Helper()
	var l leftovers
	l.dirs, _ = filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range cmdlines {
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			continue // gone, or a zombie: nothing runs there
		}
		cmd := strings.ReplaceAll(string(b), "\x00", " ")
		if strings.Contains(cmd, filepath.Join(os.TempDir(), tempPrefix)) {
			l.procs = append(l.procs, filepath.Base(filepath.Dir(p))+": "+cmd)
		}
	}
	return l
}

func newSince(before, after []string) []string {
	seen := map[string]bool{}
	for _, b := range before {
		seen[b] = true
	}
	var out []string
	for _, a := range after {
		if !seen[a] {
			out = append(out, a)
		}
	}
	return out
}

// runSuite starts the suite like `make e2e` does, in its own process group.
func runSuite(t *testing.T, out string, args ...string) *exec.Cmd {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", append([]string{"run", "github.com/onsi/ginkgo/v2/ginkgo", "--no-color", "./suites/conformance",
		"--", "-kc.out=" + out}, args...)...)
	cmd.Dir = root
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logFile, err := os.Create(filepath.Join(t.TempDir(), "suite.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	return cmd
}

// checkClean fails the test for anything the run left: processes, temp
// folders, and ports the summary's components listened on.
func checkClean(t *testing.T, before leftovers, out string) {
	t.Helper()
	after := snapshot(t)
	for _, p := range newSince(before.procs, after.procs) {
		t.Errorf("process left running: %s", p)
	}
	for _, d := range newSince(before.dirs, after.dirs) {
		t.Errorf("temp folder left: %s", d)
	}
	for _, port := range componentPorts(t, out) {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
			c.Close()
			t.Errorf("port %s of the run still accepts connections", port)
		}
	}
}

var portFlag = regexp.MustCompile(`(?:--port |-p |127\.0\.0\.1:)(\d+)`)

// componentPorts are the ports of every run in out.
func componentPorts(t *testing.T, out string) []string {
	summaries := runSummaries(out)
	if len(summaries) == 0 {
		t.Errorf("the run wrote no summary.json into %s", out)
	}
	var ports []string
	for _, s := range summaries {
		ports = append(ports, portsOf(t, s)...)
	}
	return ports
}

// runSummaries are the summary.json of each run folder in out ("latest" is a link to one).
func runSummaries(out string) []string {
	all, _ := filepath.Glob(filepath.Join(out, "*", "summary.json"))
	var runs []string
	for _, s := range all {
		if filepath.Base(filepath.Dir(s)) != "latest" {
			runs = append(runs, s)
		}
	}
	return runs
}

// portsOf reads the ports a run's components listened on from its summary.
func portsOf(t *testing.T, summary string) []string {
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Environment struct {
			Components map[string]string `json:"components"`
		} `json:"environment"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	var ports []string
	for _, cmd := range s.Environment.Components {
		for _, m := range portFlag.FindAllStringSubmatch(cmd, -1) {
			ports = append(ports, m[1])
		}
	}
	return ports
}

func TestNormalRunLeavesNothing(t *testing.T) {
	before, out := snapshot(t), t.TempDir()
	cmd := runSuite(t, out, "-kc.load=off")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("a normal run failed: %v (log in the test's temp dir)", err)
	}
	checkClean(t, before, out)
}

func TestFailingRunLeavesNothing(t *testing.T) {
	before, out := snapshot(t), t.TempDir()
	cmd := runSuite(t, out, "-kc.break=noop-cipher")
	var exit *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &exit) {
		t.Fatalf("a run against a broken config must fail, got %v", err)
	}
	checkClean(t, before, out)
}

func TestInterruptedRunLeavesNothing(t *testing.T) {
	before, out := snapshot(t), t.TempDir()
	cmd := runSuite(t, out, "-kc.load=smoke")
	// Interrupt once the stack is up and specs are running: Kratos has
	// answered a whoami. Polled with a deadline; the suite's waits are its own.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		logs, _ := filepath.Glob(filepath.Join(out, "*", "kratos.log"))
		if len(logs) > 0 {
			if b, _ := os.ReadFile(logs[0]); strings.Contains(string(b), "/sessions/whoami") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the suite never got to its specs")
		}
		time.Sleep(200 * time.Millisecond) // polling a file another process writes; no event to wait on
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the suite did not stop within a minute of SIGINT")
	}
	checkClean(t, before, out)
	b, err := os.ReadFile(filepath.Join(out, "latest", "summary.json"))
	if err != nil || !strings.Contains(string(b), "Interrupted") {
		t.Errorf("an interrupted run must still write its summary and say so (%v)", err)
	}
}

// Two runs at once, sharing the reports folder as two CI jobs on one machine
// would: both pass, each has its own run folder, ports and temp folder, and
// together they leave nothing.
func TestTwoRunsAtOnceDoNotCollide(t *testing.T) {
	before, out := snapshot(t), t.TempDir()
	a := runSuite(t, out, "-kc.load=off", "-kc.partial", "-ginkgo.label-filter=guide")
	b := runSuite(t, out, "-kc.load=off", "-kc.partial", "-ginkgo.label-filter=guide")
	for name, cmd := range map[string]*exec.Cmd{"first": a, "second": b} {
		if err := cmd.Wait(); err != nil {
			t.Errorf("the %s of two concurrent runs failed: %v", name, err)
		}
	}
	summaries := runSummaries(out)
	if len(summaries) != 2 {
		t.Fatalf("want two run folders with a summary in %s, got %v", out, summaries)
	}
	seen := map[string]string{}
	for _, s := range summaries {
		for _, port := range portsOf(t, s) {
			if other, ok := seen[port]; ok && other != s {
				t.Errorf("port %s used by both runs (%s, %s)", port, other, s)
			}
			seen[port] = s
		}
	}
	checkClean(t, before, out)
}

// The compiled suite (make build's bin/kratos-conformance) runs outside the
// repository: bad input is refused at once naming the fix, an unreachable
// target within its named wait, and a real run writes its reports under the
// working folder with the catalogue and expected failures built in.
func TestTheBinaryRunsOutsideTheRepository(t *testing.T) {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "kratos-conformance")
	build := exec.Command("go", "test", "-c", "-o", bin, "./suites/conformance")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go test -c: %v\n%s", err, out)
	}
	before, work := snapshot(t), t.TempDir()
	run := func(timeout time.Duration, args ...string) (string, error) {
		cmd := exec.Command(bin, append([]string{"-ginkgo.no-color"}, args...)...)
		cmd.Dir = work
		timer := time.AfterFunc(timeout, func() { _ = cmd.Process.Kill() })
		defer timer.Stop()
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	target := filepath.Join(work, "staging.yaml")
	if err := os.WriteFile(target, []byte("public_url: https://kratos.example.test:1/\nadmin_ulr: http://127.0.0.1:1/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(time.Minute, "-kc.target="+target); err == nil || !strings.Contains(out, "admin_ulr") {
		t.Errorf("a target file with a typo must be refused naming it; got %v:\n%s", err, harness.LastLines(out, 10))
	}
	if err := os.WriteFile(target, []byte("public_url: https://kratos.example.test:1/\nadmin_url: http://127.0.0.1:1/\nresolve: {.example.test: 127.0.0.1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, err := run(time.Minute, "-kc.target="+target, "-kc.intervals=kratos-ready=2s")
	if err == nil || !strings.Contains(out, "admin_url") || time.Since(start) > 30*time.Second {
		t.Errorf("an unreachable admin URL must fail within its wait, naming admin_url; got %v after %s:\n%s", err, time.Since(start), harness.LastLines(out, 10))
	}

	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	kratos, _ := filepath.Glob(filepath.Join(cache, "kratos-conformance", "bin", "kratos-v*"))
	mailpit, _ := filepath.Glob(filepath.Join(cache, "kratos-conformance", "bin", "mailpit-v*"))
	if len(kratos) == 0 || len(mailpit) == 0 {
		t.Fatal("no cached Kratos and Mailpit: run make build first")
	}
	out, err = run(5*time.Minute, "-ginkgo.label-filter=admin", "-kc.partial", "-kc.kratos-bin="+kratos[0], "-kc.mailpit-bin="+mailpit[0])
	if err != nil || !strings.Contains(out, "verdict: PARTIAL") || !strings.Contains(out, "(built in)") {
		t.Errorf("a filtered run outside the repository on the process provider must be PARTIAL, accepted with -kc.partial, with the built-in expected failures; got %v:\n%s", err, harness.LastLines(out, 15))
	}
	// The refused target file's run (a summary that says why), the
	// unreachable target's and the real one.
	runs := runSummaries(filepath.Join(work, "kratos-conformance-reports"))
	if len(runs) != 3 {
		t.Errorf("want three run folders under the working folder's kratos-conformance-reports, got %v", runs)
	}
	refused := slices.ContainsFunc(runs, func(summary string) bool {
		b, err := os.ReadFile(summary)
		return err == nil && strings.Contains(string(b), `"could_not_run": true`) && strings.Contains(string(b), "admin_ulr")
	})
	if !refused {
		t.Errorf("the refused target file left no summary.json saying could not run and naming admin_ulr: %v", runs)
	}
	checkClean(t, before, filepath.Join(work, "kratos-conformance-reports"))
}
