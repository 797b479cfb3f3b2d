package load

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Profile is a named load plan.
type Profile struct {
	Name       string
	Identities int
	Sessions   int
	Warmup     time.Duration
	Window     time.Duration
	// Search: find each scenario's saturation point from its plan's Rate up
	// to its MaxRate; else run one step per scenario at Rate and gate on its
	// SLO. Each scenario's Kind holds its plan for every profile.
	Search   bool
	MaxSteps int
	// Bounds: how long each bound is measured.
	BoundFor time.Duration
}

// Profiles: smoke gates certify in about a minute; capacity answers "how
// many whoami and login calls per second, and what limits them".
var Profiles = map[string]Profile{
	"smoke": {
		Name: "smoke", Identities: 200, Sessions: 40, Warmup: time.Second, Window: 5 * time.Second,
		MaxSteps: 1, BoundFor: 2 * time.Second,
	},
	"capacity": {
		Name: "capacity", Identities: 1000, Sessions: 200, Warmup: 2 * time.Second, Window: 5 * time.Second,
		Search:   true,
		MaxSteps: 10, BoundFor: 3 * time.Second,
	},
}

// ProfileNames lists the profiles for flag help and errors.
func ProfileNames() string { return strings.Join(slices.Sorted(maps.Keys(Profiles)), ", ") }

// LookupProfile returns the named profile or an error that lists them.
func LookupProfile(name string) (Profile, error) {
	p, ok := Profiles[name]
	if !ok {
		return Profile{}, fmt.Errorf("no load profile %q; use one of: %s", name, ProfileNames())
	}
	return p, nil
}
