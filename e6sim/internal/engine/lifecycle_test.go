//go:build cgo

package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/e6go/e6data/internal/enginepb"
	"github.com/e6go/e6data/internal/wire"
)

// openConns is the number of DuckDB connections currently handed out.
func (db *DB) openConns() int {
	db.mu.Lock()
	defer db.mu.Unlock()
	return len(db.conns)
}

func queryState(e *Engine, qid string) int32 {
	e.mu.Lock()
	q := e.queries[qid]
	e.mu.Unlock()
	if q == nil {
		return -1
	}
	return q.state.Load()
}

func TestNumbersStreaming(t *testing.T) {
	db := testDB(t)
	h := serve(t, db, Options{})
	sid := h.auth(t)
	qid := h.prepare(t, sid, "SELECT * FROM numbers;") // one trailing ';' is tolerated
	h.execute(t, sid, qid)
	m := h.metadata(t, sid, qid)
	if m.RowCount != -1 {
		t.Fatalf("rowCount before the end: %d, want -1", m.RowCount)
	}
	want := []wire.Field{{Name: "id", Type: "LONG"}, {Name: "x", Type: "DOUBLE"}, {Name: "s", Type: "STRING"}, {Name: "g", Type: "INTEGER"}}
	for i, f := range want {
		if m.Fields[i] != f {
			t.Fatalf("field %d = %+v, want %+v", i, m.Fields[i], f)
		}
	}
	if n := db.openConns(); n != 1 {
		t.Fatalf("%d connections open while streaming, want 1", n)
	}
	var batches, rows int
	var sumID, sumG int64
	var sumX float64
	for {
		c := h.batch(t, sid, qid)
		if c == nil {
			break
		}
		batches++
		if c.Rows != 10000 {
			t.Fatalf("batch %d has %d rows", batches, c.Rows)
		}
		id, x, s, g := &c.Vectors[0], &c.Vectors[1], &c.Vectors[2], &c.Vectors[3]
		for r := 0; r < int(c.Rows); r++ {
			if id.Int64(r) != int64(rows) {
				t.Fatalf("row %d has id %d", rows, id.Int64(r))
			}
			sumID += id.Int64(r)
			sumX += x.Float64(r)
			sumG += int64(g.Int32(r))
			if r == 7 && string(s.BytesAt(r)) != fmt.Sprintf("row-%d", rows) {
				t.Fatalf("row %d: s = %q", rows, s.BytesAt(r))
			}
			rows++
		}
		if batches == 50 {
			st, err := h.c.Status(h.ctx, &enginepb.StatusRequest{SessionId: sid, QueryId: qid})
			if err != nil || !st.GetStatus() || st.GetRowCount() != 500000 {
				t.Fatalf("status mid-stream: %v %v", st, err)
			}
		}
	}
	if batches != 100 || rows != 1000000 {
		t.Fatalf("%d batches, %d rows", batches, rows)
	}
	if sumID != 499999500000 || sumX != 249999750000 || sumG != 4500000 {
		t.Fatalf("sums id %d x %v g %d", sumID, sumX, sumG)
	}
	for range 3 { // after the end: empty again
		if c := h.batch(t, sid, qid); c != nil {
			t.Fatal("batch after the end")
		}
	}
	if m := h.metadata(t, sid, qid); m.RowCount != 1000000 {
		t.Fatalf("rowCount after the end: %d", m.RowCount)
	}
	if n := db.openConns(); n != 0 {
		t.Fatalf("%d connections still open after the end", n)
	}
	st, err := h.c.Status(h.ctx, &enginepb.StatusRequest{SessionId: sid, QueryId: qid})
	if err != nil || !st.GetStatus() || st.GetRowCount() != 1000000 {
		t.Fatalf("status after the end: %v %v", st, err)
	}
	h.clear(t, sid, qid)
}

func TestEmptyResult(t *testing.T) {
	h := serve(t, testDB(t), Options{})
	sid := h.auth(t)
	m, cs := h.query(t, sid, "SELECT * FROM numbers WHERE id < 0")
	if len(cs) != 0 || len(m.Fields) != 4 {
		t.Fatalf("%d batches, %d fields", len(cs), len(m.Fields))
	}
}

