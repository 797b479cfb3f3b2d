package load

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"kratos-conformance/harness"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat; 100
// on every Linux architecture Go supports.
const clockTicks = 100

// CPUGroups names the components whose CPU use a step reports, by the pid of
// each one's group leader: the leader, its process group and its direct
// children count (Postgres backends call setsid, so they are only children).
// The generator (this process) is always added, and the whole machine.
type CPUGroups map[string]int

// CPUMeter reads the CPU seconds each component used so far: CPUGroups for
// processes on this machine, PodCPU for pods in a cluster.
type CPUMeter interface {
	sample(ctx context.Context) cpuSnapshot
}

// cpuSnapshot is CPU seconds used so far per counter: a group name,
// "machine" for every process on the hosts (which have cores), or a pod's
// container, whose component and reading time are its own; err: nothing was read.
type cpuSnapshot struct {
	at        time.Time
	secs      map[string]float64
	component map[string]string    // counter -> component; absent: the counter's name
	readAt    map[string]time.Time // counter -> when it was read; absent: at
	cores     float64
	err       error
}

// sample reads /proc once: CPU seconds of every process in each group
// (Postgres backends share the postmaster's process group), and of this process.
func (g CPUGroups) sample(context.Context) cpuSnapshot {
	snap := cpuSnapshot{at: time.Now(), secs: map[string]float64{}, cores: float64(runtime.NumCPU())}
	byGroup := map[int]string{}
	for name, pgid := range g {
		byGroup[pgid] = name
	}
	self := os.Getpid()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the process ended between Glob and ReadFile
		}
		// Fields after the command name, which is in parentheses and may hold spaces.
		rest := string(b)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[i+2:]
		}
		f := strings.Fields(rest)
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		pgid, _ := strconv.Atoi(f[2])
		utime, _ := strconv.ParseFloat(f[11], 64)
		stime, _ := strconv.ParseFloat(f[12], 64)
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		name, ok := byGroup[pgid]
		if !ok {
			name, ok = byGroup[ppid]
		}
		if pid == self {
			name, ok = "generator", true
		}
		if ok {
			snap.secs[name] += (utime + stime) / clockTicks
		}
	}
	snap.secs[machine] = machineBusy()
	return snap
}

// machine is the share of every process on the host: what the components'
// shares must add up to, short of what nobody watched.
const machine = "machine"

// machineBusy is the host's busy CPU seconds so far (/proc/stat: every
// state but idle and iowait).
func machineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	var busy float64
	for i, v := range f[1:] {
		n, _ := strconv.ParseFloat(v, 64)
		if i != 3 && i != 4 && i < 8 { // not idle, iowait; guest time is inside user
			busy += n
		}
	}
	return busy / clockTicks
}

// PodCPU reads a cluster's pods from their kubelets (harness.PodCPU): their
// shares are of the nodes they run on.
type PodCPU struct {
	Read func(ctx context.Context) (counters map[string]harness.CPUCounter, cores float64, err error)
	// WithGenerator: this process runs on those nodes' machine (kind), so
	// its own CPU is one more component of theirs.
	WithGenerator bool
}

func (p PodCPU) sample(ctx context.Context) cpuSnapshot {
	snap := cpuSnapshot{at: time.Now(), secs: map[string]float64{}, component: map[string]string{}, readAt: map[string]time.Time{}}
	var counters map[string]harness.CPUCounter
	if counters, snap.cores, snap.err = p.Read(ctx); snap.err != nil {
		return snap
	}
	for key, c := range counters {
		snap.secs[key], snap.component[key], snap.readAt[key] = c.Seconds, c.Component, c.At
	}
	if p.WithGenerator {
		snap.secs["generator"] = CPUGroups{}.sample(ctx).secs["generator"]
	}
	return snap
}

// shares is each component's share of the hosts' cores between two
// snapshots: 1.0 means every core busy all along. Each counter's rate is
// over its own two reading times (a kubelet refreshes each on its own), so
// a pod's share is of its counters' interval, close to the window. A
// reading that failed, or counters that never moved, give no shares.
func shares(before, after cpuSnapshot) (map[string]float64, float64, error) {
	if err := cmp.Or(before.err, after.err); err != nil {
		return nil, 0, err
	}
	out := map[string]float64{}
	stale := map[string]bool{}
	for key, secs := range after.secs {
		prev, ok := before.secs[key]
		if !ok || after.cores <= 0 {
			continue // a pod that started in the window
		}
		dt := after.when(key).Sub(before.when(key)).Seconds()
		if dt <= 0 {
			stale[after.componentOf(key)] = true // its kubelet did not refresh it within the window
			continue
		}
		out[after.componentOf(key)] += (secs - prev) / dt / after.cores
	}
	if len(out) == 0 {
		return nil, 0, errors.New("no CPU counter moved during the window (a kubelet refreshes them every 10-15 s): give the workload a longer window")
	}
	for name, v := range out {
		out[name] = round3(v)
	}
	if names := slices.Sorted(maps.Keys(stale)); len(names) > 0 {
		return out, after.cores, fmt.Errorf("%w: %s (a kubelet refreshes each every 10-15 s; a longer window misses fewer)", errStale, strings.Join(names, ", "))
	}
	return out, after.cores, nil
}

// errStale: shares were measured, but some counters did not move.
var errStale = errors.New("some CPU counters were not refreshed within the window, their shares are missing or partial")

func (s cpuSnapshot) when(key string) time.Time {
	if t, ok := s.readAt[key]; ok {
		return t
	}
	return s.at
}

func (s cpuSnapshot) componentOf(key string) string {
	if c, ok := s.component[key]; ok {
		return c
	}
	return key
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }
