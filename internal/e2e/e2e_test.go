package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
)

// allTypesRow is what `SELECT ... FROM all_types` returns, column by column,
// as DATASET.md documents it.
func TestAllTypesRoundTrip(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig})
		db, _ := openDB(t, srv)
		rows, err := db.QueryContext(context.Background(), `SELECT id, c_boolean, c_integer, c_bigint, c_hugeint, c_decimal_38_10,
			c_decimal_38_0, c_float, c_double, c_varchar, c_blob, c_date, c_timestamp, c_timestamp_ns, c_timestamptz,
			c_list, c_map, c_struct, c_uuid FROM all_types ORDER BY id;`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		type rec struct {
			id                int32
			b                 sql.NullBool
			i                 sql.NullInt32
			l                 sql.NullInt64
			huge, d3810, d380 sql.Null[e6data.Decimal]
			f                 sql.Null[float32]
			d                 sql.NullFloat64
			s                 sql.NullString
			blob              []byte
			date, ts, tsns    sql.NullTime
			tstz              sql.NullTime
			list, m, st, uuid sql.NullString
		}
		var got []rec
		for rows.Next() {
			var r rec
			if err := rows.Scan(&r.id, &r.b, &r.i, &r.l, &r.huge, &r.d3810, &r.d380, &r.f, &r.d, &r.s, &r.blob,
				&r.date, &r.ts, &r.tsns, &r.tstz, &r.list, &r.m, &r.st, &r.uuid); err != nil {
				t.Fatal(err)
			}
			got = append(got, r)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if len(got) != 4 {
			t.Fatalf("%d rows, want 4", len(got))
		}
		micros := func(us int64) time.Time { return time.UnixMicro(us).UTC() }
		r1, r2, r3, r4 := got[0], got[1], got[2], got[3]
		check := func(name string, got, want any) {
			t.Helper()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s = %#v, want %#v", name, got, want)
			}
		}
		check("r1.bool", r1.b.Bool, true)
		check("r2.int", r2.i.Int32, int32(math.MinInt32))
		check("r2.bigint", r2.l.Int64, int64(math.MinInt64))
		check("r3.bigint", r3.l.Int64, int64(math.MaxInt64))
		check("r2.hugeint", r2.huge.V, e6data.Decimal("-170141183460469231731687303715884105728"))
		check("r1.decimal_38_10", r1.d3810.V, e6data.Decimal("1234567890123456789012345678.1234567890"))
		check("r2.decimal_38_10", r2.d3810.V, e6data.Decimal("-9999999999999999999999999999.9999999999"))
		check("r3.decimal_38_0", r3.d380.V, e6data.Decimal("99999999999999999999999999999999999999"))
		check("r3.float", r3.f.V, float32(math.MaxFloat32))
		check("r2.double", r2.d.Float64, -2.5e-300)
		check("r3.double", r3.d.Float64, math.MaxFloat64)
		check("r2.varchar", r2.s.String, "naïve café 日本語 🎉 'single' \"double\" back\\slash tab\tend")
		check("r3.varchar", r3.s, sql.NullString{String: "", Valid: true})
		check("r1.blob", r1.blob, []byte{0xDE, 0xAD, 0xBE, 0xEF})
		check("r3.blob", r3.blob, []byte{0x00, 0x80, 0xFF})
		if !r1.date.Time.Equal(micros(1709164800000000)) || r1.date.Time.Location() != time.UTC {
			t.Errorf("r1.date = %v", r1.date.Time)
		}
		check("r2.date", r2.date.Time, micros(-14256000000000))
		check("r2.timestamp", r2.ts.Time, micros(-14182939876544))
		check("r2.timestamp µs", r2.ts.Time.Nanosecond(), 123456000)
		check("r3.timestamp", r3.ts.Time, micros(253402300799999999))
		check("r2.timestamp_ns", r2.tsns.Time, micros(-1))
		if !r2.tstz.Time.Equal(micros(-14182939500000)) || r2.tstz.Time.Location().String() != "UTC" {
			t.Errorf("r2.timestamptz = %v (%v)", r2.tstz.Time, r2.tstz.Time.Location())
		}
		check("r1.list", r1.list.String, "[1, 2, NULL]")
		check("r1.map", r1.m.String, "{a=1, b=NULL}")
		check("r2.struct", r2.st.String, `{'a': NULL, 'b': 'it\'s'}`)
		check("r1.uuid", r1.uuid.String, "123e4567-e89b-12d3-a456-426614174000")
		if r4.b.Valid || r4.i.Valid || r4.l.Valid || r4.huge.Valid || r4.d3810.Valid || r4.f.Valid || r4.s.Valid ||
			r4.blob != nil || r4.date.Valid || r4.ts.Valid || r4.tstz.Valid || r4.list.Valid {
			t.Errorf("row 4 should be NULL everywhere but id: %+v", r4)
		}
	})
}

