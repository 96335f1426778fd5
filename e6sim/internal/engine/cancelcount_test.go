//go:build cgo

package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/e6go/e6data/internal/enginepb"
)

// hugeQuery blocks executeStatement for hours unless interrupted.
const hugeQuery = "SELECT count(*) FROM range(10000000000) t1, range(1000) t2"

// stopQuery sends what the connector sends for a query whose caller's
// context ended: cancelQuery, then clearOrCancelQuery.
func (h *harness) stopQuery(t *testing.T, sid, qid string) {
	t.Helper()
	if _, err := h.c.CancelQuery(h.ctx, &enginepb.CancelQueryRequest{SessionId: sid, QueryId: qid}); err != nil {
		t.Fatal(err)
	}
	h.clear(t, sid, qid)
}

func wantCancels(t *testing.T, e *Engine, n int64) {
	t.Helper()
	if s := e.Stats(); s.Cancels != n {
		t.Fatalf("Cancels = %d, want %d (stats %+v)", s.Cancels, n, s)
	}
}

// A cancelQuery that interrupts executeStatement, then clearOrCancelQuery:
// one cancel.
func TestCancelDuringExecuteCountsOnce(t *testing.T) {
	h := serve(t, testDB(t), Options{})
	sid := h.auth(t)
	qid := h.prepare(t, sid, hugeQuery)
	errc := make(chan error, 1)
	go func() {
		_, err := h.c.ExecuteStatement(h.ctx, &enginepb.ExecuteStatementRequest{SessionId: sid, QueryId: qid})
		errc <- err
	}()
	eventually(t, 5*time.Second, "query running", func() bool { return queryState(h.e, qid) == qRunning })
	if _, err := h.c.CancelQuery(h.ctx, &enginepb.CancelQueryRequest{SessionId: sid, QueryId: qid}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, <-errc, codes.Canceled, "query cancelled")
	h.clear(t, sid, qid)
	wantCancels(t, h.e, 1)
}

// The connector's sequence when a caller's context ends while
// executeStatement runs: the call is cancelled (and interrupts the query)
// before cancelQuery and clearOrCancelQuery arrive. The query was stopped
// before its last row: one cancel.
func TestAbandonedExecuteCountsOneCancel(t *testing.T) {
	db := testDB(t)
	h := serve(t, db, Options{})
	sid := h.auth(t)
	qid := h.prepare(t, sid, hugeQuery)
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := h.c.ExecuteStatement(ctx, &enginepb.ExecuteStatementRequest{SessionId: sid, QueryId: qid})
		errc <- err
	}()
	eventually(t, 5*time.Second, "query running", func() bool { return queryState(h.e, qid) == qRunning })
	cancel()
	if err := <-errc; status.Code(err) != codes.Canceled {
		t.Fatalf("execute: %v, want CANCELLED", err)
	}
	eventually(t, 5*time.Second, "the engine to notice the call ended", func() bool {
		return queryState(h.e, qid) == qFailed && db.openConns() == 0
	})
	h.stopQuery(t, sid, qid)
	wantCancels(t, h.e, 1)
}

// The same while getNextResultBatch is blocked inside DuckDB.
func TestAbandonedFetchCountsOneCancel(t *testing.T) {
	db := testDB(t)
	// A million rows stream at once (execute returns once DuckDB's
	// streaming buffer is full), then finding more takes hours: the first
	// batch call, which wants two million rows, blocks inside DuckDB.
	h := serve(t, db, Options{ChunkRows: 2000000})
	sid := h.auth(t)
	qid := h.prepare(t, sid, "SELECT range FROM range(1000000000000) WHERE range < 1000000 OR range > 999999999990")
	h.execute(t, sid, qid)
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := h.c.GetNextResultBatch(ctx, &enginepb.GetNextResultBatchRequest{SessionId: sid, QueryId: qid})
		errc <- err
	}()
	h.e.mu.Lock()
	q := h.e.queries[qid]
	h.e.mu.Unlock()
	eventually(t, 5*time.Second, "a batch call blocked in DuckDB", func() bool {
		if q.busy.Load() != 1 || q.mu.TryLock() {
			if q.busy.Load() == 1 {
				q.mu.Unlock()
			}
			return false
		}
		return true
	})
	cancel()
	if err := <-errc; status.Code(err) != codes.Canceled {
		t.Fatalf("batch: %v, want CANCELLED", err)
	}
	eventually(t, 5*time.Second, "the engine to notice the call ended", func() bool {
		return queryState(h.e, qid) == qFailed && db.openConns() == 0
	})
	h.stopQuery(t, sid, qid)
	wantCancels(t, h.e, 1)
}

// cancelQuery and clearOrCancelQuery arriving at once for running queries
// count each query once.
func TestConcurrentCancelAndClearCountOnce(t *testing.T) {
	h := serve(t, testDB(t), Options{})
	sid := h.auth(t)
	const n = 10
	for range n {
		qid := h.prepare(t, sid, hugeQuery)
		errc := make(chan error, 1)
		go func() {
			_, err := h.c.ExecuteStatement(h.ctx, &enginepb.ExecuteStatementRequest{SessionId: sid, QueryId: qid})
			errc <- err
		}()
		eventually(t, 5*time.Second, "query running", func() bool { return queryState(h.e, qid) == qRunning })
		var wg sync.WaitGroup
		wg.Go(func() {
			if _, err := h.c.CancelQuery(h.ctx, &enginepb.CancelQueryRequest{SessionId: sid, QueryId: qid}); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if _, err := h.c.ClearOrCancelQuery(h.ctx, &enginepb.ClearOrCancelQueryRequest{SessionId: sid, QueryId: qid}); err != nil {
				t.Error(err)
			}
		})
		wg.Wait()
		if err := <-errc; status.Code(err) != codes.Canceled {
			t.Fatalf("execute: %v, want CANCELLED", err)
		}
	}
	wantCancels(t, h.e, n)
}

// Queries that ended (every row produced, or failed) or were never
// executed and are then cleared are not cancels; a prepared query that is
// cancelled is.
func TestCancelsOnlyCountStoppedQueries(t *testing.T) {
	h := serve(t, testDB(t), Options{})
	sid := h.auth(t)
	h.query(t, sid, "SELECT 1")
	qid := h.prepare(t, sid, "SELECT 1")
	h.stopQuery(t, sid, qid) // prepared, not executed: a cancel
	wantCancels(t, h.e, 1)
	qid = h.prepare(t, sid, "SELECT 1")
	h.clear(t, sid, qid) // never executed, cleared
	qid = h.prepare(t, sid, "SELECT CAST('x' AS INTEGER) FROM range(3)")
	_, err := h.c.ExecuteStatementV2(h.ctx, &enginepb.ExecuteStatementV2Request{SessionId: sid, QueryId: qid})
	if err == nil {
		_, err = h.c.GetNextResultBatch(h.ctx, &enginepb.GetNextResultBatchRequest{SessionId: sid, QueryId: qid})
	}
	wantCode(t, err, codes.InvalidArgument, "")
	h.stopQuery(t, sid, qid) // failed
	wantCancels(t, h.e, 1)
}