// TestMemoryFlat fetches 10M rows of LONG+DOUBLE+STRING and samples the Go
// heap (and the process RSS, which includes DuckDB) while doing so.
func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("10M rows")
	}
	h := serve(t, testDB(t), Options{})
	sid := h.auth(t)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	rss0 := rssKB()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	})
	qid := h.prepare(t, sid, "SELECT range AS id, range * 0.5 AS x, 'row-' || range AS s FROM range(10000000)")
	h.execute(t, sid, qid)
	rows := 0
	start := time.Now()
	for {
		r, err := h.c.GetNextResultBatch(h.ctx, &enginepb.GetNextResultBatchRequest{SessionId: sid, QueryId: qid})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.GetResultBatch()) == 0 {
			break
		}
		var c wire.Chunk
		if err := wire.DecodeChunk(r.GetResultBatch(), &c); err != nil {
			t.Fatal(err)
		}
		rows += int(c.Rows)
	}
	took := time.Since(start)
	close(stop)
	wg.Wait()
	h.clear(t, sid, qid)
	peakMB := float64(peak.Load()) / (1 << 20)
	rssGrowMB := float64(peakRSSKB()-rss0) / 1024
	t.Logf("10M rows in %v; Go heap: %.1f MB before, peak %.1f MB; process peak RSS grew by %.1f MB",
		took, float64(base.HeapAlloc)/(1<<20), peakMB, rssGrowMB)
	if rows != 10000000 {
		t.Fatalf("%d rows", rows)
	}
	// Materialising 10M rows would take far more than this (the three
	// columns alone are ~300 MB as Go values).
	if peakMB > 128 {
		t.Fatalf("Go heap peaked at %.1f MB", peakMB)
	}
	if rssGrowMB > 512 {
		t.Fatalf("process RSS grew by %.1f MB", rssGrowMB)
	}
}

func procStatusKB(key string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key+":"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb
		}
	}
	return 0
}

func rssKB() int64     { return procStatusKB("VmRSS") }
func peakRSSKB() int64 { return procStatusKB("VmHWM") }

// longQuery runs for minutes unless interrupted.
const longQuery = "SELECT sum(a.range * b.range) AS s FROM range(1000000) a CROSS JOIN range(1000000) b"

