package process

import (
	"context"
	"fmt"
	"slices"

	"kratos-conformance/harness"
	"kratos-conformance/internal/build"
)

var _ harness.Faults = (*Stack)(nil)

// Stop ends one component as Down would, leaving its data, ports and place in
// the stop order, so Start can bring it back.
func (s *Stack) Stop(_ context.Context, component harness.Component) error {
	i, err := s.procIndex(component)
	if err != nil {
		return err
	}
	return s.procs[i].stop(s.cfg.Intervals.StopGrace)
}

// Start runs a stopped component again with its first command line and waits
// with its own readiness check.
func (s *Stack) Start(ctx context.Context, component harness.Component) error {
	i, err := s.procIndex(component)
	if err != nil {
		return err
	}
	old := s.procs[i]
	if old.exited() == nil {
		return fmt.Errorf("%s is running: Stop it before starting it again", component)
	}
	from := logSize(old.in.LogPath)
	p, err := startProc(old.in)
	if err != nil {
		return err
	}
	p.ready = old.ready
	s.procs[i] = p
	return p.ready(ctx, p, from)
}

func (s *Stack) procIndex(component harness.Component) (int, error) {
	for i, p := range s.procs {
		if p.name == component {
			return i, nil
		}
	}
	return 0, fmt.Errorf("the process stack has no component %q", component)
}

var _ harness.CourierScaler = (*Stack)(nil)

// ScaleCouriers starts or stops extra courier processes beside the first, on
// the same config, so several couriers poll one queue.
func (s *Stack) ScaleCouriers(ctx context.Context, n int) error {
	first, err := s.procIndex(harness.ComponentCourier)
	if err != nil {
		return err
	}
	extra := func(i int) harness.Component {
		return harness.Component(fmt.Sprintf("%s-%d", harness.ComponentCourier, i))
	}
	for i := n + 1; ; i++ { // fewer: stop the ones above n
		j, err := s.procIndex(extra(i))
		if err != nil {
			break
		}
		if err := s.procs[j].stop(s.cfg.Intervals.StopGrace); err != nil {
			return err
		}
		s.procs = slices.Delete(s.procs, j, j+1)
	}
	for i := 2; i <= n; i++ { // more: start the missing ones
		if _, err := s.procIndex(extra(i)); err == nil {
			continue
		}
		in := s.procs[first].in
		in.Name, in.LogPath = extra(i), s.logPath(extra(i))
		s.record(in)
		if err := s.start(ctx, in, s.procs[first].ready); err != nil {
			return err
		}
	}
	return nil
}

var _ harness.Upgrader = (*Stack)(nil)

// UpgradingFrom is the running older Kratos' version until the last Roll.
func (s *Stack) UpgradingFrom() string {
	if len(s.path) == 0 {
		return ""
	}
	return s.path[0].Version
}

// UpgradingTo is the version the next hop moves to.
func (s *Stack) UpgradingTo() string { return s.next().Version }

// next is the Kratos the next hop moves to: the next on the path, at last the tested one.
func (s *Stack) next() build.Binary {
	if len(s.path) > 1 {
		return s.path[1]
	}
	return s.kratos
}

// Migrate runs the next Kratos' migrations as the chart's pre-upgrade Job
// does, while the old serve and courier run on.
func (s *Stack) Migrate(ctx context.Context) error {
	next := s.next()
	in := procInput{Name: harness.ComponentMigrate, Path: next.Path, LogPath: s.logPath(harness.ComponentMigrate), Env: s.kratosEnv,
		Args: append([]string{"-c", s.configPath}, harness.MigrateArgs(next.Version)...)}
	return runStep(ctx, in, s.cfg.Intervals.ProcessStep)
}

// Roll restarts serve, then the courier, on the next Kratos: the rollout
// after the migration Job.
func (s *Stack) Roll(ctx context.Context) error {
	next := s.next()
	for _, c := range []harness.Component{harness.ComponentKratos, harness.ComponentCourier} {
		i, err := s.procIndex(c)
		if err != nil {
			return err
		}
		if s.procs[i].exited() == nil {
			if err := s.procs[i].stop(s.cfg.Intervals.StopGrace); err != nil {
				return err
			}
		}
		s.procs[i].in.Path = next.Path
		s.record(s.procs[i].in)
		if err := s.Start(ctx, c); err != nil {
			return fmt.Errorf("%s on Kratos %s: %w", c, next.Version, err)
		}
	}
	s.path = s.path[1:]
	return nil
}
