package arrow

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6arrow"
	"github.com/e6go/e6data/e6sim"
)

// arrowValue returns row of a as the Go value database/sql gives for it.
func arrowValue(t *testing.T, a arrow.Array, row int) any {
	t.Helper()
	if a.IsNull(row) {
		return nil
	}
	switch a := a.(type) {
	case *array.Boolean:
		return a.Value(row)
	case *array.Int32:
		return a.Value(row)
	case *array.Int64:
		return a.Value(row)
	case *array.Float32:
		return a.Value(row)
	case *array.Float64:
		return a.Value(row)
	case *array.String:
		return a.Value(row)
	case *array.Binary:
		return bytes.Clone(a.Value(row))
	case *array.Date32:
		return a.Value(row).ToTime()
	case *array.Timestamp:
		return time.UnixMicro(int64(a.Value(row))).UTC()
	case *array.Decimal128:
		return e6data.Decimal(a.Value(row).ToString(a.DataType().(*arrow.Decimal128Type).Scale))
	}
	t.Fatalf("unexpected array %T", a)
	return nil
}

// same reports whether the Arrow value a equals the database/sql value s.
func same(a, s any) bool {
	switch s := s.(type) {
	case time.Time:
		at, ok := a.(time.Time)
		return ok && at.Equal(s)
	case e6data.Decimal:
		ad, ok := a.(e6data.Decimal)
		if !ok {
			return false
		}
		x, ok1 := new(big.Rat).SetString(string(ad))
		y, ok2 := new(big.Rat).SetString(string(s))
		return ok1 && ok2 && x.Cmp(y) == 0
	case []byte:
		ab, ok := a.([]byte)
		return ok && bytes.Equal(ab, s)
	}
	return a == s
}

// readAll reads every record of rdr into rows of values.
func readAll(t *testing.T, rdr array.RecordReader) [][]any {
	t.Helper()
	var out [][]any
	for rdr.Next() {
		rec := rdr.RecordBatch()
		for r := 0; r < int(rec.NumRows()); r++ {
			row := make([]any, rec.NumCols())
			for c := range row {
				row[c] = arrowValue(t, rec.Column(c), r)
			}
			out = append(out, row)
		}
	}
	if err := rdr.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func sqlAll(t *testing.T, db *sql.DB, query string) ([]string, [][]any) {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]any
	for rows.Next() {
		row := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return cols, out
}

// compare runs query through database/sql and through e6arrow and checks
// that every value is the same.
func compare(t *testing.T, db *sql.DB, query string) [][]any {
	t.Helper()
	cols, want := sqlAll(t, db, query)
	rdr, err := e6arrow.Query(context.Background(), db, query)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	if n := rdr.Schema().NumFields(); n != len(cols) {
		t.Fatalf("%d fields, want %d", n, len(cols))
	}
	for i, f := range rdr.Schema().Fields() {
		if f.Name != cols[i] {
			t.Fatalf("field %d is %q, want %q", i, f.Name, cols[i])
		}
	}
	got := readAll(t, rdr)
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for r := range want {
		for c := range want[r] {
			if !same(got[r][c], want[r][c]) {
				t.Errorf("row %d column %s (%s): arrow %#v, database/sql %#v", r, cols[c], rdr.Schema().Field(c).Type, got[r][c], want[r][c])
			}
		}
	}
	return got
}

// Every value of every column of all_types (every type the simulator
// produces, with NULLs, pre-1970 times, binary and decimals of scale 0..10)
// is the same through e6arrow as through database/sql.
func TestAllTypesEqualsDatabaseSQL(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	got := compare(t, db, "SELECT * FROM all_types ORDER BY id")
	if len(got) != 4 {
		t.Fatalf("%d rows", len(got))
	}
	for c, v := range got[3][1:] {
		if v != nil {
			t.Errorf("row 4 column %d = %v, want NULL", c+1, v)
		}
	}
}

// Decimals at scale 0, 10 and 38, times before 1970, binary and NULLs over
// many batches.
func TestDecimalsTimesBinaryNulls(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 700})
	db, _ := openDB(t, srv)
	q := `SELECT id,
		CASE WHEN id % 7 = 0 THEN NULL ELSE CAST(id * 1000003 - 5000000 AS DECIMAL(38,0)) END AS d0,
		CAST(CAST(id AS DECIMAL(38,10)) / 7 AS DECIMAL(38,10)) AS d10,
		CAST('0.' || lpad(CAST(id AS VARCHAR), 38, '0') AS DECIMAL(38,38)) * (CASE WHEN id % 2 = 0 THEN -1 ELSE 1 END) AS d38,
		TIMESTAMP '1901-03-04 05:06:07.891011' + to_microseconds(id * 987654321) AS ts,
		DATE '1960-01-01' + CAST(id AS INTEGER) AS dt,
		CASE WHEN id % 5 = 0 THEN NULL ELSE encode('bin' || id) END AS b,
		CASE WHEN id % 3 = 0 THEN NULL ELSE s END AS s
		FROM numbers WHERE id < 5000 ORDER BY id`
	got := compare(t, db, q)
	rdr, err := e6arrow.Query(context.Background(), db, q)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"decimal(38, 0)", "decimal(38, 10)", "decimal(38, 38)"} {
		if got := rdr.Schema().Field(i + 1).Type.String(); got != want {
			t.Errorf("field %d: %s, want %s", i+1, got, want)
		}
	}
	rdr.Release()
	if len(got) != 5000 {
		t.Fatalf("%d rows", len(got))
	}
	if got[7][1] != nil || got[5][6] != nil || got[3][7] != nil {
		t.Fatalf("NULLs lost: %v", got[7])
	}
	if ts := got[0][4].(time.Time); ts.Year() != 1901 {
		t.Fatalf("ts = %v", ts)
	}
}

