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
	// unwatched are the CPU seconds of every other process on this
	// machine, by pid, with its command name: who the rest of "machine" was.
	unwatched map[int]proc
	// interrupts are the machine's seconds in hard and soft interrupts so
	// far, which no process is charged for.
	interrupts float64
}

// proc is a process no component owns: its command, parent, and CPU
// seconds so far with those of the children it reaped.
type proc struct {
	comm  string
	ppid  int
	start string // clock ticks after boot: with the pid, which process (a kworker's comm changes as it works)
	secs  float64
}

// sample reads /proc once: CPU seconds of every process in each group
// (Postgres backends share the postmaster's process group), and of this process.
func (g CPUGroups) sample(context.Context) cpuSnapshot {
	snap := cpuSnapshot{at: time.Now(), secs: map[string]float64{}, cores: float64(runtime.NumCPU()), unwatched: map[int]proc{}}
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
		// The command name is in parentheses and may hold spaces and parentheses.
		start, end := strings.IndexByte(string(b), '('), strings.LastIndexByte(string(b), ')')
		if start < 0 || end < start || end+2 > len(b) {
			continue
		}
		comm, rest := string(b[start+1:end]), string(b[end+2:])
		f := strings.Fields(rest)
		if len(f) < 20 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		pgid, _ := strconv.Atoi(f[2])
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		ticks := sumFields(f[11], f[12]) // utime, stime
		name, ok := byGroup[pgid]
		if !ok {
			name, ok = byGroup[ppid]
		}
		if ok && pid == pgid {
			// A leader's reaped children (Postgres backends that closed
			// within the window) move into its cutime and cstime.
			ticks += sumFields(f[13], f[14])
		}
		if pid == self {
			name, ok = "generator", true // its children are the stack's processes, not its own work
		}
		if ok {
			snap.secs[name] += ticks / clockTicks
		} else {
			// With its reaped children: a compiler that ran and ended
			// within the window is in its parent's cutime, not lost.
			snap.unwatched[pid] = proc{comm: comm, ppid: ppid, start: f[19], secs: (ticks + sumFields(f[13], f[14])) / clockTicks}
		}
	}
	snap.secs[machine], snap.interrupts = machineBusy()
	return snap
}

func sumFields(fields ...string) float64 {
	var sum float64
	for _, f := range fields {
		n, _ := strconv.ParseFloat(f, 64)
		sum += n
	}
	return sum
}

// machine is the share of every process on the host: what the components'
// shares must add up to, short of what nobody watched.
const machine = "machine"

// machineBusy is the host's busy CPU seconds so far: its cores' time since
// boot (every cpuN line of /proc/stat, whatever this process may run on)
// less their idle, iowait and steal time; and of it, the seconds spent in
// interrupts. A tickless kernel counts idle time exactly but user and
// system time by sampling at each tick, which over a 5 s window read
// 91-106% of the processes' own (exact) CPU where idle-based busy read a
// steady 105-109% (the rest: interrupts).
func machineBusy() (busy, interrupts float64) {
	up, err1 := os.ReadFile("/proc/uptime")
	st, err2 := os.ReadFile("/proc/stat")
	if err1 != nil || err2 != nil {
		return 0, 0
	}
	uptime, _ := strconv.ParseFloat(strings.Fields(string(up))[0], 64)
	lines := strings.Split(string(st), "\n")
	f := strings.Fields(lines[0]) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 {
		return 0, 0
	}
	var cores float64
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "cpu") {
			cores++
		}
	}
	return uptime*cores - sumFields(f[4], f[5], f[8])/clockTicks, sumFields(f[6], f[7]) / clockTicks
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

// unwatchedShares are the shares of the machine's cores that processes no
// component owns used between two snapshots: all of them together, and by
// command name those of at least half a percent. Each counts its reaped
// children, so a process that ended within the window is in its parent's
// figure; what it had used before the window is taken off the parent's.
func unwatchedShares(before, after cpuSnapshot) (total float64, byName map[string]float64) {
	dt := after.at.Sub(before.at).Seconds()
	if dt <= 0 || after.cores <= 0 || len(after.unwatched) == 0 {
		return 0, nil
	}
	var secs float64
	byComm := map[string]float64{}
	for pid, p := range after.unwatched {
		secs += p.secs
		prev := before.unwatched[pid]
		if prev.start != p.start {
			prev.secs = 0 // a new process, perhaps on a reused pid
		}
		byComm[p.comm] += p.secs - prev.secs
	}
	for pid, gone := range before.unwatched {
		secs -= gone.secs
		if now, ok := after.unwatched[pid]; ok && now.start == gone.start {
			continue
		}
		// Reaped by an ancestor that is still there, whose figure now
		// holds all its time: the time before the window is not the window's.
		if reaper, ok := survivingAncestor(gone, before, after); ok {
			byComm[reaper.comm] -= gone.secs
		}
	}
	total = max(secs, 0) / dt / after.cores
	for comm, secs := range byComm {
		v := max(secs, 0) / dt / after.cores
		if v < 0.005 {
			continue
		}
		if byName == nil {
			byName = map[string]float64{}
		}
		byName[comm] = round3(v)
	}
	return round3(total), byName
}

// survivingAncestor is the nearest ancestor of a process gone by the after
// snapshot that is still there, following parents known to before.
func survivingAncestor(gone proc, before, after cpuSnapshot) (proc, bool) {
	for pid, hops := gone.ppid, 0; hops < 16; hops++ {
		if p, ok := after.unwatched[pid]; ok {
			return p, true
		}
		parent, ok := before.unwatched[pid]
		if !ok {
			return proc{}, false
		}
		pid = parent.ppid
	}
	return proc{}, false
}

// interruptShare is the share of the machine's cores spent in interrupts
// between two snapshots of this machine; 0 for a cluster's.
func interruptShare(before, after cpuSnapshot) float64 {
	dt := after.at.Sub(before.at).Seconds()
	if dt <= 0 || after.cores <= 0 || after.interrupts == 0 {
		return 0
	}
	return round3((after.interrupts - before.interrupts) / dt / after.cores)
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
