package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
)

// newTable creates an empty table of keys on srv's engine.
// newTable creates a one-column table named prefix plus a suffix of its
// own and returns the name: simulators of one test process share their
// database, so a name must not repeat across runs (-count) or tests.
func newTable(t *testing.T, db *sql.DB, prefix string) string {
	t.Helper()
	name := fmt.Sprintf("%s_%d", prefix, tableSeq.Add(1))
	if _, err := db.Exec("CREATE TABLE " + name + " (k BIGINT)"); err != nil {
		t.Fatal(err)
	}
	testTables.Store(name, true)
	return name
}

var (
	tableSeq   atomic.Int64
	testTables sync.Map // names of the tables newTable made: the listings ignore them
)

// isTestTable reports whether newTable made the table name.
func isTestTable(name string) bool { _, ok := testTables.Load(name); return ok }

func countKey(t *testing.T, db *sql.DB, table string, k int64) int {
	t.Helper()
	var n int
	if err := db.QueryRow(fmt.Sprintf("SELECT count(*) FROM %s WHERE k = %d", table, k)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func rpcs(srv *e6sim.Server, method string) int64 {
	n := srv.Stats().RPCs["QueryEngineService/"+method]
	if method == "executeStatement" { // and V2, which follows prepareStatementV2 when a catalog is set
		n += srv.Stats().RPCs["QueryEngineService/executeStatementV2"]
	}
	return n
}

// onExecute applies rule to both forms of execute.
func onExecute(rule e6sim.FaultRule) []e6sim.FaultRule {
	v1, v2 := rule, rule
	v1.Method, v2.Method = "executeStatement", "executeStatementV2"
	return []e6sim.FaultRule{v1, v2}
}

// A connection reset after the engine ran an INSERT: the write is not sent
// again, the application gets ErrOutcomeUnknown, and the row is there once.
func TestWriteResetAfterExecuteIsOutcomeUnknown(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig})
		db, _ := openDB(t, srv)
		table := newTable(t, db, "w_reset_"+sig.String())
		if err := srv.SetFaults(onExecute(e6sim.FaultRule{Kind: e6sim.FaultUnavailable, After: true, Count: 1})); err != nil {
			t.Fatal(err)
		}
		before := rpcs(srv, "executeStatement")
		_, err := db.Exec("INSERT INTO " + table + " VALUES (1)")
		if !errors.Is(err, e6data.ErrOutcomeUnknown) || e6data.SafeToRetry(err) {
			t.Fatalf("err = %v (safe %v), want ErrOutcomeUnknown and not safe to retry", err, e6data.SafeToRetry(err))
		}
		if n := rpcs(srv, "executeStatement") - before; n != 1 {
			t.Fatalf("the write was sent %d times", n)
		}
		if n := countKey(t, db, table, 1); n != 1 {
			t.Fatalf("key 1 is there %d times, want 1", n)
		}
		// The same reset on a read: run again, the application sees nothing.
		if err := srv.SetFaults(onExecute(e6sim.FaultRule{Kind: e6sim.FaultUnavailable, After: true, Count: 1})); err != nil {
			t.Fatal(err)
		}
		if n := countKey(t, db, table, 1); n != 1 {
			t.Fatalf("read after a reset: %d", n)
		}
	})
}

// A 456 on execute was never routed: the write is run again and is there once.
func TestWrite456OnExecuteIsRunAgainOnce(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig})
		db, _ := openDB(t, srv)
		table := newTable(t, db, "w_456_"+sig.String())
		if err := srv.SetFaults(onExecute(e6sim.FaultRule{Kind: e6sim.Fault456, Count: 1})); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("INSERT INTO " + table + " VALUES (7)"); err != nil {
			t.Fatal(err)
		}
		if n := countKey(t, db, table, 7); n != 1 {
			t.Fatalf("key 7 is there %d times", n)
		}
	})
}

// A session that expires between execute and metadata: the metadata call
// is sent again on the same query after re-authenticating; the write
// succeeds and ran once.
func TestSessionExpiredBeforeMetadataResent(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	table := newTable(t, db, "w_md")
	if err := srv.SetFaults([]e6sim.FaultRule{{Method: "getResultMetadata", Kind: e6sim.FaultAccessDenied, Count: 1}}); err != nil {
		t.Fatal(err)
	}
	prep := rpcs(srv, "prepareStatementV2")
	if _, err := db.Exec("INSERT INTO " + table + " VALUES (3)"); err != nil {
		t.Fatalf("err = %v, want success", err)
	}
	if n := rpcs(srv, "prepareStatementV2") - prep; n != 1 {
		t.Fatalf("%d prepares, want 1 (the metadata call is re-sent, the query not re-run)", n)
	}
	if n := countKey(t, db, table, 3); n != 1 {
		t.Fatalf("key 3 is there %d times", n)
	}
}

