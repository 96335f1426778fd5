package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
	"github.com/e6go/e6data/internal/wire"
)

// rawConn returns the e6data side of a pinned connection.
func rawConn(t testing.TB, sc *sql.Conn) e6data.Conn {
	t.Helper()
	var c e6data.Conn
	if err := e6data.RawConn(sc, func(x e6data.Conn) error { c = x; return nil }); err != nil {
		t.Fatal(err)
	}
	return c
}

func rpcDelta(before, after e6sim.Stats, name string) int64 {
	return after.RPCs["QueryEngineService/"+name] - before.RPCs["QueryEngineService/"+name]
}

func TestOpsLastQueryIDAndStrategy(t *testing.T) {
	srv := startSim(t, e6sim.Config{Strategy: e6sim.Green})
	db, _ := openDB(t, srv)
	ctx := context.Background()
	sc, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if id := rawConn(t, sc).LastQueryID(); id != "" {
		t.Fatalf("LastQueryID before any query = %q", id)
	}
	rows, err := sc.QueryContext(ctx, "SELECT name FROM customers ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	rows.Next()
	var id1, st string
	if err := e6data.RawConn(sc, func(c e6data.Conn) error { id1, st = c.LastQueryID(), c.Strategy(); return nil }); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id1, "green-q-") || st != "green" {
		t.Fatalf("LastQueryID %q strategy %q: want a green query", id1, st)
	}
	rows.Close()
	var n int64
	if err := sc.QueryRowContext(ctx, "SELECT count(*) FROM orders").Scan(&n); err != nil {
		t.Fatal(err)
	}
	id2 := rawConn(t, sc).LastQueryID()
	if id2 == "" || id2 == id1 {
		t.Fatalf("LastQueryID after a second query = %q (first %q)", id2, id1)
	}
	// Ops that prepare count as queries; a statement the server refuses at
	// prepare gets no ID and leaves the last one.
	err = e6data.RawConn(sc, func(c e6data.Conn) error {
		if _, err := c.Explain(ctx, "SELECT 1"); err != nil {
			return err
		}
		id3 := c.LastQueryID()
		if id3 == id2 || id3 == "" {
			t.Errorf("LastQueryID after Explain = %q", id3)
		}
		if _, err := c.Explain(ctx, "SELEC 1"); !errors.Is(err, e6data.ErrQueryFailed) {
			t.Errorf("Explain of bad SQL: %v", err)
		}
		if c.LastQueryID() != id3 {
			t.Errorf("a refused prepare changed LastQueryID to %q", c.LastQueryID())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpsStatus(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 100})
	db, _ := openDB(t, srv)
	ctx := context.Background()
	sc, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	rows, err := sc.QueryContext(ctx, "SELECT id FROM numbers WHERE id < 1000")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 150 && rows.Next(); i++ { // two batches fetched
	}
	id := rawConn(t, sc).LastQueryID()
	// Asked from another connection of the same connector.
	var running e6data.QueryStatus
	if err := e6data.Raw(ctx, db, func(c e6data.Conn) error {
		var err error
		running, err = c.Status(ctx, id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !running.Running || running.RowCount < 150 || running.RowCount > 1000 {
		t.Fatalf("status of an open query = %+v, want running with 150..1000 rows", running)
	}
	n := 150
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil || n != 1000 {
		t.Fatalf("rows %d err %v", n, err)
	}
	// Finished and cleared: the server no longer knows it, and says so.
	waitFor(t, 5*time.Second, "the query to be cleared", func() bool { return openQueries(srv) == 0 })
	_, err = rawConn(t, sc).Status(ctx, id)
	var e *e6data.Error
	if !errors.As(err, &e) || e.QueryID != id || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("status of a finished query: %v", err)
	}
	if _, err := rawConn(t, sc).Status(ctx, "no-such-query"); err == nil || !strings.Contains(err.Error(), "no-such-query") {
		t.Fatalf("status of an unknown query: %v", err)
	}
}

func TestOpsCancelByIDFromAnotherConnection(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig, ChunkRows: 100})
		db, _ := openDB(t, srv)
		ctx := context.Background()

		// A streaming query: its Rows fail once it is cancelled.
		sc, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer sc.Close()
		rows, err := sc.QueryContext(ctx, "SELECT id FROM numbers")
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for seen < 10 && rows.Next() {
			seen++
		}
		id := rawConn(t, sc).LastQueryID()
		if err := e6data.Raw(ctx, db, func(c e6data.Conn) error { return c.Cancel(ctx, id) }); err != nil {
			t.Fatal(err)
		}
		var st e6data.QueryStatus
		if err := e6data.Raw(ctx, db, func(c e6data.Conn) error { st, err = c.Status(ctx, id); return err }); err != nil || st.Running {
			t.Fatalf("status after cancel: %+v %v", st, err)
		}
		for rows.Next() {
			seen++
		}
		err = rows.Err()
		if !errors.Is(err, e6data.ErrQueryCancelled) || errors.Is(err, e6data.ErrQueryInterrupted) {
			t.Fatalf("after %d rows: err = %v, want ErrQueryCancelled", seen, err)
		}
		var e *e6data.Error
		if !errors.As(err, &e) || e.QueryID != id {
			t.Fatalf("want *Error naming the query, got %#v", err)
		}
		if seen >= 1_000_000 {
			t.Fatal("the cancelled query delivered every row")
		}
		rows.Close()

		// A query still running on the server (QueryContext has not returned).
		errc := make(chan error, 1)
		go func() {
			_, err := db.QueryContext(ctx, "SELECT count(*) FROM range(10000000000) t1, range(1000) t2")
			errc <- err
		}()
		var long string
		waitFor(t, 10*time.Second, "the long query to start", func() bool {
			long = ""
			for _, q := range srv.Queries() {
				if strings.Contains(q.SQL, "range(10000000000)") && q.Ended.IsZero() {
					long = q.ID
				}
			}
			return long != "" && openQueries(srv) >= 1
		})
		if err := e6data.Raw(ctx, db, func(c e6data.Conn) error { return c.Cancel(ctx, long) }); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-errc:
			if !errors.Is(err, e6data.ErrQueryCancelled) {
				t.Fatalf("long query: err = %v, want ErrQueryCancelled", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the long query did not end after Cancel")
		}
		waitFor(t, 5*time.Second, "the server to drop the queries", func() bool { return openQueries(srv) == 0 })
		if st := srv.Stats(); st.CancelCalls < 2 {
			t.Fatalf("cancel calls %d", st.CancelCalls)
		}
	})
}

func TestOpsExplain(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	ctx := context.Background()
	err := e6data.Raw(ctx, db, func(c e6data.Conn) error {
		plan, err := c.Explain(ctx, "SELECT name FROM customers WHERE id = ?;", 3) // plain int, converted as database/sql does
		if err != nil {
			return err
		}
		if !strings.Contains(plan, "customers") || !strings.Contains(plan, "id=3") || strings.Contains(plan, "Total Time") {
			t.Errorf("plan:\n%s", plan)
		}
		if _, err := c.Explain(ctx, "SELECT * FROM no_such_table"); !errors.Is(err, e6data.ErrQueryFailed) || !strings.Contains(err.Error(), "no_such_table") {
			t.Errorf("explain of a missing table: %v", err)
		}
		if _, err := c.Explain(ctx, "SELECT ?", 1, 2); err == nil || !strings.Contains(err.Error(), "1 '?' placeholders but 2") {
			t.Errorf("argument count: %v", err)
		}
		if _, err := c.Explain(ctx, "SELECT ?", struct{}{}); err == nil || !strings.Contains(err.Error(), "parameter 1") {
			t.Errorf("unsupported argument: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st := srv.Stats(); st.RPCs["QueryEngineService/explain"] < 1 || st.RPCs["QueryEngineService/executeStatement"]+st.RPCs["QueryEngineService/executeStatementV2"] != 0 {
		t.Fatalf("Explain must not execute: %v", st.RPCs)
	}
	waitFor(t, 5*time.Second, "explained queries to be cleared", func() bool { return openQueries(srv) == 0 })
}

// totalTimeText is how DuckDB (behind e6sim) states the total in an
// EXPLAIN ANALYZE profile: "Total Time: 0.0023s".
var totalTimeText = regexp.MustCompile(`Total Time: ([0-9.]+)s`)

func TestOpsExplainAnalyze(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	ctx := context.Background()
	err := e6data.Raw(ctx, db, func(c e6data.Conn) error {
		a, err := c.ExplainAnalyze(ctx, "SELECT g, sum(x) FROM numbers WHERE id < ? GROUP BY g", int64(500000))
		if err != nil {
			return err
		}
		if a.ParsingTime < 0 || a.QueueingTime < 0 {
			t.Errorf("negative timings: %+v", a)
		}
		m := totalTimeText.FindStringSubmatch(a.Plan)
		if m == nil {
			t.Fatalf("the simulator's profile has no Total Time:\n%s", a.Plan)
		}
		secs, _ := strconv.ParseFloat(m[1], 64)
		if want := time.Duration(secs * float64(time.Second)); a.TotalTime != want {
			t.Errorf("TotalTime = %v, the plan says %q (%v)", a.TotalTime, m[0], want)
		}
		if a.TotalTime <= 0 || a.TotalTime > time.Minute {
			t.Errorf("TotalTime = %v", a.TotalTime)
		}
		if !strings.Contains(a.Plan, "HASH_GROUP_BY") && !strings.Contains(a.Plan, "GROUP_BY") {
			t.Errorf("plan:\n%s", a.Plan)
		}
		if _, err := c.ExplainAnalyze(ctx, "SELECT * FROM nope"); !errors.Is(err, e6data.ErrQueryFailed) {
			t.Errorf("explain analyze of a missing table: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st := srv.Stats()
	// The test configuration names a catalog: prepareStatementV2, then executeStatementV2.
	if st.RPCs["QueryEngineService/explainAnalyze"] != 1 || st.RPCs["QueryEngineService/executeStatementV2"] != 1 || st.RPCs["QueryEngineService/executeStatement"] != 0 {
		t.Fatalf("rpcs %v", st.RPCs)
	}
	waitFor(t, 5*time.Second, "analyzed queries to be cleared", func() bool { return openQueries(srv) == 0 })
}

func TestOpsDryRun(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	for _, catalog := range []string{"sample", ""} {
		t.Run("catalog="+catalog, func(t *testing.T) {
			db, _ := openDB(t, srv, e6data.WithSetting("Catalog", catalog))
			ctx := context.Background()
			before := srv.Stats()
			err := e6data.Raw(ctx, db, func(c e6data.Conn) error {
				out, err := c.DryRun(ctx, "SELECT id, name, signup FROM customers WHERE id = ?;")
				if err != nil {
					return err
				}
				var doc struct {
					Valid   bool
					Columns []struct{ Name, Type string }
				}
				if err := json.Unmarshal([]byte(out), &doc); err != nil {
					t.Fatalf("dry run value %q: %v", out, err)
				}
				if !doc.Valid || len(doc.Columns) != 3 || doc.Columns[1].Name != "name" || doc.Columns[1].Type != "STRING" || doc.Columns[2].Type != "DATE" {
					t.Errorf("dry run %s", out)
				}
				_, err = c.DryRun(ctx, "SELEC nothing")
				var e *e6data.Error
				if !errors.Is(err, e6data.ErrQueryFailed) || !errors.As(err, &e) || !strings.Contains(strings.ToLower(e.Message), "syntax") {
					t.Errorf("dry run of bad SQL: %v", err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			after := srv.Stats()
			v1, v2 := rpcDelta(before, after, "dryRun"), rpcDelta(before, after, "dryRunV2")
			if v1 != 2 || v2 != 0 { // dryRun whatever the catalog, as e6data's client
				t.Fatalf("catalog %q: dryRun %d, dryRunV2 %d", catalog, v1, v2)
			}
			if rpcDelta(before, after, "executeStatement")+rpcDelta(before, after, "executeStatementV2") != 0 || openQueries(srv) != 0 {
				t.Fatal("a dry run executed something")
			}
		})
	}
}

// e6dataTypeNames are the vector type names of docs/protocol.md §7.
var e6dataTypeNames = []string{"LONG", "INTEGER", "DOUBLE", "STRING", "DATE", "DATETIME", "TIMESTAMP_TZ", "DECIMAL128",
	"BOOLEAN", "FLOAT", "BINARY", "ARRAY", "MAP", "STRUCT", "NULL"}

func TestOpsMetadataListings(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	for _, catalog := range []string{"sample", ""} {
		t.Run("configured="+catalog, func(t *testing.T) {
			db, _ := openDB(t, srv, e6data.WithSetting("Catalog", catalog))
			ctx := context.Background()
			sc, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer sc.Close()
			c := rawConn(t, sc)

			cats, err := c.Catalogs(ctx)
			if err != nil || !slices.Equal(cats, []e6data.Catalog{{Name: "sample", IsDefault: true}}) {
				t.Fatalf("catalogs %v %v", cats, err)
			}

			// "" = the configured catalog, even when none is: always V2, as e6data's client.
			before := srv.Stats()
			schemas, err := c.Schemas(ctx, "")
			if err != nil || !slices.Equal(schemas, []string{"main"}) {
				t.Fatalf("schemas %v %v", schemas, err)
			}
			tables, err := c.Tables(ctx, "", "main")
			// (Simulators of one test process share their database: the
			// tables other tests made there are left out.)
			tables = slices.DeleteFunc(tables, isTestTable)
			if err != nil || !slices.Equal(tables, []string{"all_types", "customers", "numbers", "orders"}) {
				t.Fatalf("tables %v %v", tables, err)
			}
			cols, err := c.Columns(ctx, "", "main", "customers")
			want := []e6data.ColumnInfo{{Name: "id", Type: "INTEGER"}, {Name: "name", Type: "STRING"}, {Name: "country", Type: "STRING"}, {Name: "signup", Type: "DATE"}, {Name: "vip", Type: "BOOLEAN"}}
			if err != nil || !slices.Equal(cols, want) {
				t.Fatalf("columns %v %v", cols, err)
			}
			after := srv.Stats()
			for _, m := range []string{"getSchemaNames", "getTables", "getColumns"} {
				v1, v2 := rpcDelta(before, after, m), rpcDelta(before, after, m+"V2")
				if v1 != 0 || v2 != 1 {
					t.Errorf("catalog %q: %s %d, %sV2 %d", catalog, m, v1, m, v2)
				}
			}

			// An explicit catalog always takes V2.
			before = srv.Stats()
			if s, err := c.Schemas(ctx, "SAMPLE"); err != nil || !slices.Equal(s, []string{"main"}) {
				t.Fatalf("schemas of SAMPLE: %v %v", s, err)
			}
			if tb, err := c.Tables(ctx, "sample", "main"); err != nil || len(slices.DeleteFunc(tb, isTestTable)) != 4 {
				t.Fatalf("tables %v %v", tb, err)
			}
			all, err := c.Columns(ctx, "sample", "main", "all_types")
			if err != nil || len(all) != 34 {
				t.Fatalf("all_types columns %d %v", len(all), err)
			}
			after = srv.Stats()
			if rpcDelta(before, after, "getSchemaNamesV2") != 1 || rpcDelta(before, after, "getTablesV2") != 1 || rpcDelta(before, after, "getColumnsV2") != 1 ||
				rpcDelta(before, after, "getSchemaNames")+rpcDelta(before, after, "getTables")+rpcDelta(before, after, "getColumns") != 0 {
				t.Errorf("explicit catalog: %v", after.RPCs)
			}
			types := map[string]string{}
			for _, col := range all {
				if _, ok := wire.ParseVectorType(col.Type); !ok || !slices.Contains(e6dataTypeNames, col.Type) {
					t.Errorf("column %s has type %q, not an e6data type name", col.Name, col.Type)
				}
				types[col.Name] = col.Type
			}
			for col, typ := range map[string]string{"c_bigint": "LONG", "c_hugeint": "DECIMAL128", "c_varchar": "STRING", "c_blob": "BINARY",
				"c_timestamp": "DATETIME", "c_timestamptz": "TIMESTAMP_TZ", "c_list": "ARRAY", "c_map": "MAP", "c_struct": "STRUCT", "c_float": "FLOAT"} {
				if types[col] != typ {
					t.Errorf("%s: %q, want %s", col, types[col], typ)
				}
			}

			// Unknown names are clear failures, not empty lists.
			if _, err := c.Schemas(ctx, "nope"); !errors.Is(err, e6data.ErrQueryFailed) || !strings.Contains(err.Error(), "nope") {
				t.Errorf("unknown catalog: %v", err)
			}
			if _, err := c.Columns(ctx, "", "main", "no_such_table"); err == nil || !strings.Contains(err.Error(), "no_such_table") {
				t.Errorf("unknown table: %v", err)
			}
		})
	}
}

// The listings recover from an expired session like queries do.
func TestOpsRecoverFromExpiredSession(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig})
		db, ctr := openDB(t, srv)
		ctx := context.Background()
		sc, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer sc.Close()
		c := rawConn(t, sc)
		for i, op := range []func() error{
			func() error { _, err := c.Tables(ctx, "", "main"); return err },
			func() error { _, err := c.Explain(ctx, "SELECT 1"); return err },
			func() error { _, err := c.DryRun(ctx, "SELECT 1"); return err },
			func() error { _, err := c.Catalogs(ctx); return err },
		} {
			srv.ExpireSessions()
			if err := op(); err != nil {
				t.Fatalf("op %d after expiry: %v", i, err)
			}
		}
		if ctr.Stats().Reauths < 3 {
			t.Fatalf("reauths %d", ctr.Stats().Reauths)
		}
	})
}

func TestOpsRawNotE6data(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e6data.Raw(ctx, db, func(e6data.Conn) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("Raw with a cancelled context: %v", err)
	}
	sentinel := errors.New("from f")
	if err := e6data.Raw(context.Background(), db, func(e6data.Conn) error { return sentinel }); err != sentinel {
		t.Fatalf("Raw must return f's error: %v", err)
	}
}
