package load

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Bounds are measured in the same run as the attacks, so each figure can be
// read as a ratio of what this machine can do at all.
type Bounds struct {
	// HashComparesPerSec: the cores over the fastest compare of the seeded
	// hash (see HashBound), the most logins per second this machine could verify.
	HashComparesPerSec float64 `json:"hash_compares_per_sec"`
	Hasher             string  `json:"hasher"` // the algorithm and parameters compared
	// HashNote says where the bound was measured: on the generator's machine,
	// which is the deployment's only for the local providers.
	HashNote string `json:"hash_note,omitempty"`
	// GeneratorMaxRPS: vegeta against a trivial handler on loopback, as fast as it goes.
	GeneratorMaxRPS float64 `json:"generator_max_rps"`
	// GeneratorCPUMicrosPerReq: this process's CPU per request in that run
	// (generator and trivial handler together, so an upper bound for the generator).
	GeneratorCPUMicrosPerReq float64 `json:"generator_cpu_us_per_req"`
	// WrkWhoamiRPS: wrk's closed-loop maximum on whoami with one token; 0 when wrk is not installed.
	WrkWhoamiRPS float64 `json:"wrk_whoami_rps,omitempty"`
	WrkNote      string  `json:"wrk_note,omitempty"`
}

// HashBound is an upper limit on password compares per second: every core
// compares password against hash for d at once, and the bound is the cores
// divided by a fast compare (the 10th percentile of those seen: the
// fastest alone was one lucky compare, 15% above the rest). A throughput
// count sat below what a later step reached whenever anything else ran
// meanwhile (a capacity run once measured logins at 1.10 of it); a login
// takes at least one compare's CPU, so no login rate can exceed this.
func HashBound(ctx context.Context, h Hasher, hash, password string, d time.Duration) float64 {
	var mu sync.Mutex
	var took []time.Duration
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				start := time.Now()
				ok := h.Compare(hash, password)
				t := time.Since(start)
				mu.Lock()
				if ok {
					took = append(took, t)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fast := quantiles(took)(0.1) / 1000 // seconds
	if fast <= 0 {
		return 0
	}
	return float64(runtime.NumCPU()) / fast
}

// GeneratorCeiling runs vegeta flat out (bounded by workers and d) against a
// trivial handler on loopback.
func GeneratorCeiling(ctx context.Context, d time.Duration, workers uint64) (rps, cpuMicrosPerReq float64, err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	})}
	go srv.Serve(l)
	defer srv.Close()
	target := vegeta.Target{Method: http.MethodGet, URL: "http://" + l.Addr().String() + "/"}
	a := vegeta.NewAttacker(vegeta.Workers(workers), vegeta.MaxWorkers(workers), vegeta.Timeout(5*time.Second))
	stop := context.AfterFunc(ctx, func() { a.Stop() })
	defer stop()
	self := CPUGroups{}
	before := self.sample(ctx)
	var m vegeta.Metrics
	// Rate 0 with a fixed worker pool: as fast as the workers go.
	for r := range a.Attack(vegeta.NewStaticTargeter(target), vegeta.Rate{Freq: 0}, d, "generator-ceiling") {
		m.Add(r)
	}
	m.Close()
	after := self.sample(ctx)
	if m.Requests == 0 {
		return 0, 0, fmt.Errorf("the generator sent nothing to a loopback handler")
	}
	cpu := after.secs["generator"] - before.secs["generator"]
	return float64(m.Requests) / m.Duration.Seconds(), cpu / float64(m.Requests) * 1e6, nil
}

var (
	wrkRequests = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses:\s+([0-9]+)`)
)

// WrkWhoami runs wrk (Debian package wrk) closed-loop against whoami with one
// session token. wrk does not check certificates and resolves by itself, so it
// dials dialAddr (the client's alias of the public host:port) and sends the public Host header. ok is false without wrk.
func WrkWhoami(ctx context.Context, public *url.URL, dialAddr, token string, d time.Duration, conns int) (rps float64, ok bool, err error) {
	bin, err := exec.LookPath("wrk")
	if err != nil {
		return 0, false, nil
	}
	u := *public
	u.Host = dialAddr
	u.Path = "/sessions/whoami"
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-t", strconv.Itoa(runtime.NumCPU()), "-c", strconv.Itoa(conns),
		"-d", fmt.Sprintf("%ds", int(d.Seconds())), "-H", "Host: "+public.Host, "-H", "X-Session-Token: "+token,
		"-H", "Accept: application/json", u.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, true, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	m := wrkRequests.FindSubmatch(out)
	if m == nil {
		return 0, true, fmt.Errorf("wrk printed no Requests/sec:\n%s", out)
	}
	if bad := wrkNon2xx.FindSubmatch(out); bad != nil {
		return 0, true, fmt.Errorf("wrk got %s non-2xx answers from whoami; its figure would be of errors", bad[1])
	}
	rps, err = strconv.ParseFloat(string(m[1]), 64)
	return rps, true, err
}