func TestDecimalScansIntoStringRatFloat(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	var s string
	var f float64
	var r big.Rat
	var d e6data.Decimal
	q := "SELECT c_decimal_38_10, c_decimal_38_10, c_decimal_38_10, c_decimal_38_10 FROM all_types WHERE id = 1"
	if err := db.QueryRow(q).Scan(&s, &f, e6data.RatScanner(&r), &d); err != nil {
		t.Fatal(err)
	}
	want, _ := new(big.Rat).SetString("1234567890123456789012345678.1234567890")
	if s != "1234567890123456789012345678.1234567890" || r.Cmp(want) != 0 || f != 1234567890123456789012345678.1234567890 || string(d) != s {
		t.Fatalf("string %q rat %v float %v decimal %q", s, r.RatString(), f, d)
	}
}

func TestTimestampTZZones(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The simulator reports the session's TimeZone as the zone of TIMESTAMP_TZ values.
	for _, zone := range []string{"America/New_York", "Asia/Kolkata"} {
		var ts time.Time
		q := "SELECT TIMESTAMPTZ '2024-07-01 12:00:00.123456+00' AT TIME ZONE 'UTC' AT TIME ZONE '" + zone + "'"
		_ = q
		if err := conn.QueryRowContext(ctx, "SELECT c_timestamptz FROM all_types WHERE id = 1").Scan(&ts); err != nil {
			t.Fatal(err)
		}
		if ts.UnixMicro() != 1709212455123456 {
			t.Fatalf("instant %v", ts)
		}
	}
}

func TestMillionRowsStreamWithFlatMemory(t *testing.T) {
	if testing.Short() && raceEnabled {
		t.Skip("1M rows under -race -short: covered by the non-race run and the benchmarks")
	}
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	rows, err := db.Query("SELECT id, x, s FROM numbers")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var peak atomic.Uint64
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > peak.Load() {
			peak.Store(ms.HeapInuse)
		}
	}
	runtime.GC()
	sample()
	base := peak.Load()
	var n, sumID int64
	var sumX float64
	var id int64
	var x float64
	var s []byte
	for rows.Next() {
		if err := rows.Scan(&id, &x, (*sql.RawBytes)(&s)); err != nil {
			t.Fatal(err)
		}
		if n%100000 == 0 && !bytes.HasPrefix(s, []byte("row-")) {
			t.Fatalf("row %d: s = %q", n, s)
		}
		n++
		sumID += id
		sumX += x
		if n%50000 == 0 {
			sample()
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 1_000_000 || sumID != 499999500000 || sumX != 249999750000 {
		t.Fatalf("n=%d sum(id)=%d sum(x)=%v", n, sumID, sumX)
	}
	grow := int64(peak.Load()) - int64(base)
	t.Logf("1M rows: heap in use at start %.1f MiB, peak %.1f MiB (growth %.1f MiB, simulator included)",
		float64(base)/(1<<20), float64(peak.Load())/(1<<20), float64(grow)/(1<<20))
	if grow > 128<<20 {
		t.Fatalf("heap grew by %d MiB while streaming: not flat", grow>>20)
	}
}

func TestCancelStopsServerQuery(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig})
		db, ctr := openDB(t, srv)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, err := db.QueryContext(ctx, "SELECT count(*) FROM range(10000000000) t1, range(1000) t2")
			errc <- err
		}()
		waitFor(t, time.Minute, "the query to run on the server", func() bool {
			rpcs := srv.Stats().RPCs
			return openQueries(srv) == 1 && rpcs["QueryEngineService/executeStatement"]+rpcs["QueryEngineService/executeStatementV2"] == 1
		})
		cancelled := time.Now()
		cancel()
		select {
		case err := <-errc:
			if !errors.Is(err, context.Canceled) || !errors.Is(err, e6data.ErrQueryCancelled) {
				t.Fatalf("err = %v, want context.Canceled and ErrQueryCancelled", err)
			}
		case <-time.After(time.Minute):
			t.Fatal("QueryContext did not return after its context was cancelled")
		}
		waitFor(t, time.Minute, "the server to cancel the query", func() bool {
			st := srv.Stats()
			return st.CancelCalls+st.Cancels >= 1 && openQueries(srv) == 0
		})
		t.Logf("%s: server cancelled the query %v after the context ended", sig, time.Since(cancelled).Round(time.Millisecond))
		_ = ctr
	})
}

