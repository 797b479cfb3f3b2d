package load

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresFigures are what Postgres did during a step's window, from its
// own statistics: evidence for what ran out (limited_by).
type PostgresFigures struct {
	TransactionsPerSec float64 `json:"transactions_per_sec"` // commits and rollbacks, all databases
	// Connections is the most client connections open at one sample (the
	// suite's own watcher not counted), Active the most running a query.
	Connections    int `json:"connections"`
	Active         int `json:"active"`
	MaxConnections int `json:"max_connections"` // the server's setting
	// LockWaits is the most backends waiting on a lock at one sample.
	LockWaits int   `json:"lock_waits"`
	Deadlocks int64 `json:"deadlocks"`
	Samples   int   `json:"samples"`
}

// pgSampleEvery is how often a window samples Postgres: often enough to
// see a pool at its limit, rarely enough to cost it nothing measurable.
const pgSampleEvery = time.Second

// pgSample is one read of the statistics views.
type pgSample struct {
	at                                    time.Time
	xacts, deadlocks                      int64
	connections, active, lockWaits, limit int
}

const pgSampleQuery = `select
  (select coalesce(sum(xact_commit + xact_rollback), 0) from pg_stat_database)::bigint,
  (select coalesce(sum(deadlocks), 0) from pg_stat_database)::bigint,
  (select count(*) from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid())::int,
  (select count(*) from pg_stat_activity where backend_type = 'client backend' and state = 'active' and pid <> pg_backend_pid())::int,
  (select count(*) from pg_stat_activity where wait_event_type = 'Lock')::int,
  current_setting('max_connections')::int`

func readPG(ctx context.Context, conn *pgx.Conn) (pgSample, error) {
	s := pgSample{at: time.Now()}
	err := conn.QueryRow(ctx, pgSampleQuery).Scan(&s.xacts, &s.deadlocks, &s.connections, &s.active, &s.lockWaits, &s.limit)
	return s, err
}

// pgWatch samples Postgres every interval during a window.
type pgWatch struct {
	cancel context.CancelFunc
	done   sync.WaitGroup
	conn   *pgx.Conn
	first  pgSample
	last   pgSample
	fig    PostgresFigures
}

// openPostgres connects the step's watcher ahead of its window (a new
// backend costs Postgres a fork); nil when there is no DSN or Postgres
// cannot be reached (the step then reports no Postgres figures, not an
// error: the load itself does not depend on them).
func openPostgres(ctx context.Context, dsn string) *pgWatch {
	if dsn == "" {
		return nil
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil
	}
	return &pgWatch{conn: conn}
}

// start takes the window's first sample and samples every interval until stop.
func (w *pgWatch) start(ctx context.Context, every time.Duration) {
	if w == nil {
		return
	}
	first, err := readPG(ctx, w.conn)
	if err != nil {
		return
	}
	w.first, w.last = first, first
	w.note(first)
	sampleCtx, cancel := context.WithCancel(ctx)
	w.cancel = cancel
	w.done.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-sampleCtx.Done():
				return
			case <-t.C:
				s, err := readPG(sampleCtx, w.conn)
				if err != nil {
					return
				}
				w.note(s)
			}
		}
	})
}

func (w *pgWatch) note(s pgSample) {
	w.last = s
	w.fig.Samples++
	w.fig.Connections = max(w.fig.Connections, s.connections)
	w.fig.Active = max(w.fig.Active, s.active)
	w.fig.LockWaits = max(w.fig.LockWaits, s.lockWaits)
	w.fig.MaxConnections = s.limit
}

// stop takes a last sample and returns the window's figures.
func (w *pgWatch) stop(ctx context.Context) *PostgresFigures {
	if w == nil {
		return nil
	}
	defer w.conn.Close(context.WithoutCancel(ctx))
	if w.cancel == nil {
		return nil // never started, or its first sample failed
	}
	w.cancel()
	w.done.Wait()
	if s, err := readPG(ctx, w.conn); err == nil {
		w.note(s)
	}
	f := w.fig
	if secs := w.last.at.Sub(w.first.at).Seconds(); secs > 0 {
		f.TransactionsPerSec = round3(float64(w.last.xacts-w.first.xacts) / secs)
	}
	f.Deadlocks = w.last.deadlocks - w.first.deadlocks
	return &f
}