// The schema follows the documented type mapping.
func TestSchemaTypes(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	rdr, err := e6arrow.Query(context.Background(), db,
		"SELECT c_bigint, c_integer, c_double, c_float, c_boolean, c_varchar, c_blob, c_date, c_timestamp, c_timestamptz, c_decimal_38_10, c_list FROM all_types")
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	want := []string{"int64", "int32", "float64", "float32", "bool", "utf8", "binary", "date32",
		"timestamp[us, tz=UTC]", "timestamp[us, tz=UTC]", "decimal(38, 10)", "utf8"}
	for i, f := range rdr.Schema().Fields() {
		if got := f.Type.String(); got != want[i] {
			t.Errorf("%s: %s, want %s", f.Name, got, want[i])
		}
	}
}

// From a *sql.Conn and from a connection of the connector itself, and with
// arguments and settings.
func TestQueryConnAndDriverConn(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 100})
	db, ctr := openDB(t, srv)
	ctx := context.Background()
	count := func(rdr array.RecordReader, err error) int64 {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer rdr.Release()
		var n, recs int64
		for rdr.Next() {
			n += rdr.RecordBatch().NumRows()
			recs++
		}
		if err := rdr.Err(); err != nil {
			t.Fatal(err)
		}
		if recs != (n+99)/100 {
			t.Fatalf("%d records for %d rows: want one per batch", recs, n)
		}
		return n
	}
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(e6arrow.QueryConn(ctx, c, "SELECT id FROM numbers WHERE id < ?", 1234, sql.Named("query_timeout", "30s"))); n != 1234 {
		t.Fatalf("sql.Conn: %d rows", n)
	}
	// The connection is usable again afterwards.
	var one int
	if err := c.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatal(one, err)
	}
	c.Close()

	dc, err := ctr.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	if n := count(e6arrow.QueryDriverConn(ctx, dc, "SELECT id FROM numbers WHERE id < 777")); n != 777 {
		t.Fatalf("driver conn: %d rows", n)
	}
	if _, err := e6arrow.Query(ctx, db, "SELECT nonsense FROM nowhere"); !errors.Is(err, e6data.ErrQueryFailed) {
		t.Fatalf("err = %v, want ErrQueryFailed", err)
	}
	waitFor(t, 5*time.Second, "every query freed", func() bool { return openQueries(srv) == 0 })
	if st := db.Stats(); st.InUse != 0 {
		t.Fatalf("%d connections still in use", st.InUse)
	}
}

