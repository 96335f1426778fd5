package e2e

import (
	"context"
	"database/sql"
	"testing"

	"github.com/e6go/e6data/e6sim"
)

// benchScan runs a query of 10,000 rows on db per iteration and scans it.
func benchScan(b *testing.B, db *sql.DB) {
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		rows, err := db.QueryContext(ctx, "SELECT id FROM numbers WHERE id < 10000")
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if err := rows.Err(); err != nil || n != 10000 {
			b.Fatalf("n=%d err=%v", n, err)
		}
		rows.Close()
	}
}

// BenchmarkQueryScan is a query of 10,000 rows in batches of 1,000, with the
// default (no-op) telemetry.
func BenchmarkQueryScan(b *testing.B) {
	srv := startSim(b, e6sim.Config{ChunkRows: 1000})
	db, _ := openDB(b, srv)
	benchScan(b, db)
}
