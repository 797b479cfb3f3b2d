package containers

import (
	"context"
	"fmt"
	"strings"

	"kratos-conformance/internal/wait"

	"github.com/jackc/pgx/v5"
	"github.com/testcontainers/testcontainers-go"

	"kratos-conformance/harness"
)

var _ harness.Faults = (*Stack)(nil)

// Stop stops one container (docker stop: its stop signal, then SIGKILL after
// the grace); its filesystem, network alias and fixed host ports stay.
func (s *Stack) Stop(ctx context.Context, component harness.Component) error {
	c, err := s.container(component)
	if err != nil {
		return err
	}
	grace := s.cfg.Intervals.StopGrace
	return c.Stop(ctx, &grace)
}

// Start starts a stopped container again and runs the component's own named wait.
func (s *Stack) Start(ctx context.Context, component harness.Component) error {
	c, err := s.container(component)
	if err != nil {
		return err
	}
	if st, err := c.State(ctx); err == nil && st.Running {
		return fmt.Errorf("%s is running: Stop it before starting it again", component)
	}
	starts := strings.Count(s.logs(ctx, c), harness.CourierStartLine)
	if err := c.Start(ctx); err != nil {
		return fmt.Errorf("start %s again: %w%s", component, err, s.logTail(ctx, c))
	}
	switch component {
	case harness.ComponentPostgres:
		return wait.For(ctx, wait.Input{
			Name: "Postgres accepting connections", Timeout: s.cfg.Intervals.PostgresReady, Interval: s.cfg.Intervals.Poll,
			Alive: s.alive(ctx, component, c),
			Check: func(ctx context.Context) error {
				conn, err := pgx.Connect(ctx, s.endpoints.PostgresDSN)
				if err != nil {
					return err
				}
				return conn.Close(ctx)
			},
		})
	case harness.ComponentMailpit:
		return s.mailpitReady(ctx, c)
	case harness.ComponentKratos:
		return harness.WaitForKratos(ctx, s.endpoints, s.cfg.Intervals, s.alive(ctx, component, c))
	case harness.ComponentCourier:
		return s.courierStarted(ctx, c, starts)
	}
	return nil
}

func (s *Stack) container(component harness.Component) (testcontainers.Container, error) {
	if i := s.index(component); i >= 0 {
		return s.ctrs[i].c, nil
	}
	return nil, fmt.Errorf("the containers stack has no component %q", component)
}