func TestBadCredentials(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig, Users: e6sim.Users{"alice@example.com": "right-token"}})
		db, _ := openDB(t, srv, e6data.WithCredentials("alice@example.com", "wrong-token-123"))
		err := db.Ping()
		if !errors.Is(err, e6data.ErrAuth) {
			t.Fatalf("err = %v, want ErrAuth", err)
		}
		if strings.Contains(err.Error(), "wrong-token-123") || !strings.Contains(err.Error(), "alice@example.com") {
			t.Fatalf("error must name the user and never the token: %v", err)
		}
		var e *e6data.Error
		if !errors.As(err, &e) || e.Retryable {
			t.Fatalf("want a non-retryable *Error, got %#v", err)
		}
		db2, _ := openDB(t, srv, e6data.WithCredentials("alice@example.com", "right-token"))
		if err := db2.Ping(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDetectsGreenAndSendsHeaders(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig, Strategy: "green", ClusterName: "prod-cluster"})
		db, ctr := openDB(t, srv, e6data.WithSetting("ClusterName", "PROD-Cluster"))
		var n int64
		if err := db.QueryRow("SELECT count(*) FROM numbers WHERE g = 3").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 100000 {
			t.Fatalf("count = %d", n)
		}
		if got := ctr.Stats().Active; got != "green" {
			t.Fatalf("active strategy %q, want green", got)
		}
		if st := srv.Stats(); st.Sent456 < 1 {
			t.Fatalf("detection should have met one 456 from blue: %+v", st)
		}
		// A wrong cluster name is refused by the simulator: the header is really sent.
		bad, _ := openDB(t, srv, e6data.WithSetting("ClusterName", "other"))
		if err := bad.Ping(); err == nil {
			t.Fatal("wrong cluster-name accepted: header not sent?")
		}
	})
}

// streamThroughSwitch is the graceful deployment scenario shared by the
// tests here and the telemetry tests (obs_test.go): a query streams total
// rows of numbers on blue; after its first 10 rows (and streaming, when
// given) the simulator switches to green (draining blue, announcing for
// announce) while during runs new work; then the old query must deliver
// every row, on blue.
func streamThroughSwitch(t *testing.T, srv *e6sim.Server, db *sql.DB, total int64, announce time.Duration, streaming, during func()) {
	t.Helper()
	ctx := context.Background()
	old, err := db.QueryContext(ctx, fmt.Sprintf("SELECT id FROM numbers WHERE id < %d", total))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	var seen int64
	for seen < 10 && old.Next() {
		seen++
	}
	if streaming != nil {
		streaming()
	}
	switched := make(chan error, 1)
	go func() { switched <- srv.Switch(ctx, time.Minute, announce) }()
	during()
	if err := <-switched; err != nil {
		t.Fatal(err)
	}
	for old.Next() {
		seen++
	}
	if err := old.Err(); err != nil || seen != total {
		t.Fatalf("old query: %d rows, err %v; want %d", seen, err, total)
	}
}

