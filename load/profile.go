package load

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Profile is a workload: the population to seed, how each step is sent, and
// each scenario's plan and SLO. The built-in ones are files in profiles/;
// an operator's own is given with -kc.workload=FILE.
type Profile struct {
	Name       string        `yaml:"name"`
	Identities int           `yaml:"identities"`
	Sessions   int           `yaml:"sessions"`
	Warmup     time.Duration `yaml:"warmup"`
	Window     time.Duration `yaml:"window"`
	// Search: find each scenario's saturation point from its plan's Rate up
	// to its MaxRate; else run one step per scenario at Rate and gate on its SLO.
	Search   bool `yaml:"search"`
	MaxSteps int  `yaml:"max_steps"`
	// SideBySide: every scenario's one step runs in the same window, which
	// costs one window instead of one per scenario (profiles without search).
	// Each still gets its own rate, answers and p99; CPU shares are of all.
	SideBySide bool `yaml:"side_by_side"`
	// BoundFor: how long each bound is measured.
	BoundFor  time.Duration   `yaml:"bound_for"`
	Scenarios map[string]Plan `yaml:"scenarios"`
	// EveryScenario: each registered scenario Scenarios does not list runs
	// at its own plan (Kind.Search), so a new scenario is in the capacity
	// profile without a line here.
	EveryScenario bool `yaml:"every_scenario"`
	// Mix runs several flows at once at a total rate split by weight
	// (after the scenarios, if any).
	Mix *MixPlan `yaml:"mix"`
}

// Plan is how hard a workload drives one scenario, and what its steps must meet.
type Plan struct {
	Rate    float64 `yaml:"rate"`     // the first (without search: the only) step
	MaxRate float64 `yaml:"max_rate"` // the saturation search's ceiling
	// SLO is the p99 bound of a passing step; 0: the suite's flag for the
	// scenario's kind (-kc.slo-whoami, -kc.slo-login).
	SLO time.Duration `yaml:"slo_p99"`
	// MinSuccess is the share of right answers a passing step needs; 0: 0.999.
	MinSuccess float64 `yaml:"min_success"`
	// MinRate is the workload's floor: the scenario passes only if it
	// sustains at least this rate; 0: Rate. (A search that found a passing
	// step at an eighth of the first rate is not a capacity to plan with.)
	MinRate float64 `yaml:"min_rate"`
}

// Floor is the rate a scenario must sustain for the stage to pass.
func (p Plan) Floor() float64 {
	if p.MinRate > 0 {
		return p.MinRate
	}
	return p.Rate
}

// minAllowedSuccess is the lowest min_success a workload may ask: below it a
// step "passes" with one answer in a hundred wrong or failed.
const minAllowedSuccess = 0.99

//go:embed profiles/*.yaml
var builtin embed.FS

// ProfileNames lists the built-in profiles for flag help and errors.
func ProfileNames() string {
	entries, _ := builtin.ReadDir("profiles")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	return strings.Join(names, ", ")
}

// LookupProfile returns a built-in profile by name, or reads a workload file
// (a path ending in .yaml or .yml).
func LookupProfile(nameOrFile string) (Profile, error) {
	if ext := path.Ext(nameOrFile); ext == ".yaml" || ext == ".yml" {
		b, err := os.ReadFile(nameOrFile)
		if err != nil {
			return Profile{}, fmt.Errorf("workload file: %w", err)
		}
		p, err := ParseProfile(b)
		if err != nil {
			return Profile{}, fmt.Errorf("workload file %s: %w", nameOrFile, err)
		}
		return p, nil
	}
	b, err := builtin.ReadFile("profiles/" + nameOrFile + ".yaml")
	if err != nil {
		return Profile{}, fmt.Errorf("no load profile %q; use one of: %s, or a workload file (.yaml)", nameOrFile, ProfileNames())
	}
	return ParseProfile(b)
}

// ParseProfile reads a workload and refuses unknown keys and scenarios,
// and plans no step could run.
func ParseProfile(b []byte) (Profile, error) {
	var p Profile
	d := yaml.NewDecoder(bytes.NewReader(b))
	d.KnownFields(true)
	if err := d.Decode(&p); err != nil {
		return Profile{}, err
	}
	var errs []error
	if p.Name == "" {
		errs = append(errs, errors.New("name is empty"))
	}
	if p.Identities < 1 || p.Sessions < 1 || p.Sessions > p.Identities {
		errs = append(errs, fmt.Errorf("identities (%d) and sessions (%d) must be at least 1, sessions no more than identities", p.Identities, p.Sessions))
	}
	if p.Window <= 0 || p.Warmup < 0 || p.BoundFor <= 0 {
		errs = append(errs, errors.New("window and bound_for must be positive, warmup not negative"))
	}
	if p.SideBySide && p.Search {
		errs = append(errs, errors.New("side_by_side needs search off: a saturation search moves one scenario's rate at a time"))
	}
	if p.MaxSteps < 1 {
		errs = append(errs, errors.New("max_steps must be at least 1"))
	}
	if p.EveryScenario {
		if p.Scenarios == nil {
			p.Scenarios = map[string]Plan{}
		}
		for _, k := range Kinds {
			if _, listed := p.Scenarios[k.Name]; !listed {
				p.Scenarios[k.Name] = k.Search
			}
		}
	}
	if len(p.Scenarios) == 0 && p.Mix == nil {
		errs = append(errs, fmt.Errorf("no scenarios and no mix; known scenarios: %s", kindNames()))
	}
	if p.Mix != nil {
		errs = append(errs, p.Mix.validate(p.Search, p.Window))
	}
	for name, plan := range p.Scenarios {
		if !slices.ContainsFunc(Kinds, func(k Kind) bool { return k.Name == name }) {
			errs = append(errs, fmt.Errorf("scenario %q is unknown; known: %s", name, kindNames()))
		}
		if plan.Rate <= 0 || p.Search && plan.MaxRate < plan.Rate {
			errs = append(errs, fmt.Errorf("scenario %s: rate must be positive, and max_rate at least rate when search is on", name))
		}
		if plan.SLO < 0 || plan.MinSuccess < 0 || plan.MinSuccess > 1 {
			errs = append(errs, fmt.Errorf("scenario %s: slo_p99 must not be negative, min_success within 0..1", name))
		}
		if plan.MinSuccess != 0 && plan.MinSuccess < minAllowedSuccess {
			errs = append(errs, fmt.Errorf("scenario %s: min_success %.3g is below %.2f: a step would pass with more than one answer in a hundred wrong", name, plan.MinSuccess, minAllowedSuccess))
		}
		if plan.MinRate < 0 || p.Search && plan.MinRate > plan.MaxRate && plan.MaxRate > 0 {
			errs = append(errs, fmt.Errorf("scenario %s: min_rate must not be negative nor above max_rate", name))
		}
	}
	return p, errors.Join(errs...)
}

// Hash identifies the workload as parsed (population, windows, rates,
// SLOs), so runs of one profile name compare only when nothing moved.
func (p Profile) Hash() string {
	b, _ := json.Marshal(p) // plain fields only: it cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func kindNames() string {
	var names []string
	for _, k := range Kinds {
		names = append(names, k.Name)
	}
	return strings.Join(names, ", ")
}
