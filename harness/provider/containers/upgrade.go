package containers

import (
	"context"
	"fmt"
	"slices"

	"kratos-conformance/harness"
)

var _ harness.Upgrader = (*Stack)(nil)

// UpgradingFrom is the running older image's version until the last Roll.
func (s *Stack) UpgradingFrom() string { return s.up.From() }

// UpgradingTo is the version the next hop moves to.
func (s *Stack) UpgradingTo() string {
	_, version := s.up.Next()
	return version
}

// Migrate runs the next image's migrations in a container of their own, as
// the chart's pre-upgrade Job does, while the old serve and courier run on.
func (s *Stack) Migrate(ctx context.Context) error {
	image, version := s.up.Next()
	return s.migrate(ctx, harness.ComponentMigrate+harness.Component("-"+version), image, version)
}

// Roll replaces serve, then the courier, with containers of the next image:
// the rollout after the migration Job. The old containers stay, stopped and
// named after their version, so their logs are collected with the rest.
func (s *Stack) Roll(ctx context.Context) error {
	image, version := s.up.Next()
	for _, c := range []harness.Component{harness.ComponentKratos, harness.ComponentCourier} {
		i := s.index(c)
		if i < 0 {
			return fmt.Errorf("the containers stack has no %s to roll", c)
		}
		grace := s.cfg.Intervals.StopGrace
		if err := s.ctrs[i].c.Stop(ctx, &grace); err != nil {
			return fmt.Errorf("stop the old %s: %w", c, err)
		}
		s.ctrs[i].name = c + harness.Component("-"+s.UpgradingFrom())
		start := s.startServe
		if c == harness.ComponentCourier {
			start = s.startCourier
		}
		if err := start(ctx, image); err != nil {
			return fmt.Errorf("%s on Kratos %s: %w", c, version, err)
		}
	}
	s.up.Advance()
	return nil
}

// index is the position of component's container in s.ctrs; -1 when none.
func (s *Stack) index(component harness.Component) int {
	return slices.IndexFunc(s.ctrs, func(n named) bool { return n.name == component })
}

// imageFlag names the flag that chose image, for an error about it.
func (s *Stack) imageFlag(image string) string {
	if slices.Contains(s.up.Images, image) {
		return "-kc.upgrade-from"
	}
	return "-kc.kratos-image"
}
