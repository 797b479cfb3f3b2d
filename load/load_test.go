package load

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"kratos-conformance/harness"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

var public, _ = url.Parse("https://kratos.example.test:4433/")

func testSessions(n int) []Session {
	out := make([]Session, n)
	for i := range out {
		out[i] = Session{IdentityID: fmt.Sprintf("identity-%d", i), SessionID: fmt.Sprintf("session-%d", i), Token: fmt.Sprintf("ory_st_%d", i)}
	}
	return out
}

// whoamiResult is what a target's response looks like, shaped like Kratos' answer.
func whoamiResult(t vegeta.Target, code uint16, identity, session string) *vegeta.Result {
	body := fmt.Sprintf(`{"id":"%s","active":true,"identity":{"id":"%s","traits":{"email":"x@example.test"}},"padding":"%s"}`,
		session, identity, strings.Repeat("x", 1200))
	return &vegeta.Result{Code: code, URL: t.URL, Body: []byte(body),
		Headers: http.Header{"X-Kratos-Authenticated-Identity-Id": {identity}}}
}

func TestWhoamiCheckCatchesWhatVegetaWouldCountAsSuccess(t *testing.T) {
	sessions := testSessions(3)
	sc := whoami("whoami-token", public, sessions, 50*time.Millisecond, false)
	tr, _, _ := sc.Prepare(nil, 0)
	var tgt vegeta.Target
	if err := tr(&tgt); err != nil {
		t.Fatal(err)
	}
	if tgt.Header.Get("X-Session-Token") != "ory_st_0" || !strings.HasSuffix(tgt.URL, "/sessions/whoami?kc=0") {
		t.Fatalf("first target = %s %v", tgt.URL, tgt.Header)
	}
	for name, tc := range map[string]struct {
		r    *vegeta.Result
		want string
	}{
		"valid":          {whoamiResult(tgt, 200, "identity-0", "session-0"), ""},
		"wrong identity": {whoamiResult(tgt, 200, "identity-1", "session-0"), "wrong answer: another identity"},
		"wrong session":  {whoamiResult(tgt, 200, "identity-0", "session-1"), "wrong answer: another session"},
		"redirect":       {&vegeta.Result{Code: 303, URL: tgt.URL}, "303"},
		"inactive": {&vegeta.Result{Code: 401, URL: tgt.URL,
			Body: []byte(`{"error":{"id":"session_inactive","code":401}}`)}, "401 session_inactive"},
		"timeout": {&vegeta.Result{URL: tgt.URL, Error: `Get "https://kratos.example.test:4433/sessions/whoami?kc=0": context deadline exceeded`},
			"transport: context deadline exceeded"},
	} {
		if got := sc.Check(tc.r); got != tc.want {
			t.Errorf("%s: Check = %q, want %q", name, got, tc.want)
		}
	}
}

func TestJudgeAppliesEveryPassCriterion(t *testing.T) {
	sc := &Scenario{Name: "s", SLO: 50 * time.Millisecond}
	good := Step{TargetRPS: 100, AchievedRPS: 99, Requests: 500, Success: 1, Latency: Latency{P99: 40}}
	for name, mutate := range map[string]func(*Step){
		"generator fell behind":  func(s *Step) { s.AchievedRPS = 97 },
		"overran":                func(s *Step) { s.Overrun = 0.03 },
		"errors":                 func(s *Step) { s.Success = 0.998 },
		"slow":                   func(s *Step) { s.Latency.P99 = 51 },
		"interrupted":            func(s *Step) { s.Interrupted = true },
		"fell behind mid-window": func(s *Step) { s.MaxSendLagMillis = 250 },
		"a wrong answer":         func(s *Step) { s.WrongAnswers = 1 },
	} {
		s := good
		mutate(&s)
		s.judge(StepInput{Scenario: sc, Window: 5 * time.Second})
		if s.Pass {
			t.Errorf("%s: step passed", name)
		}
	}
	s := good
	s.judge(StepInput{Scenario: sc, Window: 5 * time.Second})
	if !s.Pass {
		t.Errorf("a good step failed: %v", s.Why)
	}
}