// MaxRetryAttempts bounds every attempt of one call: a persistent Access
// denied on fetch makes one prepare, 3 batch fetches and 2 re-authentications.
func TestOneBudgetPerCall(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv, e6data.WithRetry(3, 100*time.Millisecond))
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetFaults([]e6sim.FaultRule{{Method: "getNextResultBatch", Kind: e6sim.FaultAccessDenied}}); err != nil {
		t.Fatal(err)
	}
	prep, fetch, auth := rpcs(srv, "prepareStatementV2"), rpcs(srv, "getNextResultBatch"), authCalls(srv)
	_, err := db.Query("SELECT 1")
	if !errors.Is(err, e6data.ErrRetriesExhausted) || !errors.Is(err, e6data.ErrSessionExpired) {
		t.Fatalf("err = %v, want retries exhausted on an expired session", err)
	}
	p, f, a := rpcs(srv, "prepareStatementV2")-prep, rpcs(srv, "getNextResultBatch")-fetch, authCalls(srv)-auth
	if p != 1 || f != 3 || a != 2 {
		t.Fatalf("%d prepares, %d fetches, %d authentications; want 1, 3, 2", p, f, a)
	}
}

// One 503 in the middle of a stream on an active cluster: the fetch is sent
// again; the scan completes.
func TestMidStream503Resent(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 100})
	db, _ := openDB(t, srv, e6data.WithSetting("PrefetchDepth", "0"))
	rows, err := db.Query("SELECT * FROM range(2000)")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		if n == 500 {
			if err := srv.SetFaults([]e6sim.FaultRule{{Method: "getNextResultBatch", Kind: e6sim.Fault503, Count: 1}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := rows.Err(); err != nil || n != 2000 {
		t.Fatalf("%d rows, err %v; want 2000 and none", n, err)
	}
	if srv.Stats().FaultsFired != 1 {
		t.Fatal("the 503 was not met")
	}
}

// Exec of a SELECT cut mid-read (after 300 rows) is run again: Exec
// delivers no rows.
func TestExecOfReadRunAgain(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 100})
	db, _ := openDB(t, srv)
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetFaults([]e6sim.FaultRule{{Method: "getNextResultBatch", Kind: e6sim.FaultLatency, Latency: 500 * time.Millisecond, Count: 3}}); err != nil {
		t.Fatal(err)
	}
	prep := rpcs(srv, "prepareStatementV2")
	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := db.Exec("SELECT * FROM range(1000)")
		if err != nil {
			done <- result{err: err}
			return
		}
		n, _ := res.RowsAffected()
		done <- result{n: n}
	}()
	// The third fetch is held: the next one is cut after the engine
	// answered it.
	waitFor(t, 20*time.Second, "the third fetch", func() bool { return srv.Stats().FaultsFired == 3 })
	if err := srv.SetFaults([]e6sim.FaultRule{{Method: "getNextResultBatch", Kind: e6sim.FaultUnavailable, After: true, Count: 1}}); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.n != 1000 {
		t.Fatalf("%d rows, err %v; want 1000, the read run again", r.n, r.err)
	}
	if srv.Stats().FaultsFired != 4 {
		t.Fatal("the cut was not met")
	}
	if n := rpcs(srv, "prepareStatementV2") - prep; n != 2 {
		t.Fatalf("%d prepares, want 2", n)
	}
}

// A stray 456 on both stacks during detection is recovered under the budget.
func TestDetectionRecovers456(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig})
		if err := srv.SetFaults([]e6sim.FaultRule{{Method: "authenticate", Kind: e6sim.Fault456, Count: 2}}); err != nil {
			t.Fatal(err)
		}
		db, _ := openDB(t, srv)
		if err := db.Ping(); err != nil {
			t.Fatalf("err = %v, want detection to recover", err)
		}
		if srv.Stats().FaultsFired != 2 {
			t.Fatal("the 456s were not met")
		}
	})
}

