// Command kctest is `make test`, what CI runs: the stages below, in order,
// each one or more make targets (several run side by side), then a table of
// every stage and its wall time, printed also after a failure or Ctrl-C, so
// each CI log shows where its budget went. A failed stage does not stop the
// ones after it (one CI run reports every failure), except the prerequisites,
// without which nothing else can run. The exit status is 1 if any failed.
//
// The kind stage runs only where it fits: the machine can run kind, its node
// image is already cached (a cold build takes 25-40 minutes and is never
// started here), and the budget left holds the stage's measured cost.
// Otherwise one line says which of these it was.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A stage is make targets run side by side (usually one), each with its own
// variables, e.g. "repeat REPEAT=2".
type stage struct {
	name    string
	targets []string
}

// prerequisites build or check what every later stage needs.
var prerequisites = []stage{
	{"prerequisites", []string{"deps docker-check"}},
	{"build", []string{"build"}},
	{"images", []string{"images"}},
}

// stages run after the prerequisites. Stages with a load stage gated on SLOs
// (certify*, upgrade) and hygiene (which counts every new process on the
// machine) run alone.
var stages = []stage{
	{"unit", []string{"unit"}},
	{"certify", []string{"certify"}},
	{"certify-upgrade", []string{"certify-upgrade"}},
	{"breakages", []string{"breakages"}},
	{"hygiene", []string{"hygiene"}},
	{"faults", []string{"faults"}},
	{"race", []string{"race"}},
	{"test-containers", []string{"test-containers"}},
	{"certify-upgrade-containers", []string{"certify-upgrade-containers"}},
	{"certify-own", []string{"certify-own"}},
	{"repeat", []string{"repeat REPEAT=2"}},
}

// kindStage is kind's part of CI (make test-kind runs the whole kind tier),
// and kindCost the wall time budgeted for it with a warm cache: certify-kind
// measured 409 s and the in-cluster run 79 s (2026-11-27), with margin.
var kindStage = stage{"kind", []string{"kind-ci"}}

const kindCost = 15 * time.Minute

type result struct {
	name   string
	took   time.Duration
	status string // ok, FAIL, skipped: why
}

func main() {
	budget := flag.Duration("budget", 60*time.Minute, "the wall time make test must stay within on a warm machine; the kind stage runs only if it fits in what is left")
	withKind := flag.Bool("kind", false, "run the kind stage where its node image is cached and the budget holds it (make test KIND=1)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	var results []result
	failed := false
	run := func(s stage) bool {
		r := runStage(ctx, s)
		results = append(results, r)
		failed = failed || r.status != "ok"
		return r.status == "ok"
	}

	for _, s := range prerequisites {
		if !run(s) {
			exit(results, start, *budget, 1)
		}
	}
	for _, s := range stages {
		if ctx.Err() != nil {
			break
		}
		run(s)
	}
	if ctx.Err() == nil {
		if why := kindSkipped(ctx, *withKind, time.Since(start), *budget); why != "" {
			fmt.Printf("\nkind: not run in this make test: %s\n", why)
			results = append(results, result{name: kindStage.name, status: "skipped: " + why})
		} else {
			run(kindStage)
		}
	}
	code := 0
	if failed || ctx.Err() != nil {
		code = 1
	}
	exit(results, start, *budget, code)
}

// exit prints the table, the budget's evidence in every log, and exits.
func exit(results []result, start time.Time, budget time.Duration, code int) {
	printTable(results, time.Since(start), budget)
	os.Exit(code)
}

// kindSkipped says why the kind stage does not run, or "" if it does.
func kindSkipped(ctx context.Context, asked bool, spent, budget time.Duration) string {
	if !asked {
		// Measured 2026-12-06 with the node image cached: kind-ci FAILed on its
		// smoke load alone (whoami p99 112 ms inside the cluster against 50 ms,
		// 412 ms from the host against 100 ms): two cores hold the cluster, Kratos
		// and the generator. Until that is mended, CI does not run it by default.
		return "make test runs it only with KIND=1 (on 2 cores its smoke load misses the SLOs it states: whoami p99 112-412 ms, 2026-12-06); make test-kind runs the kind tier"
	}
	// The reason is kckind's output; go run's own "exit status 1" goes to stderr.
	out, err := exec.CommandContext(ctx, goTool(), "run", "./cmd/kckind", "-check", "-cached").Output()
	if err != nil {
		if why := lastLine(string(out)); why != "" {
			return why
		}
		return err.Error()
	}
	if left := budget - spent; left < kindCost {
		return fmt.Sprintf("%s of the %s budget left, and the kind stage takes about %s warm (make test-kind runs it)",
			left.Round(time.Minute), budget, kindCost)
	}
	return ""
}

// runStage runs the stage's targets side by side; with more than one, each
// output line carries its target's name.
func runStage(ctx context.Context, s stage) result {
	fmt.Printf("\n=== stage %s: make %s\n", s.name, strings.Join(s.targets, " & make "))
	start := time.Now()
	errs := make([]error, len(s.targets))
	var wg sync.WaitGroup
	for i, t := range s.targets {
		prefix := ""
		if len(s.targets) > 1 {
			prefix = "[" + strings.Fields(t)[0] + "] "
		}
		wg.Go(func() { errs[i] = runMake(ctx, t, prefix) })
	}
	wg.Wait()
	r := result{name: s.name, took: time.Since(start), status: "ok"}
	for i, err := range errs {
		if err != nil {
			r.status = "FAIL"
			fmt.Printf("=== stage %s: make %s: %v\n", s.name, s.targets[i], err)
		}
	}
	return r
}

func runMake(ctx context.Context, target, prefix string) error {
	cmd := exec.CommandContext(ctx, makeTool(), strings.Fields(target)...)
	// Ctrl-C reaches make through the terminal's process group; here only
	// stop waiting for it politely.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute
	if prefix == "" {
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		return cmd.Run()
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			fmt.Println(prefix + sc.Text())
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	err := cmd.Run()
	_ = pw.Close()
	<-done
	return err
}

func printTable(results []result, total, budget time.Duration) {
	fmt.Printf("\nmake test: stages and wall times (budget %s warm)\n", budget)
	fmt.Printf("  %-28s %9s  %s\n", "stage", "wall", "status")
	for _, r := range results {
		took := "-"
		if r.took > 0 {
			took = r.took.Round(time.Second).String()
		}
		fmt.Printf("  %-28s %9s  %s\n", r.name, took, r.status)
	}
	fmt.Printf("  %-28s %9s\n", "total", total.Round(time.Second))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func makeTool() string { return envOr("MAKE", "make") }
func goTool() string   { return envOr("GO", "go") }

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