// Sending that stalls mid-window and then catches up keeps the overall rate
// and the end time; only the send schedule shows it. Here every worker is
// held by slow answers for a while (the in-flight bound), so sends wait.
func TestAStallMidWindowIsCaught(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if n := calls.Add(1); n >= 40 && n < 44 {
			time.Sleep(300 * time.Millisecond) // a slow answer the test server gives; no spec waits here
		}
	}))
	defer srv.Close()
	sc := &Scenario{Name: "stall", SLO: time.Second,
		Prepare: func(context.Context, int) (vegeta.Targeter, *FlowSetup, error) {
			return func(tgt *vegeta.Target) error { *tgt = vegeta.Target{Method: http.MethodGet, URL: srv.URL}; return nil }, nil, nil
		},
		Check: func(r *vegeta.Result) string { return statusKey(r, http.StatusOK) }}
	step, err := RunStep(context.Background(), StepInput{Scenario: sc, Rate: 100, Window: 2 * time.Second,
		Limits: Limits{MaxWorkers: 2, Timeout: time.Second, Client: srv.Client()}})
	if err != nil {
		t.Fatal(err)
	}
	if step.Pass || step.MaxSendLagMillis < 200 {
		t.Errorf("sends held up for about 300 ms: pass %v, max lag %.0f ms, overrun %.3f, why %v", step.Pass, step.MaxSendLagMillis, step.Overrun, step.Why)
	}
}

// The warm-up and the window are one attack: the warm-up's sends reach the
// server but not the step's figures (its failures, here the first 20
// answers, do not count against the window), and the window's readings
// are taken.
func TestWarmupIsSentButNotMeasured(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) <= 20 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	sc := &Scenario{Name: "warm", SLO: time.Second,
		Prepare: func(context.Context, int) (vegeta.Targeter, *FlowSetup, error) {
			return func(tgt *vegeta.Target) error { *tgt = vegeta.Target{Method: http.MethodGet, URL: srv.URL}; return nil }, nil, nil
		},
		Check: func(r *vegeta.Result) string { return statusKey(r, http.StatusOK) }}
	step, err := RunStep(context.Background(), StepInput{Scenario: sc, Rate: 40, Warmup: time.Second, Window: time.Second,
		Limits: Limits{MaxWorkers: 4, Timeout: time.Second, Client: srv.Client()}})
	if err != nil {
		t.Fatal(err)
	}
	// Not step.Pass: its send-lag bound is 20 ms of this 1 s window, which a
	// busy test machine can miss; what is judged here is what counts.
	if step.Requests != 40 || calls.Load() != 80 || step.Success != 1 || len(step.Errors) != 0 {
		t.Errorf("40 warm-up sends (20 failing) and 40 in the window: window requests %d, calls %d, success %.3f, errors %v", step.Requests, calls.Load(), step.Success, step.Errors)
	}
	if step.CPU == nil {
		t.Errorf("the window's CPU was not read: %s", step.CPUNote)
	}
}

func TestCapacityFigures(t *testing.T) {
	step := func(rate, p99 float64, pass bool) Step {
		return Step{TargetRPS: rate, Pass: pass, Latency: Latency{P99: p99}}
	}
	c := Capacity{Steps: []Step{step(50, 5, true), step(100, 6, true), step(200, 30, false), step(150, 12, true), step(175, 40, false)}}.finish()
	if c.MaxSustainableRPS != 150 || c.P99AtMaxMillis != 12 || c.KneeRPS != 150 {
		t.Errorf("max %v p99 %v knee %v, want 150, 12, 150", c.MaxSustainableRPS, c.P99AtMaxMillis, c.KneeRPS)
	}
}

