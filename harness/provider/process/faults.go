package process

import (
	"context"
	"fmt"

	"kratos-conformance/harness"
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