// Status and Cancel of a query on the draining stack go to that stack with
// a session of it, from a connection already on the new stack.
func TestStatusCancelOnDrainingStack(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 10})
	db, _ := openDB(t, srv, e6data.WithSetting("PrefetchDepth", "0"))
	ctx := context.Background()
	c1, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	rows, err := c1.QueryContext(ctx, "SELECT * FROM range(100000)")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var id string
	e6data.RawConn(c1, func(c e6data.Conn) error { id = c.LastQueryID(); return nil })
	if err := srv.Switch(ctx, time.Hour, 0); err != nil {
		t.Fatal(err)
	}
	c2, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := c2.ExecContext(ctx, "SELECT 1"); err != nil { // moves c2 to green
		t.Fatal(err)
	}
	err = e6data.RawConn(c2, func(c e6data.Conn) error {
		if c.Strategy() != "green" {
			return fmt.Errorf("c2 on %s", c.Strategy())
		}
		if _, err := c.Status(ctx, id); err != nil {
			return err
		}
		return c.Cancel(ctx, id)
	})
	if err != nil {
		t.Fatalf("status/cancel of a query on the draining stack: %v", err)
	}
	if n := srv.Stats().CancelCalls; n != 1 {
		t.Fatalf("%d cancels answered, want 1", n)
	}
	if rec, ok := srv.Query(id); !ok || rec.Stack != "blue" || rec.Ended.IsZero() {
		t.Fatalf("the query's record: %+v (found %v), want it on blue and ended by the cancel", rec, ok)
	}
}

