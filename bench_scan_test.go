package e6data

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/e6go/e6data/internal/wire"
)

// The scan benchmark measures the rows' Next and database/sql's Scan alone:
// a stand-in driver whose every query returns one batch, decoded afresh
// from the same bytes (as a fetched batch is), so the figures include the
// per-batch decode but no network or server.

type scanConnector struct {
	batch []byte
	cols  []column
}

func (c *scanConnector) Connect(context.Context) (driver.Conn, error) { return scanConn{c}, nil }
func (c *scanConnector) Driver() driver.Driver                        { return nil }

type scanConn struct{ c *scanConnector }

func (scanConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("not supported") }
func (scanConn) Close() error                        { return nil }
func (scanConn) Begin() (driver.Tx, error)           { return nil, errors.New("not supported") }

func (s scanConn) QueryContext(context.Context, string, []driver.NamedValue) (driver.Rows, error) {
	r := &rows{cols: s.c.cols, names: make([]string, len(s.c.cols)), strs: make([]batchStrings, len(s.c.cols)), done: true}
	for i, c := range s.c.cols {
		r.names[i] = c.name
	}
	if err := wire.DecodeChunkCompact(s.c.batch, &r.chunk); err != nil { // as fetchBatch decodes
		return nil, err
	}
	return scanRows{r}, nil
}

// scanRows is the connector's rows without a query on a server to free.
type scanRows struct{ *rows }

func (scanRows) Close() error { return nil }

func scanBatch(b *testing.B, n int, withString bool) *scanConnector {
	c := &wire.Chunk{Rows: int32(n), Vectors: []wire.Vector{
		{Type: wire.Long, Nulls: make([]bool, n), Int64s: make([]int64, n)},
		{Type: wire.Double, Nulls: make([]bool, n), Float64s: make([]float64, n)},
	}}
	cols := []column{{name: "l", typ: wire.Long, scale: -1}, {name: "d", typ: wire.Double, scale: -1}}
	if withString {
		c.Vectors = append(c.Vectors, wire.Vector{Type: wire.String, Nulls: make([]bool, n), Bytes: make([][]byte, n)})
		cols = append(cols, column{name: "s", typ: wire.String, scale: -1})
	}
	for i := range n {
		c.Vectors[0].Int64s[i] = int64(i) * 7919
		c.Vectors[1].Float64s[i] = float64(i) / 3
		if withString {
			c.Vectors[2].Bytes[i] = fmt.Appendf(nil, "customer-%06d@example", i)
		}
	}
	batch, err := wire.AppendChunk(nil, c)
	if err != nil {
		b.Fatal(err)
	}
	return &scanConnector{batch: batch, cols: cols}
}

// BenchmarkScan scans batches of 10,000 rows through database/sql into
// *int64, *float64 (and *string) and reports allocations per row: the
// target is at most one per string column.
func BenchmarkScan(b *testing.B) {
	const n = 10_000
	for _, tc := range []struct {
		name   string
		string bool
	}{{"long_double_string", true}, {"long_double", false}} {
		b.Run(tc.name, func(b *testing.B) {
			db := sql.OpenDB(scanBatch(b, n, tc.string))
			defer db.Close()
			ctx := context.Background()
			var (
				l      int64
				d      float64
				s      string
				ms, me runtime.MemStats
			)
			dest := []any{&l, &d}
			if tc.string {
				dest = append(dest, &s)
			}
			b.ReportAllocs()
			runtime.ReadMemStats(&ms)
			for b.Loop() {
				rows, err := db.QueryContext(ctx, "scan")
				if err != nil {
					b.Fatal(err)
				}
				got := 0
				for rows.Next() {
					if err := rows.Scan(dest...); err != nil {
						b.Fatal(err)
					}
					got++
				}
				if err := rows.Close(); err != nil || got != n {
					b.Fatalf("%d rows, %v", got, err)
				}
			}
			runtime.ReadMemStats(&me)
			total := float64(b.N) * n
			b.ReportMetric(float64(me.Mallocs-ms.Mallocs)/total, "allocs/row")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/total, "ns/row")
		})
	}
}

// BenchmarkNext is BenchmarkScan through the driver interface alone: the
// rows' Next into a []driver.Value, without database/sql.
func BenchmarkNext(b *testing.B) {
	const n = 10_000
	c := scanBatch(b, n, true)
	conn := scanConn{c}
	ctx := context.Background()
	dest := make([]driver.Value, len(c.cols))
	b.ReportAllocs()
	for b.Loop() {
		r, err := conn.QueryContext(ctx, "scan", nil)
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		for r.Next(dest) == nil {
			got++
		}
		if got != n {
			b.Fatalf("%d rows", got)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/(float64(b.N)*n), "ns/row")
}
