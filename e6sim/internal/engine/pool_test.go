//go:build cgo

package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/e6go/e6data/internal/enginepb"
)

// text1 runs sql to the end and returns its first value, which must be a
// string.
func (h *harness) text1(t testing.TB, sid, sql string) string {
	t.Helper()
	_, cs := h.query(t, sid, sql)
	if len(cs) == 0 || cs[0].Rows == 0 {
		t.Fatalf("%s: no rows", sql)
	}
	return string(cs[0].Vectors[0].BytesAt(0))
}

const connIDQuery = "SELECT CAST(current_connection_id() AS VARCHAR)"

// Queries in the same catalog.schema and TimeZone reuse the DuckDB
// connections of earlier ones instead of opening (and setting up) new ones.
func TestConnectionsAreReused(t *testing.T) {
	db := testDB(t)
	h := serve(t, db, Options{})
	sid := h.auth(t)
	ids := map[string]bool{}
	for range 20 {
		ids[h.text1(t, sid, connIDQuery)] = true
	}
	if len(ids) != 1 {
		t.Fatalf("20 queries one after the other ran on %d connections, want 1", len(ids))
	}
	if n := db.openConns(); n != 0 {
		t.Fatalf("%d connections in use after the queries", n)
	}
}

// Concurrent queries each get a connection at once and the pool bounds how
// many DuckDB connections they go through.
func TestConcurrentQueriesShareConnections(t *testing.T) {
	db := testDB(t)
	h := serve(t, db, Options{})
	sid := h.auth(t)
	const workers, each = 16, 20
	var mu sync.Mutex
	ids := map[string]bool{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				id := h.text1(t, sid, connIDQuery)
				mu.Lock()
				ids[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	// At most one connection per worker is in use at a time; idle ones of
	// earlier tests may be picked too.
	if limit := workers + maxIdleConns; len(ids) > limit {
		t.Fatalf("%d queries ran on %d connections, want at most %d", workers*each, len(ids), limit)
	}
	t.Logf("%d queries ran on %d connections", workers*each, len(ids))
	if n := db.openConns(); n != 0 {
		t.Fatalf("%d connections in use after the queries", n)
	}
}

// A query that changes its connection's state (USE, SET, a temporary
// table, a transaction) or is interrupted leaves nothing behind for later
// queries, and queries in another schema or TimeZone get connections set up
// for theirs.
func TestPooledConnectionsDoNotLeakState(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "people.csv"), []byte("name,age\nann,31\nbob,42\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := OpenDB(t.Context(), DBOptions{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() }) // after the engine's cleanup
	h := serve(t, db, Options{})
	sid := h.auth(t)
	settingsAre := func(what, sid, tz, schema string) {
		t.Helper()
		for range 3 {
			if got := h.text1(t, sid, "SELECT CAST(current_setting('TimeZone') AS VARCHAR)"); got != tz {
				t.Fatalf("%s: TimeZone %q, want %q", what, got, tz)
			}
			if got := h.text1(t, sid, "SELECT current_database() || '.' || current_schema()"); got != schema {
				t.Fatalf("%s: in %q, want %q", what, got, schema)
			}
			if got := h.text1(t, sid, "SELECT CAST(count(*) AS VARCHAR) FROM duckdb_tables() WHERE temporary"); got != "0" {
				t.Fatalf("%s: %s temporary tables", what, got)
			}
		}
	}
	// A session's TimeZone lasts for that session (and only that one).
	for _, set := range []struct{ sql, tz string }{
		{"SET SESSION TimeZone = 'Asia/Tokyo'", "Asia/Tokyo"},
		{"SET TimeZone = 'America/Lima'", "America/Lima"},
	} {
		other := h.auth(t)
		h.query(t, other, set.sql)
		settingsAre("in its session after "+set.sql, other, set.tz, "sample.main")
		settingsAre("in another session after "+set.sql, sid, "UTC", "sample.main")
	}
	for _, sql := range []string{
		"USE sample.data",
		"CREATE TEMP TABLE leak AS SELECT 1 AS a",
		"BEGIN TRANSACTION",
	} {
		h.query(t, sid, sql)
		settingsAre("after "+sql, sid, "UTC", "sample.main")
	}

	// Sessions with another TimeZone, and queries in another schema, get
	// connections of their own.
	tokyo := h.auth(t)
	if _, err := h.c.SetProps(h.ctx, &enginepb.SetPropsRequest{SessionId: tokyo, Props: "TimeZone=Asia/Tokyo"}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		settingsAre("UTC session", sid, "UTC", "sample.main")
		settingsAre("Tokyo session", tokyo, "Asia/Tokyo", "sample.main")
		r, err := h.c.PrepareStatementV2(h.ctx, &enginepb.PrepareStatementV2Request{SessionId: sid, Catalog: "sample", Schema: "data",
			QueryString: "SELECT current_schema() || CAST(count(*) AS VARCHAR) FROM people"})
		if err != nil {
			t.Fatal(err)
		}
		h.execute(t, sid, r.GetQueryId())
		if c := h.batch(t, sid, r.GetQueryId()); c == nil || string(c.Vectors[0].BytesAt(0)) != "data2" {
			t.Fatal("query in sample.data")
		}
		h.clear(t, sid, r.GetQueryId())
	}

	// Interrupted queries (cancelled mid-execution, or cleared between
	// batches) do not disturb the queries after them.
	for i := range 3 {
		qid := h.prepare(t, sid, hugeQuery)
		errc := make(chan error, 1)
		go func() {
			_, err := h.c.ExecuteStatement(h.ctx, &enginepb.ExecuteStatementRequest{SessionId: sid, QueryId: qid})
			errc <- err
		}()
		eventually(t, 5*time.Second, "query running", func() bool { return queryState(h.e, qid) == qRunning })
		h.stopQuery(t, sid, qid)
		wantCode(t, <-errc, codes.Canceled, "")
		qid = h.prepare(t, sid, "SELECT * FROM range(100000)")
		h.execute(t, sid, qid)
		h.batch(t, sid, qid)
		h.clear(t, sid, qid)
		for j := range 3 {
			if got := h.text1(t, sid, fmt.Sprintf("SELECT CAST(%d AS VARCHAR)", i*10+j)); got != fmt.Sprint(i*10+j) {
				t.Fatalf("got %q", got)
			}
		}
	}
	if n := db.openConns(); n != 0 {
		t.Fatalf("%d connections in use after the queries", n)
	}
}
