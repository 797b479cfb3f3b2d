package load

import "context"

// probes are a step's instruments: the Postgres watch, serve's metrics and
// the CPU counters, read as the window begins (half-way through its
// warm-up) and at its end. They are opened
// before the attack so the window does not begin with the suite's own
// start-up (a new Postgres backend, four of them when scenarios run side by side).
type probes struct {
	in      StepInput
	pg      *pgWatch
	kratos  kratosScrape
	kErr    error
	cpu     cpuSnapshot
	started bool
}

func openProbes(ctx context.Context, in StepInput) *probes {
	return &probes{in: in, pg: openPostgres(ctx, in.PostgresDSN)}
}

// begin takes the window's first readings.
func (p *probes) begin(ctx context.Context) {
	p.pg.start(ctx, pgSampleEvery)
	p.kratos, p.kErr = p.in.scrapeKratos(ctx)
	p.cpu = p.in.meter().sample(ctx)
	p.started = true
}

// end takes the last readings and writes the window's figures into s; the
// Postgres connection is closed whether or not the window began.
func (p *probes) end(ctx context.Context, s *Step) {
	if !p.started {
		p.pg.stop(ctx)
		return
	}
	s.setCPU(p.cpu, p.in.meter().sample(ctx))
	after, err := p.in.scrapeKratos(ctx)
	s.Kratos = kratosFigures(p.kratos, after, p.kErr, err)
	s.Postgres = p.pg.stop(ctx)
}