// startLeader runs script in a process group of its own, as a component's
// leader is started, and kills it when the test ends.
func startLeader(t *testing.T, script string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

func TestCPUSampleCountsGroupsAndTheGenerator(t *testing.T) {
	// A busy child in its own process group stands in for a component.
	busy := startLeader(t, "while :; do :; done")
	groups := CPUGroups{"busy": busy.Process.Pid}
	before := groups.sample(context.Background())
	// Spin (CPU time is counted in 10 ms ticks) until both have been seen, or give up.
	after := before
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		for i := 0; i < 1e6; i++ {
			_ = i * i
		}
		if after = groups.sample(context.Background()); after.secs["busy"] > before.secs["busy"] && after.secs["generator"] > before.secs["generator"] {
			return
		}
	}
	t.Errorf("CPU not counted for both the busy group and the generator: %v -> %v", before.secs, after.secs)
}

// A process no component owns is named with its share: who the rest of
// the machine was.
func TestCPUSampleNamesUnwatchedProcesses(t *testing.T) {
	startLeader(t, "while :; do :; done") // in no component's group
	before := CPUGroups{}.sample(context.Background())
	time.Sleep(500 * time.Millisecond)
	total, got := unwatchedShares(before, CPUGroups{}.sample(context.Background()))
	if got["sh"] < 0.1 || total < got["sh"] {
		t.Errorf("a spinning sh beside the run: unwatched %v, all others %.3f, want sh at a tenth of the machine or more, within all", got, total)
	}
}