// ExplainAnalyze of a write refused with Access denied after execute: the
// explain call is sent again on the same query; the statement is not
// executed again. (e6sim's explainAnalyze runs the statement under EXPLAIN
// ANALYZE itself, so the count is compared with a run without the fault.)
func TestExplainAnalyzeWriteNotReexecuted(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	table := newTable(t, db, "w_ea")
	explain := func(k int) {
		t.Helper()
		err := e6data.Raw(context.Background(), db, func(c e6data.Conn) error {
			_, err := c.ExplainAnalyze(context.Background(), fmt.Sprintf("INSERT INTO %s VALUES (%d)", table, k))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	explain(4)
	if err := srv.SetFaults([]e6sim.FaultRule{{Method: "explainAnalyze", Kind: e6sim.FaultAccessDenied, Count: 1}}); err != nil {
		t.Fatal(err)
	}
	prep := rpcs(srv, "prepareStatementV2")
	explain(5)
	prepared := rpcs(srv, "prepareStatementV2") - prep
	if srv.Stats().FaultsFired != 1 {
		t.Fatal("the Access denied was not met")
	}
	if n, base := countKey(t, db, table, 5), countKey(t, db, table, 4); n != base {
		t.Fatalf("key 5 is there %d times, %d without the fault", n, base)
	}
	if prepared != 1 {
		t.Fatalf("%d prepares, want 1", prepared)
	}
}

// A caller's deadline during recovery (waiting on a resume) is
// ErrQueryCancelled matching context.DeadlineExceeded, not retryable.
func TestDeadlineDuringRecovery(t *testing.T) {
	srv := startSim(t, e6sim.Config{ResumeDuration: time.Minute})
	db, _ := openDB(t, srv)
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	srv.Suspend()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := db.QueryContext(ctx, "SELECT 1")
	if !errors.Is(err, e6data.ErrQueryCancelled) || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, e6data.ErrClusterUnavailable) || e6data.SafeToRetry(err) {
		t.Fatalf("err = %v, want ErrQueryCancelled matching the deadline only", err)
	}
}

// Close ends a wait on an auto-resume at once, with ErrConnClosed.
func TestCloseEndsResumeWait(t *testing.T) {
	srv := startSim(t, e6sim.Config{ResumeDuration: time.Minute})
	db, ctr := openDB(t, srv, e6data.WithAutoResume(true, 5*time.Minute))
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	srv.Suspend()
	done := make(chan error, 1)
	go func() {
		_, err := db.Query("SELECT 1")
		done <- err
	}()
	waitFor(t, 10*time.Second, "the resume", func() bool { return srv.Stats().Resumes == 1 })
	ctr.Close()
	select {
	case err := <-done:
		if !errors.Is(err, e6data.ErrConnClosed) && !errors.Is(err, sql.ErrConnDone) {
			t.Fatalf("err = %v, want ErrConnClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the query still waits for the resume after Close")
	}
}

// recordHandler is a slog handler keeping every record as a map of its
// message ("msg") and attributes.
type recordHandler struct {
	mu    *sync.Mutex
	recs  *[]map[string]any
	attrs []slog.Attr
}

func newRecordLogger(h *recordHandler) *slog.Logger {
	h.mu, h.recs = new(sync.Mutex), new([]map[string]any)
	return slog.New(h)
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) WithGroup(string) slog.Handler            { return h }
func (h *recordHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	m := map[string]any{"msg": r.Message, "level": r.Level.String()}
	for _, a := range h.attrs {
		m[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
	h.mu.Lock()
	*h.recs = append(*h.recs, m)
	h.mu.Unlock()
	return nil
}

func (h *recordHandler) findWith(msg, key, val string) map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range *h.recs {
		if r["msg"] == msg && r["level"] == "DEBUG" && (key == "" || r[key] == val) {
			return r
		}
	}
	return nil
}

func (h *recordHandler) find(msg string) map[string]any { return h.findWith(msg, "", "") }

// TestDebugRecords: a DEBUG record for every retry, re-authentication,
// detection probe and resume poll, with their attributes.
func TestDebugRecords(t *testing.T) {
	srv := startSim(t, e6sim.Config{ResumeDuration: 200 * time.Millisecond})
	rec := &recordHandler{}
	db, _ := openDB(t, srv, e6data.WithLogger(newRecordLogger(rec)), e6data.WithSetting("resume-poll-interval", "0.1"),
		e6data.WithSetting("log-level", "debug"), e6data.WithSetting("strategy-log-level", "debug"))
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetFaults([]e6sim.FaultRule{{Method: "prepareStatementV2", Kind: e6sim.Fault456, Count: 1},
		{Method: "getResultMetadata", Kind: e6sim.FaultAccessDenied, Count: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("SELECT 1"); err != nil {
		t.Fatal(err)
	}
	srv.Suspend()
	if _, err := db.Exec("SELECT 1"); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"retrying":                 {"operation", "attempt", "reason", "backoff", "strategy", "query_id"},
		"re-authenticating":        {"operation", "strategy", "query_id"},
		"strategy detection probe": {"strategy", "answer", "transition_type", "query_id"},
		"resume poll":              {"status", "strategy", "transition_type"},
	}
	for _, msg := range []string{"retrying", "re-authenticating", "strategy detection probe", "resume poll"} {
		t.Run(msg, func(t *testing.T) {
			r := rec.find(msg)
			if r == nil {
				t.Fatalf("no DEBUG record %q", msg)
			}
			for _, k := range want[msg] {
				if _, ok := r[k]; !ok {
					t.Errorf("record %q has no %s: %v", msg, k, r)
				}
			}
			if msg == "retrying" {
				if r := rec.findWith("retrying", "reason", "wrong_strategy"); r == nil || r["transition_type"] != "recovered_456" {
					t.Errorf("retry after a 456: %v", r)
				}
			}
		})
	}
}

// Close ends a wait in backoff at once, with ErrConnClosed (a query that
// finished its attempts would end in ErrRetriesExhausted instead).
func TestCloseEndsBackoff(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, ctr := openDB(t, srv, e6data.WithRetry(10, 2*time.Second))
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetFaults([]e6sim.FaultRule{{Method: "prepareStatementV2", Kind: e6sim.FaultUnavailable}}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := db.Query("SELECT 1")
		done <- err
	}()
	waitFor(t, 20*time.Second, "two failed prepares", func() bool { return srv.Stats().FaultsFired >= 2 })
	ctr.Close()
	err := <-done
	if !errors.Is(err, e6data.ErrConnClosed) || errors.Is(err, e6data.ErrRetriesExhausted) {
		t.Fatalf("err = %v, want ErrConnClosed", err)
	}
}

// A refusal that keeps coming on a stream after rows were delivered uses
// the fetch's budget and says so; the query is not called interrupted.
func TestMidStreamRefusalExhausted(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 100})
	db, _ := openDB(t, srv, e6data.WithSetting("PrefetchDepth", "0"), e6data.WithRetry(3, 100*time.Millisecond))
	rows, err := db.Query("SELECT * FROM range(2000)")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		if n == 500 {
			if err := srv.SetFaults([]e6sim.FaultRule{{Method: "getNextResultBatch", Kind: e6sim.FaultAccessDenied}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	err = rows.Err()
	if !errors.Is(err, e6data.ErrRetriesExhausted) || !errors.Is(err, e6data.ErrSessionExpired) || errors.Is(err, e6data.ErrQueryInterrupted) || !e6data.SafeToRetry(err) {
		t.Fatalf("err = %v, want retries exhausted on an expired session, safe to retry (a read)", err)
	}
	if f := srv.Stats().FaultsFired; f != 3 {
		t.Fatalf("%d refused fetches, want 3 (MaxRetryAttempts)", f)
	}
}

// Close ends a strategy detection at once, with ErrConnClosed.
func TestCloseEndsDetection(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	if err := srv.SetFaults([]e6sim.FaultRule{{Method: "authenticate", Kind: e6sim.FaultStall}}); err != nil {
		t.Fatal(err)
	}
	ctr, err := e6data.NewConnector(testConfig(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := ctr.Connect(context.Background())
		done <- err
	}()
	waitFor(t, 20*time.Second, "the stalled probe", func() bool { return srv.Stats().FaultsFired >= 1 })
	ctr.Close()
	if err := <-done; !errors.Is(err, e6data.ErrConnClosed) {
		t.Fatalf("err = %v, want ErrConnClosed", err)
	}
}