func TestCancelInterruptsExecution(t *testing.T) {
	db := testDB(t)
	h := serve(t, db, Options{})
	sid := h.auth(t)
	qid := h.prepare(t, sid, longQuery)
	errc := make(chan error, 1)
	go func() {
		_, err := h.c.ExecuteStatement(h.ctx, &enginepb.ExecuteStatementRequest{SessionId: sid, QueryId: qid})
		errc <- err
	}()
	eventually(t, 5*time.Second, "query running", func() bool { return queryState(h.e, qid) == qRunning })
	// Give DuckDB a moment to be deep in the cross join; the query would
	// run for minutes.
	select {
	case err := <-errc:
		t.Fatalf("execute returned before the cancel: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	start := time.Now()
	if _, err := h.c.CancelQuery(h.ctx, &enginepb.CancelQueryRequest{SessionId: sid, QueryId: qid}); err != nil {
		t.Fatal(err)
	}
	err := <-errc
	took := time.Since(start)
	t.Logf("cancel took effect in %v", took)
	wantCode(t, err, codes.Canceled, "query cancelled")
	if took > time.Second {
		t.Fatalf("cancel took %v", took)
	}
	_, err = h.c.GetNextResultBatch(h.ctx, &enginepb.GetNextResultBatchRequest{SessionId: sid, QueryId: qid})
	wantCode(t, err, codes.Canceled, "query cancelled")
	st, err := h.c.Status(h.ctx, &enginepb.StatusRequest{SessionId: sid, QueryId: qid})
	if err != nil || st.GetStatus() {
		t.Fatalf("status after cancel: %v %v", st, err)
	}
	if n := db.openConns(); n != 0 {
		t.Fatalf("%d connections open after cancel", n)
	}
	if s := h.e.Stats(); s.Cancels != 1 {
		t.Fatalf("stats %+v", s)
	}
	// Cancelling again, and clearing, are fine.
	if _, err := h.c.CancelQuery(h.ctx, &enginepb.CancelQueryRequest{SessionId: sid, QueryId: qid}); err != nil {
		t.Fatal(err)
	}
	h.clear(t, sid, qid)
}

func TestCancelInterruptsFetch(t *testing.T) {
	db := testDB(t)
	h := serve(t, db, Options{})
	sid := h.auth(t)
	// Many rows stream at once, then finding the next one takes forever:
	// a later batch call blocks inside DuckDB.
	qid := h.prepare(t, sid, "SELECT range FROM range(1000000000000) WHERE range < 1000000 OR range > 999999999990")
	h.execute(t, sid, qid)
	errc := make(chan error, 1)
	go func() {
		for {
			r, err := h.c.GetNextResultBatch(h.ctx, &enginepb.GetNextResultBatchRequest{SessionId: sid, QueryId: qid})
			if err != nil || len(r.GetResultBatch()) == 0 {
				errc <- err
				return
			}
		}
	}()
	h.e.mu.Lock()
	q := h.e.queries[qid]
	h.e.mu.Unlock()
	// A batch call is blocked in DuckDB when rows have stopped arriving for
	// far longer (ten times) than the longest pause between batches so far,
	// while a call holds the query. The bar is measured, so that a loaded
	// machine's slower batches do not pass for a blocked call.
	lastRows, since, maxGap := int64(-1), time.Now(), time.Duration(0)
	eventually(t, time.Minute, "a batch call blocked in DuckDB", func() bool {
		select {
		case err := <-errc:
			t.Fatalf("fetching ended after %d rows: %v", q.rows.Load(), err)
		default:
		}
		if rows := q.rows.Load(); rows != lastRows {
			if lastRows >= 0 {
				maxGap = max(maxGap, time.Since(since))
			}
			lastRows, since = rows, time.Now()
		}
		if lastRows < 100000 || time.Since(since) < max(200*time.Millisecond, 10*maxGap) {
			return false
		}
		if q.mu.TryLock() {
			q.mu.Unlock()
			return false
		}
		return true // rows stopped arriving while a batch call holds the query
	})
	start := time.Now()
	h.clear(t, sid, qid) // clearOrCancelQuery cancels a running query
	err := <-errc
	took := time.Since(start)
	t.Logf("clear interrupted the fetch in %v", took)
	wantCode(t, err, codes.Canceled, "query cleared")
	if took > time.Minute {
		t.Fatalf("clear took %v (the fetch was not interrupted)", took)
	}
	if n := db.openConns(); n != 0 {
		t.Fatalf("%d connections open after clear", n)
	}
	_, err = h.c.GetNextResultBatch(h.ctx, &enginepb.GetNextResultBatchRequest{SessionId: sid, QueryId: qid})
	wantCode(t, err, codes.NotFound, "not found")
	if s := h.e.Stats(); s.Cancels != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestClientDeadlineInterruptsQuery(t *testing.T) {
	db := testDB(t)
	h := serve(t, db, Options{})
	sid := h.auth(t)
	qid := h.prepare(t, sid, longQuery)
	ctx, cancel := context.WithTimeout(h.ctx, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := h.c.ExecuteStatement(ctx, &enginepb.ExecuteStatementRequest{SessionId: sid, QueryId: qid})
	wantCode(t, err, codes.DeadlineExceeded, "")
	eventually(t, 2*time.Second, "query interrupted", func() bool { return queryState(h.e, qid) == qFailed && db.openConns() == 0 })
	t.Logf("interrupted after %v", time.Since(start))
	h.clear(t, sid, qid)
}

func TestClearIsIdempotent(t *testing.T) {
	h := serve(t, testDB(t), Options{})
	s1 := h.auth(t)
	qid := h.prepare(t, s1, "SELECT 1")
	h.execute(t, s1, qid)
	for h.batch(t, s1, qid) != nil {
	}
	h.clear(t, s1, qid)
	h.clear(t, s1, qid)
	s2 := h.auth(t) // a newer session of the same user
	h.clear(t, s2, qid)
	if _, err := h.c.Clear(h.ctx, &enginepb.ClearRequest{SessionId: s2, QueryId: qid}); err != nil {
		t.Fatal(err)
	}
	h.clear(t, s2, "no-such-query")
	h.clear(t, s2, "")
	if s := h.e.Stats(); s.OpenQueries != 0 || s.Cancels != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestReclaimIdleQueries(t *testing.T) {
	db := testDB(t)
	h := serve(t, db, Options{QueryIdleTimeout: 500 * time.Millisecond})
	sid := h.auth(t)
	streaming := h.prepare(t, sid, "SELECT * FROM numbers")
	h.execute(t, sid, streaming)
	if c := h.batch(t, sid, streaming); c == nil {
		t.Fatal("no batch")
	}
	h.prepare(t, sid, "SELECT 1") // never executed
	if db.openConns() != 1 {
		t.Fatalf("%d connections", db.openConns())
	}
	eventually(t, 5*time.Second, "queries reclaimed", func() bool {
		s := h.e.Stats()
		return s.Reclaimed == 2 && s.OpenQueries == 0
	})
	if n := db.openConns(); n != 0 {
		t.Fatalf("%d connections open after reclaim", n)
	}
	_, err := h.c.GetNextResultBatch(h.ctx, &enginepb.GetNextResultBatchRequest{SessionId: sid, QueryId: streaming})
	wantCode(t, err, codes.NotFound, "not found")
	h.clear(t, sid, streaming)
}

func TestActiveQueryIsNotReclaimed(t *testing.T) {
	h := serve(t, testDB(t), Options{QueryIdleTimeout: 500 * time.Millisecond})
	sid := h.auth(t)
	qid := h.prepare(t, sid, "SELECT * FROM range(1000000000)")
	h.execute(t, sid, qid)
	// Keep fetching for longer than the idle timeout: each call touches it.
	deadline := time.Now().Add(1200 * time.Millisecond)
	for time.Now().Before(deadline) {
		if c := h.batch(t, sid, qid); c == nil {
			t.Fatal("ended early")
		}
	}
	if s := h.e.Stats(); s.Reclaimed != 0 {
		t.Fatalf("active query reclaimed: %+v", s)
	}
	h.clear(t, sid, qid)
}

func TestSessionExpiry(t *testing.T) {
	h := serve(t, testDB(t), Options{SessionTTL: 700 * time.Millisecond})
	sid := h.auth(t)
	qid := h.prepare(t, sid, "SELECT * FROM numbers")
	h.execute(t, sid, qid)
	// Poll with status, which does not consume the result (fetching
	// batches until the expiry could reach the end of it first).
	eventually(t, 5*time.Second, "session expired", func() bool {
		_, err := h.c.Status(h.ctx, &enginepb.StatusRequest{SessionId: sid, QueryId: qid})
		return err != nil
	})
	_, err := h.c.GetNextResultBatch(h.ctx, &enginepb.GetNextResultBatchRequest{SessionId: sid, QueryId: qid})
	wantCode(t, err, codes.Internal, "Access denied: session expired")
	_, err = h.c.PrepareStatement(h.ctx, &enginepb.PrepareStatementRequest{SessionId: sid, QueryString: "SELECT 1"})
	wantCode(t, err, codes.Internal, "Access denied")
	if !h.e.OwnsSession(sid) {
		t.Fatal("expired session forgotten at once")
	}
	// Re-authenticate and continue the same query on the new session.
	s2 := h.auth(t)
	if c := h.batch(t, s2, qid); c == nil || c.Rows != 10000 {
		t.Fatal("query did not continue on the new session")
	}
	h.clear(t, s2, qid)
}

func TestExpireSessions(t *testing.T) {
	h := serve(t, testDB(t), Options{})
	s1 := h.auth(t)
	qid := h.prepare(t, s1, "SELECT * FROM numbers")
	h.execute(t, s1, qid)
	h.batch(t, s1, qid)
	h.e.ExpireSessions()
	_, err := h.c.GetNextResultBatch(h.ctx, &enginepb.GetNextResultBatchRequest{SessionId: s1, QueryId: qid})
	wantCode(t, err, codes.Internal, "Access denied: session expired")
	if s := h.e.Stats(); s.Sessions != 0 || s.OpenQueries != 1 {
		t.Fatalf("stats %+v", s)
	}
	s2 := h.auth(t)
	c := h.batch(t, s2, qid)
	if c == nil || c.Vectors[0].Int64(0) != 10000 {
		t.Fatal("query did not continue where it was")
	}
	h.clear(t, s2, qid)
}

func TestOtherUsersQueriesAreInvisible(t *testing.T) {
	h := serve(t, testDB(t), Options{})
	alice := h.auth(t)
	r, err := h.c.Authenticate(h.ctx, &enginepb.AuthenticateRequest{User: "bob", Password: "x"})
	if err != nil {
		t.Fatal(err)
	}
	bob := r.GetSessionId()
	qid := h.prepare(t, alice, "SELECT 1")
	_, err = h.c.ExecuteStatement(h.ctx, &enginepb.ExecuteStatementRequest{SessionId: bob, QueryId: qid})
	wantCode(t, err, codes.NotFound, "not found")
	h.clear(t, bob, qid) // a no-op for bob
	h.execute(t, alice, qid)
	h.clear(t, alice, qid)
}

func TestBadCredentials(t *testing.T) {
	h := serve(t, testDB(t), Options{Users: Users{"alice@example.com": "s3cret"}})
	for _, c := range []struct{ user, token string }{
		{"alice@example.com", "wrong"},
		{"alice@example.com", ""},
		{"", "s3cret"},
		{"mallory", "s3cret"},
		{"alice@example.com", strings.Repeat("x", 10000)},
	} {
		_, err := h.c.Authenticate(h.ctx, &enginepb.AuthenticateRequest{User: c.user, Password: c.token})
		wantCode(t, err, codes.Unauthenticated, "Access denied")
	}
	r, err := h.c.Authenticate(h.ctx, &enginepb.AuthenticateRequest{User: "alice@example.com", Password: "s3cret"})
	if err != nil || r.GetSessionId() == "" || r.GetEngineIP() != "127.0.0.1" {
		t.Fatalf("%v %v", r, err)
	}
	// Without a users list, any non-empty pair is accepted, empty ones not.
	h2 := serve(t, testDB(t), Options{Name: "green"})
	_, err = h2.c.Authenticate(h2.ctx, &enginepb.AuthenticateRequest{User: "anyone", Password: ""})
	wantCode(t, err, codes.Unauthenticated, "Access denied")
	r, err = h2.c.Authenticate(h2.ctx, &enginepb.AuthenticateRequest{User: "anyone", Password: "anything"})
	if err != nil || !strings.HasPrefix(r.GetSessionId(), "green-s-") {
		t.Fatalf("%v %v", r, err)
	}
}

func TestUnknownSessionAndQuery(t *testing.T) {
	h := serve(t, testDB(t), Options{})
	sid := h.auth(t)
	_, err := h.c.PrepareStatementV2(h.ctx, &enginepb.PrepareStatementV2Request{SessionId: "blue-s-forged", QueryString: "SELECT 1"})
	wantCode(t, err, codes.Internal, "Access denied")
	_, err = h.c.PrepareStatementV2(h.ctx, &enginepb.PrepareStatementV2Request{QueryString: "SELECT 1"})
	wantCode(t, err, codes.Internal, "Access denied")
	_, err = h.c.GetSchemaNamesV2(h.ctx, &enginepb.GetSchemaNamesV2Request{SessionId: "nope"})
	wantCode(t, err, codes.Internal, "Access denied")
	const unknown = "blue-q-UNKNOWN"
	_, err = h.c.ExecuteStatement(h.ctx, &enginepb.ExecuteStatementRequest{SessionId: sid, QueryId: unknown})
	wantCode(t, err, codes.NotFound, unknown)
	_, err = h.c.GetResultMetadata(h.ctx, &enginepb.GetResultMetadataRequest{SessionId: sid, QueryId: unknown})
	wantCode(t, err, codes.NotFound, "not found")
	_, err = h.c.GetNextResultBatch(h.ctx, &enginepb.GetNextResultBatchRequest{SessionId: sid, QueryId: unknown})
	wantCode(t, err, codes.NotFound, "not found")
	_, err = h.c.Status(h.ctx, &enginepb.StatusRequest{SessionId: sid, QueryId: unknown})
	wantCode(t, err, codes.NotFound, "not found")
	_, err = h.c.Explain(h.ctx, &enginepb.ExplainRequest{SessionId: sid, QueryId: unknown})
	wantCode(t, err, codes.NotFound, "not found")
	_, err = h.c.ExplainAnalyze(h.ctx, &enginepb.ExplainAnalyzeRequest{SessionId: sid, QueryId: unknown})
	wantCode(t, err, codes.NotFound, "not found")
	_, err = h.c.GetDynamicParams(h.ctx, &enginepb.GetDynamicParamsRequest{SessionId: sid, QueryId: unknown})
	wantCode(t, err, codes.NotFound, "not found")
	if _, err := h.c.CancelQuery(h.ctx, &enginepb.CancelQueryRequest{SessionId: sid, QueryId: unknown}); err != nil {
		t.Fatal(err)
	}
	// Metadata and batches before execute.
	qid := h.prepare(t, sid, "SELECT 1")
	_, err = h.c.GetResultMetadata(h.ctx, &enginepb.GetResultMetadataRequest{SessionId: sid, QueryId: qid})
	wantCode(t, err, codes.FailedPrecondition, "not been executed")
	_, err = h.c.GetNextResultBatch(h.ctx, &enginepb.GetNextResultBatchRequest{SessionId: sid, QueryId: qid})
	wantCode(t, err, codes.FailedPrecondition, "not been executed")
	h.clear(t, sid, qid)
}

func TestMalformedSQL(t *testing.T) {
	db := testDB(t)
	h := serve(t, db, Options{})
	sid := h.auth(t)
	for _, c := range []struct{ sql, substr string }{
		{"SELEC 1", "syntax error"},
		{"SELECT * FROM no_such_table", "no_such_table"},
		{"SELECT 1; SELECT 2", "multiple statements"},
		{"", "empty query"},
		{"  ;  ", "empty query"},
		{"SELECT '" + strings.Repeat("x", 17<<20) + "'", "limit"},
	} {
		_, err := h.c.PrepareStatementV2(h.ctx, &enginepb.PrepareStatementV2Request{SessionId: sid, QueryString: c.sql})
		wantCode(t, err, codes.InvalidArgument, c.substr)
	}
	_, err := h.c.PrepareStatementV2(h.ctx, &enginepb.PrepareStatementV2Request{SessionId: sid, Catalog: "nope", QueryString: "SELECT 1"})
	wantCode(t, err, codes.InvalidArgument, "nope")
	_, err = h.c.PrepareStatement(h.ctx, &enginepb.PrepareStatementRequest{SessionId: sid, Schema: "nope", QueryString: "SELECT 1"})
	wantCode(t, err, codes.InvalidArgument, "nope")
	// An error found while running: the execute or the batch carries it.
	qid := h.prepare(t, sid, "SELECT CAST(s AS INTEGER) FROM numbers")
	_, err = h.c.ExecuteStatement(h.ctx, &enginepb.ExecuteStatementRequest{SessionId: sid, QueryId: qid})
	if err == nil {
		_, err = h.c.GetNextResultBatch(h.ctx, &enginepb.GetNextResultBatchRequest{SessionId: sid, QueryId: qid})
	}
	wantCode(t, err, codes.InvalidArgument, "Conversion Error")
	st, err := h.c.Status(h.ctx, &enginepb.StatusRequest{SessionId: sid, QueryId: qid})
	if err != nil || st.GetStatus() {
		t.Fatalf("status of a failed query: %v %v", st, err)
	}
	h.clear(t, sid, qid)
	// A huge value comes back in several batches rather than one giant one.
	m, cs := h.query(t, sid, "SELECT repeat('x', 10000000) AS big FROM range(8)")
	total := 0
	for _, c := range cs {
		total += int(c.Rows)
	}
	if len(m.Fields) != 1 || total != 8 || len(cs) < 2 {
		t.Fatalf("%d rows in %d batches", total, len(cs))
	}
	if db.openConns() != 0 || h.e.Stats().OpenQueries != 0 {
		t.Fatal("leaked a connection or query")
	}
}

func TestReexecute(t *testing.T) {
	h := serve(t, testDB(t), Options{})
	sid := h.auth(t)
	qid := h.prepare(t, sid, "SELECT * FROM customers ORDER BY id")
	h.execute(t, sid, qid)
	h.batch(t, sid, qid)
	h.execute(t, sid, qid) // starts over
	c := h.batch(t, sid, qid)
	if c == nil || c.Rows != 10 || c.Vectors[0].Int32(0) != 1 {
		t.Fatal("re-execution did not start over")
	}
	h.clear(t, sid, qid)
}

func TestConcurrentSessions(t *testing.T) {
	db := testDB(t)
	h := serve(t, db, Options{})
	const n = 1000
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- func() error {
				r, err := h.c.Authenticate(h.ctx, &enginepb.AuthenticateRequest{User: fmt.Sprintf("user%d", i%50), Password: "t"})
				if err != nil {
					return err
				}
				sid := r.GetSessionId()
				p, err := h.c.PrepareStatementV2(h.ctx, &enginepb.PrepareStatementV2Request{SessionId: sid, Catalog: "sample", Schema: "main",
					QueryString: "SELECT id, name FROM customers WHERE id = ?"})
				if err != nil {
					return err
				}
				want := int32(i%10 + 1)
				if _, err := h.c.ExecuteStatementV2(h.ctx, &enginepb.ExecuteStatementV2Request{SessionId: sid, QueryId: p.GetQueryId(),
					Params: []*enginepb.ParameterValue{{Index: 1, Type: "INTEGER", Value: fmt.Sprint(want)}}}); err != nil {
					return err
				}
				b, err := h.c.GetNextResultBatch(h.ctx, &enginepb.GetNextResultBatchRequest{SessionId: sid, QueryId: p.GetQueryId()})
				if err != nil {
					return err
				}
				var c wire.Chunk
				if err := wire.DecodeChunk(b.GetResultBatch(), &c); err != nil {
					return err
				}
				if c.Rows != 1 || c.Vectors[0].Int32(0) != want {
					return fmt.Errorf("session %d: wrong row", i)
				}
				_, err = h.c.ClearOrCancelQuery(h.ctx, &enginepb.ClearOrCancelQueryRequest{SessionId: sid, QueryId: p.GetQueryId()})
				return err
			}()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if s := h.e.Stats(); s.Sessions != n || s.OpenQueries != 0 || s.QueriesStarted != n {
		t.Fatalf("stats %+v", s)
	}
	if db.openConns() != 0 {
		t.Fatal("connections leaked")
	}
}

func TestMaxOpenQueries(t *testing.T) {
	h := serve(t, testDB(t), Options{MaxOpenQueries: 2})
	sid := h.auth(t)
	a := h.prepare(t, sid, "SELECT 1")
	h.prepare(t, sid, "SELECT 2")
	_, err := h.c.PrepareStatementV2(h.ctx, &enginepb.PrepareStatementV2Request{SessionId: sid, QueryString: "SELECT 3"})
	wantCode(t, err, codes.ResourceExhausted, "too many open queries")
	h.clear(t, sid, a)
	h.prepare(t, sid, "SELECT 3")
}

func TestResetAndClose(t *testing.T) {
	db := testDB(t)
	h := serve(t, db, Options{})
	sid := h.auth(t)
	qid := h.prepare(t, sid, "SELECT * FROM numbers")
	h.execute(t, sid, qid)
	h.batch(t, sid, qid)
	h.e.Reset()
	if s := h.e.Stats(); s.Sessions != 0 || s.OpenQueries != 0 {
		t.Fatalf("after reset: %+v", s)
	}
	if h.e.OwnsSession(sid) || db.openConns() != 0 {
		t.Fatal("reset left state behind")
	}
	_, err := h.c.GetNextResultBatch(h.ctx, &enginepb.GetNextResultBatchRequest{SessionId: sid, QueryId: qid})
	wantCode(t, err, codes.Internal, "Access denied")
	sid = h.auth(t) // still serving
	h.query(t, sid, "SELECT 1")
	h.e.Close()
	h.e.Close()
	_, err = h.c.Authenticate(h.ctx, &enginepb.AuthenticateRequest{User: "a", Password: "b"})
	wantCode(t, err, codes.Unavailable, "closed")
	_, err = h.c.HealthCheck(h.ctx, &enginepb.HealthCheckRequest{})
	wantCode(t, err, codes.Unavailable, "closed")
}

func TestHealthCheck(t *testing.T) {
	h := serve(t, testDB(t), Options{})
	if _, err := h.c.HealthCheck(h.ctx, &enginepb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
}

func TestDataDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "people.csv"), []byte("name,age\nann,31\nbob,42\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ignored.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Make a parquet file with the shared database.
	h0 := serve(t, testDB(t), Options{})
	s0 := h0.auth(t)
	h0.query(t, s0, "COPY (SELECT range AS n FROM range(5)) TO '"+filepath.Join(dir, "five.parquet")+"' (FORMAT parquet)")

	db, err := OpenDB(t.Context(), DBOptions{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := serve(t, db, Options{})
	sid := h.auth(t)
	tables, err := h.c.GetTablesV2(h.ctx, &enginepb.GetTablesV2Request{SessionId: sid, Catalog: "sample", Schema: "data"})
	if err != nil || strings.Join(tables.GetTables(), ",") != "five,people" {
		t.Fatalf("tables %v %v", tables.GetTables(), err)
	}
	_, cs := h.query(t, sid, "SELECT sum(age) AS a FROM sample.data.people")
	if value(&cs[0].Vectors[0], 0) != "73" {
		t.Fatalf("csv view: %v", value(&cs[0].Vectors[0], 0))
	}
	_, cs = h.query(t, sid, "SELECT sum(n) FROM data.five")
	if value(&cs[0].Vectors[0], 0) != "10" {
		t.Fatalf("parquet view: %v", value(&cs[0].Vectors[0], 0))
	}
	if _, err := OpenDB(t.Context(), DBOptions{DataDir: filepath.Join(dir, "missing")}); err == nil {
		t.Fatal("missing data dir accepted")
	}
}

func TestLoadUsers(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, fmt.Sprintf("u%d", time.Now().UnixNano()))
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	u, err := LoadUsers(write("# users\n\nalice tok1\n  bob\ttok2  \n"))
	if err != nil || len(u) != 2 || u["bob"] != "tok2" {
		t.Fatalf("%v %v", u, err)
	}
	if !u.Check("alice", "tok1") || u.Check("alice", "tok2") || u.Check("carol", "tok1") || u.Check("alice", "") {
		t.Fatal("Check")
	}
	for _, c := range []struct{ text, want string }{
		{"alice tok1\nbob\n", "line 2"},
		{"alice tok1 extra\n", "line 1"},
		{"# nothing\n", "no user"},
		{"a 1\na 2\n", "line 2: user \"a\" defined twice"},
	} {
		if _, err := LoadUsers(write(c.text)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.text, err, c.want)
		}
	}
	if _, err := LoadUsers(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("missing file accepted")
	}
	if !(Users(nil)).Check("x", "y") || (Users(nil)).Check("", "y") {
		t.Fatal("nil Users")
	}
}
