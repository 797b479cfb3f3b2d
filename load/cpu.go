package load

import (
	"cmp"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
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

// cpuSnapshot is CPU seconds used so far per group name, "machine" for
// every process on the hosts, which have cores; err: nothing was read.
type cpuSnapshot struct {
	at    time.Time
	secs  map[string]float64
	cores float64
	err   error
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
	Read func(ctx context.Context) (secs map[string]float64, cores float64, at time.Time, err error)
	// WithGenerator: this process runs on those nodes' machine (kind), so
	// its own CPU is one more component of theirs.
	WithGenerator bool
}

func (p PodCPU) sample(ctx context.Context) cpuSnapshot {
	var snap cpuSnapshot
	snap.secs, snap.cores, snap.at, snap.err = p.Read(ctx)
	if snap.err == nil && p.WithGenerator {
		// Read now, not when the kubelet read its counters: over a window
		// the two differ by at most the kubelet's refresh interval.
		snap.secs["generator"] = CPUGroups{}.sample(ctx).secs["generator"]
	}
	return snap
}

// shares is each group's share of the hosts' cores between two snapshots:
// 1.0 means every core busy for the whole interval. A reading that failed
// gives no shares, and its error.
func shares(before, after cpuSnapshot) (map[string]float64, float64, error) {
	if err := cmp.Or(before.err, after.err); err != nil {
		return nil, 0, err
	}
	wall := after.at.Sub(before.at).Seconds() * after.cores
	if wall <= 0 {
		return nil, 0, errors.New("the CPU counters were not refreshed during the window (a kubelet reads them every 10-15 s): give the workload a longer window")
	}
	out := map[string]float64{}
	for name, secs := range after.secs {
		out[name] = round3((secs - before.secs[name]) / wall)
	}
	return out, after.cores, nil
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }
