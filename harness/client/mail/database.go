package mail

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"kratos-conformance/harness"
)

// Database reads the mail the courier sent from Kratos' own table,
// courier_messages, through a Postgres DSN: the only place a production
// Kratos keeps a code when its SMTP server is not readable (a real provider),
// since GET /admin/courier/messages redacts bodies unless Kratos runs --dev.
// It only ever SELECTs.
type Database struct{ dsn string }

// NewDatabase reads courier_messages through dsn.
func NewDatabase(dsn string) *Database { return &Database{dsn: dsn} }

// Name says where Received reads.
func (d *Database) Name() string { return "Kratos' courier_messages table (postgres_dsn)" }

// statusSent is courier.MessageStatusSent as Kratos stores it.
const statusSent = 2

// Received lists the messages to addr the courier has sent, oldest first.
func (d *Database) Received(ctx context.Context, addr string) ([]Mail, error) {
	var mails []Mail
	err := harness.WithPostgres(ctx, d.dsn, func(conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, `SELECT id::text, recipient, subject, body, template_type, send_count, created_at
			FROM courier_messages WHERE recipient = $1 AND status = $2 ORDER BY created_at, id`, addr, statusSent)
		if err != nil {
			return err
		}
		mails, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Mail, error) {
			m := Mail{Status: StatusSent}
			var sends int32
			err := row.Scan(&m.ID, &m.Recipient, &m.Subject, &m.Text, &m.TemplateType, &sends, &m.At)
			m.SendCount = int64(sends)
			return m, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read courier_messages: %w", err)
	}
	return mails, nil
}