// An abrupt switch while the first batch is on its way: no record has
// reached the caller, so the query runs again and the result is complete.
func TestAbruptSwitchBeforeFirstRecordRecovered(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 100})
	db, ctr := openDB(t, srv)
	ctx := context.Background()
	if err := db.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetFaults([]e6sim.FaultRule{{Method: "getNextResultBatch", Kind: e6sim.FaultLatency, Latency: 300 * time.Millisecond, Count: 1}}); err != nil {
		t.Fatal(err)
	}
	type result struct {
		rdr array.RecordReader
		err error
	}
	done := make(chan result, 1)
	go func() {
		rdr, err := e6arrow.Query(ctx, db, "SELECT id FROM numbers WHERE id < 1000 ORDER BY id")
		done <- result{rdr, err}
	}()
	waitFor(t, 5*time.Second, "the first fetch to be held", func() bool { return srv.Stats().FaultsFired == 1 })
	if err := srv.Switch(ctx, 0, 0); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.rdr.Release()
	var next int64
	for r.rdr.Next() {
		ids := r.rdr.RecordBatch().Column(0).(*array.Int64)
		for i := range ids.Len() {
			if ids.Value(i) != next {
				t.Fatalf("id %d, want %d", ids.Value(i), next)
			}
			next++
		}
	}
	if err := r.rdr.Err(); err != nil || next != 1000 {
		t.Fatalf("%d rows, err %v", next, err)
	}
	if st := ctr.Stats(); st.Recoveries < 1 {
		t.Fatalf("recoveries = %d, want at least 1", st.Recoveries)
	}
}

// An abrupt switch once a record has reached the caller: the reader stops
// with ErrQueryInterrupted and never repeats rows.
func TestAbruptSwitchAfterFirstRecordInterrupted(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 100})
	db, ctr := openDB(t, srv)
	ctx := context.Background()
	rdr, err := e6arrow.Query(ctx, db, "SELECT id FROM numbers WHERE id < 5000")
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	if !rdr.Next() {
		t.Fatal(rdr.Err())
	}
	n := rdr.RecordBatch().NumRows()
	if err := srv.Switch(ctx, 0, 0); err != nil {
		t.Fatal(err)
	}
	for rdr.Next() {
		n += rdr.RecordBatch().NumRows()
	}
	err = rdr.Err()
	if !errors.Is(err, e6data.ErrQueryInterrupted) {
		t.Fatalf("err = %v after %d rows, want ErrQueryInterrupted", err, n)
	}
	var e *e6data.Error
	if !errors.As(err, &e) || e.Rows != n {
		t.Fatalf("error counts %d rows delivered, the caller got %d", e.Rows, n)
	}
	if n >= 5000 {
		t.Fatalf("%d rows", n)
	}
	if st := ctr.Stats(); st.Interrupted != 1 {
		t.Fatalf("Stats().Interrupted = %d, want 1", st.Interrupted)
	}
}

// Cancelling the context mid-read stops the query on the server and
// returns the connection.
func TestCancelMidReadStopsServerQuery(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 1000})
	db, _ := openDB(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rdr, err := e6arrow.Query(ctx, db, "SELECT * FROM range(1000000000) t")
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	if !rdr.Next() {
		t.Fatal(rdr.Err())
	}
	if openQueries(srv) != 1 {
		t.Fatalf("%d open queries", openQueries(srv))
	}
	cancel()
	for rdr.Next() {
	}
	if err := rdr.Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	waitFor(t, 5*time.Second, "the server to drop the query", func() bool {
		st := srv.Stats()
		return st.CancelCalls+st.Cancels >= 1 && openQueries(srv) == 0
	})
	if st := db.Stats(); st.InUse != 0 {
		t.Fatalf("%d connections in use", st.InUse)
	}
}

// Releasing the reader before the end frees the query on the server.
func TestReleaseEarlyFreesQuery(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 100})
	db, _ := openDB(t, srv)
	rdr, err := e6arrow.Query(context.Background(), db, "SELECT id FROM numbers")
	if err != nil {
		t.Fatal(err)
	}
	if !rdr.Next() {
		t.Fatal(rdr.Err())
	}
	rec := rdr.RecordBatch()
	rec.Retain()
	rdr.Release()
	defer rec.Release()
	if rec.Column(0).(*array.Int64).Len() != 100 {
		t.Fatal("the retained record changed")
	}
	waitFor(t, 5*time.Second, "the query to be freed", func() bool { return openQueries(srv) == 0 })
}
