package harness

import (
	"fmt"

	"kratos-conformance/fixtures"
)

// StackConfig is the part of the run's configuration a stack reads; NewStack
// hands stacks this copy, so none sees or changes the rest.
type StackConfig struct {
	Keep        bool   // leave the stack running after the run
	Profile     string // the fixture's config variant, for providers that render it
	Break       string // a deliberate fault in the rendered config; "" for none
	UpgradeFrom string // -kc.upgrade-from, as the provider reads it
	// The operator's own files (-kc.kratos-config, -kc.kratos-env, -kc.keep-offline).
	KratosConfig, KratosEnv string
	KeepOffline             bool
	LoadGeneratorCPU        string // each generator pod's CPU request and limit
	Intervals               Intervals
}

// Stack is what stacks read of c.
func (c *Config) Stack() StackConfig {
	return StackConfig{Keep: c.Keep, Profile: c.Profile, Break: c.Break, UpgradeFrom: c.UpgradeFrom,
		KratosConfig: c.KratosConfig, KratosEnv: c.KratosEnv, KeepOffline: c.KeepOffline,
		LoadGeneratorCPU: c.LoadGeneratorCPU, Intervals: c.Intervals}
}

// Own loads the operator's files (-kc.kratos-config, -kc.kratos-env); nil
// when the run uses the guide's config.
func (c StackConfig) Own() (*fixtures.Own, error) {
	if c.KratosConfig == "" {
		return nil, nil
	}
	own, err := fixtures.LoadOwn(c.KratosConfig, c.KratosEnv)
	if err != nil {
		return nil, err
	}
	if err := own.CheckBreakage(c.Break); err != nil {
		return nil, fmt.Errorf("-kc.break on -kc.kratos-config %s: %w", c.KratosConfig, err)
	}
	return own, nil
}
