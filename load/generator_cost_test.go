package load

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"kratos-conformance/harness"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// standInEnv makes this test binary serve whoami answers instead of testing
// (TestWhoamiStandIn), so that a benchmark's generator runs in a process of
// its own and its CPU is the generator's alone.
const standInEnv = "KC_WHOAMI_STAND_IN"

// TestWhoamiStandIn is not a test: run by BenchmarkGeneratorWhoamiStep in a
// child process, it answers whoami the way Kratos does for testSessions
// (identity header, a body of Kratos' size) until its stdin closes.
func TestWhoamiStandIn(t *testing.T) {
	if os.Getenv(standInEnv) == "" {
		t.Skip("only run as the stand-in of BenchmarkGeneratorWhoamiStep")
	}
	sessions := testSessions(200)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var i int
		fmt.Sscanf(r.URL.Query().Get("kc"), "%d", &i)
		res := whoamiResult(vegeta.Target{URL: r.URL.String()}, 200, sessions[i].IdentityID, sessions[i].SessionID)
		w.Header().Set("X-Kratos-Authenticated-Identity-Id", sessions[i].IdentityID)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(res.Body)
	}))
	defer srv.Close()
	fmt.Printf("%s %s\n", srv.URL, strings.ReplaceAll(string(pemOf(srv.Certificate().Raw)), "\n", "|"))
	_, _ = bufio.NewReader(os.Stdin).ReadString(0) // until the benchmark closes stdin
}

// BenchmarkGeneratorWhoamiStep is the generator's CPU per request of a
// whoami-token step at 600/s, as a capacity step runs it (TLS, every answer
// validated, the plot, the raw results, the timeline), and its share of the
// machine during the window: the capacity goal is 10% or less at whoami's max.
func BenchmarkGeneratorWhoamiStep(b *testing.B) {
	child := exec.Command(os.Args[0], "-test.run=^TestWhoamiStandIn$")
	child.Env = append(os.Environ(), standInEnv+"=1")
	stdin, _ := child.StdinPipe()
	stdout, _ := child.StdoutPipe()
	if err := child.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { stdin.Close(); _ = child.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("stand-in: %v", err)
	}
	addr, ca, _ := strings.Cut(strings.TrimSpace(line), " ")
	u, _ := url.Parse(addr + "/")
	client, err := attackClient(Input{Endpoints: harness.Endpoints{KratosPublic: u, CAPEM: []byte(strings.ReplaceAll(ca, "|", "\n"))},
		MaxWorkers: 64, Timeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	const rate = 600
	sc := whoami("whoami-token", u, testSessions(200), time.Second, false)
	var cpu, requests, share float64
	for b.Loop() {
		before := CPUGroups{}.sample(context.Background())
		step, err := RunStep(context.Background(), StepInput{Scenario: sc, Rate: rate, Window: 2 * time.Second, PlotDir: b.TempDir(),
			Limits: Limits{MaxWorkers: 64, Timeout: 5 * time.Second, Client: client}})
		if err != nil || step.Success < 1 {
			b.Fatalf("step: %v, success %.3f %v", err, step.Success, step.Errors)
		}
		cpu += CPUGroups{}.sample(context.Background()).secs["generator"] - before.secs["generator"]
		requests += float64(step.Requests)
		share += step.CPU["generator"]
	}
	// The step's own share is read over its window; the bookkeeping after
	// it (plot, raw results) is in cpu-µs/req but competes with nothing.
	b.ReportMetric(cpu/requests*1e6, "cpu-µs/req")
	b.ReportMetric(share/float64(b.N), "window-share@600/s")
}
