package harness

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// KratosNetworks lists the ids in Kratos' networks table, oldest first. Serve
// and the courier each use the oldest row, or insert one when there is none;
// two rows mean two processes chose different networks.
func KratosNetworks(ctx context.Context, dsn string) ([]string, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, "SELECT id::text FROM networks ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("read Kratos' networks table: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// WipeKratosNetworks empties the networks table and every table that refers
// to it: identities, sessions, flows, mail. Migrations stay, so the database
// is as `migrate sql` leaves it. Only for a stack the suite itself started.
func WipeKratosNetworks(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "TRUNCATE networks CASCADE"); err != nil {
		return fmt.Errorf("empty Kratos' networks table: %w", err)
	}
	return nil
}

// AppliedMigrations counts the rows of Kratos' schema_migration table.
func AppliedMigrations(ctx context.Context, dsn string) (int, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM schema_migration").Scan(&n); err != nil {
		return 0, fmt.Errorf("read Kratos' schema_migration table: %w", err)
	}
	return n, nil
}
