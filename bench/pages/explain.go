package main

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/review"
)

// explainDashboard prints the plan of the dashboard's main query as the
// server runs it: prepared, after the executions that make PostgreSQL
// settle on a generic plan, for the counselor signed in as email.
func explainDashboard(ctx context.Context, dsn, email string) error {
	d, err := sqlx.Open("postgres", dsn)
	if err != nil {
		return err
	}
	defer d.Close()
	conn, err := d.Connx(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var practice, counselor int64
	if err := conn.QueryRowxContext(ctx, `SELECT practice_id, id FROM users WHERE email = $1`, email).Scan(&practice, &counselor); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `PREPARE dash(bigint, bigint, timestamptz) AS `+review.DashboardSQL()); err != nil {
		return err
	}
	args := fmt.Sprintf("(%d, %d, now())", practice, counselor)
	for i := 0; i < 6; i++ {
		if _, err := conn.ExecContext(ctx, `EXECUTE dash`+args); err != nil {
			return err
		}
	}
	rows, err := conn.QueryxContext(ctx, `EXPLAIN (ANALYZE, BUFFERS) EXECUTE dash`+args)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		fmt.Println(line)
	}
	return rows.Err()
}