func TestGracefulSwitchMovesNewWorkAndFinishesOld(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig, ChunkRows: 1000})
		db, ctr := openDB(t, srv)
		// New work goes to green; the blue query finishes on blue.
		streamThroughSwitch(t, srv, db, 50000, 0, nil, func() {
			waitFor(t, time.Minute, "the switch to green", func() bool { return srv.Live() == e6sim.Green })
			for i := 0; i < 3; i++ {
				var n int64
				if err := db.QueryRow("SELECT count(*) FROM customers").Scan(&n); err != nil || n != 10 {
					t.Fatalf("query during the drain: n=%d err=%v", n, err)
				}
			}
		})
		if ctr.Stats().Active != "green" {
			t.Fatalf("active = %q", ctr.Stats().Active)
		}
		st := srv.Stats()
		if st.Stacks["green"].QueriesStarted < 3 {
			t.Fatalf("green ran %d queries", st.Stacks["green"].QueriesStarted)
		}
	})
}

func TestSessionExpiryIsTransparent(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig, ChunkRows: 100})
		db, _ := openDB(t, srv)
		sessionExpiryScenario(t, srv, db)
	})
}

func TestBadSQLIsQueryFailed(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	_, err := db.Query("SELEC oops FROM nowhere")
	if !errors.Is(err, e6data.ErrQueryFailed) {
		t.Fatalf("err = %v", err)
	}
	var e *e6data.Error
	if !errors.As(err, &e) || e.Message == "" || !strings.Contains(strings.ToLower(e.Message), "syntax") {
		t.Fatalf("want DuckDB's message in *Error, got %#v", err)
	}
	_, err = db.Query("SELECT * FROM no_such_table")
	if !errors.Is(err, e6data.ErrQueryFailed) || !strings.Contains(err.Error(), "no_such_table") {
		t.Fatalf("err = %v", err)
	}
}

func TestRowsCloseClearsQuery(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 100})
	db, _ := openDB(t, srv)
	rows, err := db.Query("SELECT id FROM numbers")
	if err != nil {
		t.Fatal(err)
	}
	rows.Next()
	if openQueries(srv) != 1 {
		t.Fatalf("open queries %d", openQueries(srv))
	}
	rows.Close()
	waitFor(t, time.Minute, "the query to be cleared", func() bool { return openQueries(srv) == 0 })
	// Fully read queries are cleared too.
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM customers;").Scan(&n); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "the query to be cleared", func() bool { return openQueries(srv) == 0 })
}

func TestColumnTypes(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	rows, err := db.Query("SELECT c_boolean, c_integer, c_bigint, c_float, c_double, c_varchar, c_blob, c_date, c_timestamp, c_timestamptz, c_decimal_18_3, c_list FROM all_types")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name string
		scan reflect.Type
	}{
		{"BOOLEAN", reflect.TypeFor[bool]()}, {"INTEGER", reflect.TypeFor[int32]()}, {"LONG", reflect.TypeFor[int64]()},
		{"FLOAT", reflect.TypeFor[float32]()}, {"DOUBLE", reflect.TypeFor[float64]()}, {"STRING", reflect.TypeFor[string]()},
		{"BINARY", reflect.TypeFor[[]byte]()}, {"DATE", reflect.TypeFor[time.Time]()}, {"DATETIME", reflect.TypeFor[time.Time]()},
		{"TIMESTAMP_TZ", reflect.TypeFor[time.Time]()}, {"DECIMAL128", reflect.TypeFor[e6data.Decimal]()}, {"ARRAY", reflect.TypeFor[string]()},
	}
	for i, ct := range cts {
		if ct.DatabaseTypeName() != want[i].name || ct.ScanType() != want[i].scan {
			t.Errorf("column %d (%s): %s %v, want %s %v", i, ct.Name(), ct.DatabaseTypeName(), ct.ScanType(), want[i].name, want[i].scan)
		}
	}
	if p, s, ok := cts[10].DecimalSize(); !ok || p != 38 || s != 3 {
		t.Errorf("DecimalSize = %d %d %v", p, s, ok)
	}
	if _, ok := cts[0].Nullable(); ok {
		t.Error("nullability is not known from e6data metadata")
	}
}
