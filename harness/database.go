package harness

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// WithPostgres opens one connection to dsn for use, and closes it after.
func WithPostgres(ctx context.Context, dsn string, use func(*pgx.Conn) error) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return use(conn)
}

// KratosNetworks lists the ids in Kratos' networks table, oldest first. Serve
// and the courier each use the oldest row, or insert one when there is none;
// two rows mean two processes chose different networks.
func KratosNetworks(ctx context.Context, dsn string) (ids []string, err error) {
	err = WithPostgres(ctx, dsn, func(conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, "SELECT id::text FROM networks ORDER BY created_at, id")
		if err != nil {
			return fmt.Errorf("read Kratos' networks table: %w", err)
		}
		ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return ids, err
}

// WipeKratosNetworks empties the networks table and every table that refers
// to it: identities, sessions, flows, mail. Migrations stay, so the database
// is as `migrate sql` leaves it. Only for a stack the suite itself started.
func WipeKratosNetworks(ctx context.Context, dsn string) error {
	return WithPostgres(ctx, dsn, func(conn *pgx.Conn) error {
		if _, err := conn.Exec(ctx, "TRUNCATE networks CASCADE"); err != nil {
			return fmt.Errorf("empty Kratos' networks table: %w", err)
		}
		return nil
	})
}

// AppliedMigrations counts the rows of Kratos' schema_migration table.
func AppliedMigrations(ctx context.Context, dsn string) (n int, err error) {
	err = WithPostgres(ctx, dsn, func(conn *pgx.Conn) error {
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM schema_migration").Scan(&n); err != nil {
			return fmt.Errorf("read Kratos' schema_migration table: %w", err)
		}
		return nil
	})
	return n, err
}
