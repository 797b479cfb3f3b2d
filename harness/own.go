package harness

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"kratos-conformance/fixtures"
	"kratos-conformance/reports"
)

// OwnDeployment adds to d what every local provider sets alike: the
// operator's files, if any (fileDir is their folder as Kratos sees it), and
// how to tell whether a web hook's host answers from here.
func (c StackConfig) OwnDeployment(d fixtures.Deployment, own *fixtures.Own, fileDir string) fixtures.Deployment {
	d.Profile, d.Break = c.Profile, c.Break
	d.Own, d.FileDir, d.KeepOffline, d.Reach = own, fileDir, c.KeepOffline, reach(c.Intervals.OfflineProbe)
	return d
}

func reach(timeout time.Duration) func(string) error {
	return func(hostport string) error {
		conn, err := net.DialTimeout("tcp", hostport, timeout)
		if err == nil {
			conn.Close()
		}
		return err
	}
}

// SiteOf is where a local stack serves: the operator's host names when it
// runs their config, else the guide's.
func SiteOf(own *fixtures.Own) Site {
	if own == nil {
		return GuideSite()
	}
	return OwnSite(own.Effective())
}

// RecordConfig notes in the run's environment what config Kratos ran: its
// hasher and hash, the profile and breakage, and for an operator's files
// where they came from and every overlay and offline setting.
func (c StackConfig) RecordConfig(env *Environment, rc fixtures.RenderedConfig) {
	env.Hasher, env.HasherCost, env.ConfigHash = rc.Hasher, rc.HasherCost, rc.Hash
	env.Profile, env.Breakage = c.Profile, c.Break
	env.OwnConfig, env.OwnEnv, env.Overlays, env.Offline = c.KratosConfig, c.KratosEnv, rc.Overlays, rc.Offline
	if c.KratosConfig != "" {
		// Both local providers run the courier at debug level.
		env.Overlays = append(env.Overlays, courierDebugOverlay(rc.Effective))
	}
}

// kratosConfigInvalid starts what Kratos prints when it refuses its config
// (ory/x jsonschemax), in every version the suite runs.
const kratosConfigInvalid = "The configuration contains values or keys which are invalid"

// ConfigRejected turns a Kratos step's failure into the reason to fix when
// its log shows Kratos refused the config: Kratos' own words, whole.
func (c StackConfig) ConfigRejected(err error, log string) error {
	_, msg, ok := strings.Cut(log, kratosConfigInvalid)
	if !ok {
		return err
	}
	lines := strings.Split(kratosConfigInvalid+msg, "\n")
	// Kratos prints each problem as "key: value" and a "^-- why" line below
	// it; the first line of the error (the report's reason) names them all.
	var problems []string
	for i, l := range lines {
		if _, why, ok := strings.Cut(l, "^-- "); ok && i > 0 {
			key, _, _ := strings.Cut(lines[i-1], ":")
			if p := key + ": " + why; !slices.Contains(problems, p) {
				problems = append(problems, p)
			}
		}
	}
	which := "the config the suite rendered"
	if c.KratosConfig != "" {
		which = "-kc.kratos-config " + c.KratosConfig
	}
	return fmt.Errorf("Kratos refused %s: %s\n%s", which, strings.Join(problems, "; "), strings.Join(lines[:min(len(lines), 40)], "\n"))
}

// courierDebugOverlay is what running the courier with LOG_LEVEL=debug
// (its log then shows each mail it sent) changes in an operator's config.
func courierDebugOverlay(config []byte) reports.Overlay {
	doc, _ := fixtures.ParseDoc(config)
	theirs := doc.String("log.level")
	if theirs == "" {
		theirs = "(not set)"
	}
	return reports.Overlay{Key: "log.level (the courier only, env LOG_LEVEL)", Theirs: theirs, Used: "debug", Why: "the courier's log then shows each mail it sent"}
}
