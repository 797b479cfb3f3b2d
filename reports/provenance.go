package reports

import (
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
)

// SchemaVersion is summary.json's format (docs/summary.schema.json): it
// changes when a field changes meaning or goes, not when one is added.
const SchemaVersion = 2

// Commit is the suite's commit when the build sets it (-ldflags
// "-X kratos-conformance/reports.Commit=..."): images and binaries built
// outside a git checkout have no other way to know it.
var Commit string

// Suite says which suite judged a deployment.
type Suite struct {
	Version string `json:"version"` // the module version (go install ...@v1.2.3), else "(devel)"
	Commit  string `json:"commit"`  // git commit, "-dirty" when the checkout had changes; "unknown" if none tells
	Go      string `json:"go"`
}

// ThisSuite is the running suite's provenance: the build's own VCS stamp,
// else Commit, else the checkout it runs in.
func ThisSuite() Suite {
	s := Suite{Version: "(devel)", Commit: Commit, Go: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		if v := info.Main.Version; v != "" {
			s.Version = v
		}
		var rev, dirty string
		for _, kv := range info.Settings {
			switch kv.Key {
			case "vcs.revision":
				rev = kv.Value
			case "vcs.modified":
				if kv.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
		if rev != "" && s.Commit == "" {
			s.Commit = rev + dirty
		}
	}
	if s.Commit == "" {
		s.Commit = gitCommit()
	}
	return s
}

// gitCommit asks git about the working directory's checkout (go test
// binaries carry no VCS stamp).
func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	commit := strings.TrimSpace(string(out))
	if status, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(status) > 0 {
		commit += "-dirty"
	}
	return commit
}
