package provider

import (
	"path/filepath"

	"kratos-conformance/internal/build"
	"kratos-conformance/kind/engine"
)

// SweepKilledRun removes what a SIGKILLed kind run left on this host (the
// private engine's daemons and containers, its network namespace) and
// writes back the host settings kubelet changed, as the next kind run
// would before it starts. It refuses while a live run holds the engine.
func SweepKilledRun() error {
	cache, err := build.CacheDir()
	if err != nil {
		return err
	}
	dir := filepath.Join(cache, "kind")
	if err := engine.New(filepath.Join(dir, "engine")).Sweep(); err != nil {
		return err
	}
	stale, err := staleSysctls(filepath.Join(dir, "sysctl.saved"))
	if err != nil || stale == nil {
		return err
	}
	return stale.restore()
}