// A component's processes that exit within a window (Postgres backends of
// closed connections) still count: their leader reaps them.
func TestCPUSampleKeepsReapedChildren(t *testing.T) {
	leader := startLeader(t, `(i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done); exec sleep 30`)
	groups := CPUGroups{"db": leader.Process.Pid}
	before := groups.sample(context.Background())
	children := fmt.Sprintf("/proc/%d/task/%d/children", leader.Process.Pid, leader.Process.Pid)
	for deadline := time.Now().Add(20 * time.Second); ; {
		if b, err := os.ReadFile(children); err == nil && len(bytes.TrimSpace(b)) == 0 {
			if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", leader.Process.Pid)); string(comm) == "sleep\n" {
				break // the busy child is gone and reaped, the leader sleeps
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the busy child did not finish within 20 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	after := groups.sample(context.Background())
	if used := after.secs["db"] - before.secs["db"]; used < 0.1 {
		t.Errorf("the group's CPU grew by %.2f s while its child spun and exited: a reaped child's time was lost", used)
	}
}

// The driver's own work per request (pick a target, validate the answer)
// must stay in microseconds, or the generator, not Kratos, sets the limit.
func BenchmarkWhoamiTargetAndCheck(b *testing.B) {
	sc := whoami("whoami-token", public, testSessions(200), 50*time.Millisecond, false)
	tr, _, _ := sc.Prepare(nil, 0)
	results := make([]*vegeta.Result, 200)
	for i := range results {
		var tgt vegeta.Target
		_ = tr(&tgt)
		results[i] = whoamiResult(tgt, 200, fmt.Sprintf("identity-%d", i), fmt.Sprintf("session-%d", i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	var tgt vegeta.Target
	for i := 0; i < b.N; i++ {
		if err := tr(&tgt); err != nil {
			b.Fatal(err)
		}
		if key := sc.Check(results[i%200]); key != "" {
			b.Fatal(key)
		}
	}
}

func BenchmarkLoginCheck(b *testing.B) {
	sc := Login(LoginInput{SLO: time.Second})
	r := &vegeta.Result{Code: 200, URL: "https://kratos.example.test:4433/self-service/login?flow=f1",
		Body: []byte(`{"session_token":"ory_st_x","session":{"id":"s","identity":{"id":""}}}`)}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if key := sc.Check(r); key != "" {
			b.Fatal(key)
		}
	}
}

// The built-in workloads parse; a workload with an unknown key or scenario,
// or a plan no step could run, is refused before anything starts.
func TestWorkloadFiles(t *testing.T) {
	for _, name := range strings.Split(ProfileNames(), ", ") {
		p, err := LookupProfile(name)
		if err != nil || p.Name != name {
			t.Errorf("built-in %s: %v", name, err)
		}
		if name == "capacity" && len(p.Scenarios) != len(Kinds) {
			t.Errorf("capacity runs %d scenarios of %d: every scenario's capacity is planned", len(p.Scenarios), len(Kinds))
		}
	}
	for _, k := range Kinds {
		if k.Search.Rate <= 0 || k.Search.MaxRate < k.Search.Rate {
			t.Errorf("scenario %s: its Search plan %+v cannot run a search (every_scenario)", k.Name, k.Search)
		}
	}
	every := "name: w\nidentities: 10\nsessions: 5\nwindow: 5s\nbound_for: 1s\nmax_steps: 3\nsearch: true\nevery_scenario: true\nscenarios:\n  login: {rate: 3, max_rate: 30}\n"
	if p, err := ParseProfile([]byte(every)); err != nil || len(p.Scenarios) != len(Kinds) || p.Scenarios["login"].Rate != 3 {
		t.Errorf("every_scenario with login listed: %v, %d scenarios, login %+v", err, len(p.Scenarios), p.Scenarios["login"])
	}
	good := "name: w\nidentities: 10\nsessions: 5\nwindow: 5s\nbound_for: 1s\nmax_steps: 1\nscenarios:\n  login: {rate: 2, slo_p99: 800ms, min_success: 0.99}\n"
	p, err := ParseProfile([]byte(good))
	if err != nil || p.Scenarios["login"].SLO != 800*time.Millisecond || p.Scenarios["login"].MinSuccess != 0.99 {
		t.Fatalf("a good workload: %+v, %v", p, err)
	}
	for name, bad := range map[string]string{
		"unknown key":        good + "sesions: 5\n",
		"unknown scenario":   strings.Replace(good, "login:", "logn:", 1),
		"zero rate":          strings.Replace(good, "rate: 2", "rate: 0", 1),
		"search without max": good + "search: true\n",
		"no scenarios":       strings.Split(good, "scenarios:")[0],
		"success above 1":    strings.Replace(good, "0.99", "1.5", 1),
		"more sessions":      strings.Replace(good, "sessions: 5", "sessions: 50", 1),
		"not a duration":     strings.Replace(good, "window: 5s", "window: five", 1),
	} {
		if _, err := ParseProfile([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := LookupProfile("/nonexistent/w.yaml"); err == nil || !strings.Contains(err.Error(), "workload file") {
		t.Errorf("a missing workload file: %v", err)
	}
	if _, err := LookupProfile("capacty"); err == nil || !strings.Contains(err.Error(), "smoke") {
		t.Errorf("a misspelled profile must list the built-in ones: %v", err)
	}
}

// remoteStep runs a step of whoami on two generators in this process
// against srv, their logs passed through cut (the way to the driver).
func remoteStep(t *testing.T, srv *httptest.Server, sessions []Session, cut func(g int, lines [][]byte) [][]byte) (Step, error) {
	t.Helper()
	u, _ := url.Parse(srv.URL + "/")
	ca := pemOf(srv.Certificate().Raw)
	run := func(ctx context.Context, specs [][]byte, lines func(int, []byte)) error {
		var wg sync.WaitGroup
		errs := make([]error, len(specs))
		for i, raw := range specs {
			wg.Go(func() {
				var spec GeneratorSpec
				if errs[i] = json.Unmarshal(raw, &spec); errs[i] != nil {
					return
				}
				var out bytes.Buffer
				errs[i] = Generate(ctx, spec, &out)
				for _, l := range cut(i, bytes.Split(out.Bytes(), []byte("\n"))) {
					lines(i, l)
				}
			})
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	sc := whoami("whoami-token", u, sessions, time.Second, false)
	return RunStep(context.Background(), StepInput{Scenario: sc, Rate: 100, Warmup: 200 * time.Millisecond, Window: 2 * time.Second,
		Limits: Limits{MaxWorkers: 8, Timeout: time.Second, Client: srv.Client()},
		Remote: &RemoteGenerators{Count: 2, Run: run, Endpoints: harness.Endpoints{KratosPublic: u, CAPEM: ca}}})
}

func whoamiServer(sessions []Session, wrong func(i int) bool) *httptest.Server {
	return httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := slices.IndexFunc(sessions, func(s Session) bool { return s.Token == r.Header.Get("X-Session-Token") })
		identity := sessions[i].IdentityID
		if wrong(i) {
			identity = "someone-else"
		}
		w.Header().Set("X-Kratos-Authenticated-Identity-Id", identity)
		fmt.Fprintf(w, `{"id":"%s","identity":{"id":"%s"}}`, sessions[i].SessionID, identity)
	}))
}

// Remote generators' results merge into one step: every window result
// counted once, each generator's share and CPU reported, and a wrong answer
// sent by one generator fails the step as it would in process.
func TestRemoteGeneratorsMergeIntoOneStep(t *testing.T) {
	sessions := testSessions(4)
	var calls atomic.Int64
	var injected atomic.Bool
	srv := whoamiServer(sessions, func(i int) bool {
		return calls.Add(1) > 100 && i == 1 && injected.CompareAndSwap(false, true) // one wrong answer, from generator 1's slice
	})
	defer srv.Close()
	step, err := remoteStep(t, srv, sessions, func(_ int, l [][]byte) [][]byte { return l })
	if err != nil {
		t.Fatal(err)
	}
	if len(step.Generators) != 2 || step.Generators[0].TargetRPS != 50 || step.Generators[0].CPUCores <= 0 {
		t.Fatalf("generators %+v, want 2 at 50/s with their CPU", step.Generators)
	}
	if want := round3((step.Generators[0].CPUCores + step.Generators[1].CPUCores) / step.CPUCores); step.CPU[GeneratorPods] != want || want <= 0 {
		t.Errorf("the step's %s share %v, want %v: the generators' own CPU over the step's cores", GeneratorPods, step.CPU[GeneratorPods], want)
	}
	if got := step.Generators[0].Requests + step.Generators[1].Requests; got != step.Requests || got < 190 || got > 210 {
		t.Errorf("window requests %d (generators %+v), want about 200 counted once", step.Requests, step.Generators)
	}
	if step.WrongAnswers != 1 || step.Pass {
		t.Errorf("wrong answers %d, pass %v (%v): the other identity's answer must fail the step", step.WrongAnswers, step.Pass, step.Why)
	}
}

// A generator whose log ends half-way (a pod OOM-killed: no done line) or
// loses a batch on the way fails the step: the end of a stream is not
// success, and the rest of the window would otherwise look healthy.
func TestRemoteGeneratorCutShortFailsTheStep(t *testing.T) {
	sessions := testSessions(4)
	srv := whoamiServer(sessions, func(int) bool { return false })
	defer srv.Close()
	for name, c := range map[string]struct {
		cut  func(g int, lines [][]byte) [][]byte
		want string
	}{
		"killed half-way": {func(g int, l [][]byte) [][]byte {
			if g == 1 {
				return l[:len(l)/2]
			}
			return l
		}, "generator 1 ended without its done line"},
		"a batch lost": {func(g int, l [][]byte) [][]byte {
			if g == 0 {
				return slices.Delete(slices.Clone(l), len(l)/2, len(l)/2+1)
			}
			return l
		}, "arrived: results were lost"},
	} {
		_, err := remoteStep(t, srv, sessions, c.cut)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error naming %q", name, err, c.want)
		}
	}
}

func pemOf(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// Prepared does the preparation once, up front: the attack's own Prepare
// call then hands back what was made, whatever n it asks for.
func TestPreparedPreparesOnce(t *testing.T) {
	calls := 0
	sc := &Scenario{Name: "count", Prepare: func(_ context.Context, n int) (vegeta.Targeter, *FlowSetup, error) {
		calls++
		return vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: fmt.Sprintf("http://127.0.0.1/%d", n)}), nil, nil
	}}
	p, err := sc.Prepared(context.Background(), 7)
	if err != nil {
		t.Fatal(err)
	}
	tr, _, _ := p.Prepare(context.Background(), 100)
	var got vegeta.Target
	if err := tr(&got); err != nil || got.URL != "http://127.0.0.1/7" || calls != 1 {
		t.Errorf("Prepared: target %q, %d Prepare calls, %v; want the one made for 7, 1 call", got.URL, calls, err)
	}
}
