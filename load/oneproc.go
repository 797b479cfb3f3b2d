package load

import (
	"runtime"
	"sync"
)

// onOneProcessor holds this process to one P while attacks run and gives the
// old setting back when the last one ends (side-by-side steps overlap). A
// generator pacing a few hundred requests a second on two Ps spent most of
// its CPU waking threads (sysmon, spinning Ms) rather than sending; on one it
// used about a third less (BenchmarkGeneratorWhoamiStep, docs/measured.md).
// Seeding hashes passwords on every core, so the hold is only for attacks.
func onOneProcessor() (release func()) {
	oneProc.Lock()
	defer oneProc.Unlock()
	if oneProc.holders == 0 {
		oneProc.was = runtime.GOMAXPROCS(1)
	}
	oneProc.holders++
	var once sync.Once
	return func() {
		once.Do(func() {
			oneProc.Lock()
			defer oneProc.Unlock()
			if oneProc.holders--; oneProc.holders == 0 {
				runtime.GOMAXPROCS(oneProc.was)
			}
		})
	}
}

var oneProc struct {
	sync.Mutex
	holders, was int
}
