package e2e

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
)

// Broken or hostile servers (issue 7): every e6sim hostile fault ends in a
// typed error that names what was wrong, or in behaviour the application
// bounds with its own context or Close. Afterwards the connection is still
// usable: the session is intact and a protocol error is a property of one
// response, not of the connection (the gRPC channel is shared by the
// connector and stays up).

const hostileSQL = "SELECT id, c_bigint, c_varchar FROM all_types ORDER BY id"

// hostileConn opens a one-connection pool on srv and pins its connection.
func hostileConn(t *testing.T, srv *e6sim.Server, opts ...e6data.Option) *sql.Conn {
	t.Helper()
	db, _ := openDB(t, srv, opts...)
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// stillUsable checks the pinned connection runs a query on its old session
// (no new authenticate) and that the server holds no open query afterwards.
func stillUsable(t *testing.T, srv *e6sim.Server, c *sql.Conn) {
	t.Helper()
	auths := authCalls(srv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var n int
	if err := c.QueryRowContext(ctx, "SELECT count(*) FROM all_types").Scan(&n); err != nil || n != 4 {
		t.Fatalf("connection after the fault: %v (%d rows)", err, n)
	}
	if got := authCalls(srv); got != auths {
		t.Fatalf("the connection re-authenticated (%d -> %d authenticate calls): it lost its session", auths, got)
	}
	waitFor(t, 10*time.Second, "no open queries on the server", func() bool { return openQueries(srv) == 0 })
}

func wantProtocolError(t *testing.T, err error, op string, msgs ...string) {
	t.Helper()
	t.Logf("error: %v", err)
	var e *e6data.Error
	if !errors.Is(err, e6data.ErrProtocol) || !errors.As(err, &e) || e.Op != op || e.QueryID == "" || e.Retryable {
		t.Fatalf("got %v (%#v); want a non-retryable ErrProtocol from %q with the query ID", err, e, op)
	}
	for _, m := range msgs {
		if !strings.Contains(err.Error(), m) {
			t.Fatalf("error %q does not say %q", err, m)
		}
	}
}

func TestHostileCorruptBatches(t *testing.T) {
	for _, tc := range []struct {
		rule FaultRuleCase
		msgs []string
	}{
		{FaultRuleCase{e6sim.FaultRule{Kind: e6sim.FaultWrongType, Column: 1}},
			[]string{"malformed server response", "column 1 (c_bigint): vector type STRING does not match metadata LONG"}},
		{FaultRuleCase{e6sim.FaultRule{Kind: e6sim.FaultWrongType, Column: 2}},
			[]string{"column 2 (c_varchar): vector type LONG does not match metadata STRING"}},
		{FaultRuleCase{e6sim.FaultRule{Kind: e6sim.FaultShortVector, Column: 1}},
			[]string{"vector 1: nullSet has 2 entries for 4 rows"}},
		{FaultRuleCase{e6sim.FaultRule{Kind: e6sim.FaultMissingNullSet, Column: 2}},
			[]string{"vector 2: required Vector.nullSet (field 3) is missing"}},
		{FaultRuleCase{e6sim.FaultRule{Kind: e6sim.FaultAbsurdRows}},
			[]string{"nullSet has 4 entries for 2147483647 rows"}},
	} {
		t.Run(string(tc.rule.Kind), func(t *testing.T) {
			srv := startSim(t, e6sim.Config{})
			c := hostileConn(t, srv)
			tc.rule.Count = 1
			if err := srv.SetFaults([]e6sim.FaultRule{tc.rule.FaultRule}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			rows, err := c.QueryContext(ctx, hostileSQL)
			if err == nil {
				rows.Close()
				t.Fatal("query of a corrupt batch succeeded")
			}
			wantProtocolError(t, err, "fetch", tc.msgs...)
			if srv.Stats().FaultsFired != 1 {
				t.Fatalf("faults fired: %d", srv.Stats().FaultsFired)
			}
			stillUsable(t, srv, c)
		})
	}
}

// FaultRuleCase names a rule in a table (its Kind is the subtest name).
type FaultRuleCase struct{ e6sim.FaultRule }

// A corrupt batch in the middle of a result, after rows reached the
// application: the scan ends with the protocol error, not an interruption
// (re-running would not help) and not a panic.
func TestHostileCorruptBatchMidScan(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 10})
	c := hostileConn(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := c.QueryContext(ctx, "SELECT range AS n, 'x' || range AS s FROM range(100)")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if err := srv.SetFaults([]e6sim.FaultRule{{Kind: e6sim.FaultWrongType, Column: 0, Count: 1}}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	err = rows.Err()
	// The first two batches were read before the fault was set.
	if n < 20 || n >= 100 {
		t.Fatalf("%d rows before the error", n)
	}
	wantProtocolError(t, err, "fetch", "column 0 (n): vector type STRING does not match metadata LONG")
	if errors.Is(err, e6data.ErrQueryInterrupted) {
		t.Fatalf("a protocol error reported as an interruption: %v", err)
	}
	rows.Close()
	stillUsable(t, srv, c)
}

func TestHostileBadMetadata(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	c := hostileConn(t, srv)
	if err := srv.SetFaults([]e6sim.FaultRule{{Kind: e6sim.FaultBadMetadata, Count: 1}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.QueryContext(ctx, hostileSQL)
	wantProtocolError(t, err, "metadata", "field count 2147483647 cannot fit in the remaining")
	stillUsable(t, srv, c)
}

// A result that never ends: the application stops it with its context or
// with Rows.Close, the call returns promptly and the server's query is
// freed.
func TestHostileEndlessResult(t *testing.T) {
	for _, stop := range []string{"cancel", "close", "deadline"} {
		t.Run(stop, func(t *testing.T) {
			srv := startSim(t, e6sim.Config{})
			c := hostileConn(t, srv)
			// The deadline must leave the query time to start streaming:
			// a generous multiple of what one query takes here and now.
			t0 := time.Now()
			stillUsable(t, srv, c)
			deadline := max(300*time.Millisecond, 20*time.Since(t0))
			if err := srv.SetFaults([]e6sim.FaultRule{{Kind: e6sim.FaultEndless}}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if stop == "deadline" {
				ctx, cancel = context.WithTimeout(ctx, deadline)
				defer cancel()
			}
			rows, err := c.QueryContext(ctx, hostileSQL)
			if err != nil {
				t.Fatal(err)
			}
			const enough = 1000 // 250 times the real result
			n := 0
			for rows.Next() {
				if n++; n == enough {
					switch stop {
					case "cancel":
						cancel()
					case "close":
						if err := rows.Close(); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			if n < enough && stop != "deadline" {
				t.Fatalf("the endless result ended after %d rows", n)
			}
			err = rows.Err()
			switch stop {
			case "cancel":
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("rows.Err after cancel: %v", err)
				}
			case "close":
				if err != nil {
					t.Fatalf("rows.Err after Close: %v", err)
				}
			case "deadline":
				if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, e6data.ErrQueryCancelled) {
					t.Fatalf("rows.Err after the deadline: %v", err)
				}
			}
			rows.Close()
			waitFor(t, 10*time.Second, "the endless query freed on the server", func() bool { return openQueries(srv) == 0 })
			srv.ClearFaults()
			stillUsable(t, srv, c)
		})
	}
}

// Calls that never answer: the caller's deadline (or query_timeout)
// releases the call within a bound, and the server-side query is freed.
func TestHostileStall(t *testing.T) {
	const bound = 10 * time.Second // far above the deadlines below, far below a hang
	for _, tc := range []struct {
		name, method string
		timeout      func(ctx context.Context) (context.Context, context.CancelFunc, []any)
	}{
		{"prepare", "prepareStatementV2", ctxDeadline},
		{"execute", "executeStatementV2", ctxDeadline}, // after prepareStatementV2: the configuration names a catalog
		{"metadata", "getResultMetadata", ctxDeadline},
		{"batch", "getNextResultBatch", ctxDeadline},
		{"batch_query_timeout", "getNextResultBatch", queryTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSim(t, e6sim.Config{})
			c := hostileConn(t, srv)
			if err := srv.SetFaults([]e6sim.FaultRule{{Method: tc.method, Kind: e6sim.FaultStall}}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel, args := tc.timeout(context.Background())
			defer cancel()
			t0 := time.Now()
			rows, err := c.QueryContext(ctx, hostileSQL, args...)
			if took := time.Since(t0); took > bound {
				t.Fatalf("stalled call returned after %v", took)
			}
			if err == nil {
				rows.Close()
				t.Fatal("a stalled query succeeded")
			}
			t.Logf("error: %v", err)
			var e *e6data.Error
			if !errors.Is(err, e6data.ErrQueryCancelled) || !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &e) || e.Retryable ||
				(tc.method != "prepareStatementV2") != (e.QueryID != "") {
				t.Fatalf("got %v (%#v, is deadline %v); want a non-retryable ErrQueryCancelled wrapping the deadline", err, e, errors.Is(err, context.DeadlineExceeded))
			}
			srv.ClearFaults()
			waitFor(t, bound, "the stalled query freed on the server", func() bool { return openQueries(srv) == 0 })
			stillUsable(t, srv, c)
		})
	}
}

func ctxDeadline(ctx context.Context) (context.Context, context.CancelFunc, []any) {
	ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	return ctx, cancel, nil
}

func queryTimeout(ctx context.Context) (context.Context, context.CancelFunc, []any) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	return ctx, cancel, []any{sql.Named("query_timeout", 200*time.Millisecond)}
}

// A stall in the middle of a scan: the deadline ends Rows.Next, and the
// query is cancelled and cleared on the server.
func TestHostileStallMidScan(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 10})
	c := hostileConn(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	qctx, qcancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer qcancel()
	rows, err := c.QueryContext(qctx, "SELECT range FROM range(100)")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.SetFaults([]e6sim.FaultRule{{Method: "getNextResultBatch", Kind: e6sim.FaultStall}}); err != nil {
		t.Fatal(err)
	}
	cancels := srv.Stats().CancelCalls
	n := 0
	for rows.Next() {
		n++
	}
	if n != 20 { // the two batches read before the stall
		t.Fatalf("%d rows", n)
	}
	if err := rows.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("rows.Err: %v", err)
	} else {
		t.Logf("rows.Err: %v", err)
	}
	rows.Close()
	srv.ClearFaults()
	waitFor(t, 10*time.Second, "the stalled query cancelled and freed", func() bool {
		return openQueries(srv) == 0 && srv.Stats().CancelCalls > cancels
	})
	stillUsable(t, srv, c)
}

// A stalled authenticate: obtaining a connection is bounded by the
// caller's context and by the connection timeout.
func TestHostileStallConnect(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	if err := srv.SetFaults([]e6sim.FaultRule{{Method: "authenticate", Kind: e6sim.FaultStall}}); err != nil {
		t.Fatal(err)
	}
	db, _ := openDB(t, srv, e6data.WithSetting("ConnectionTimeout", "1"))
	for _, deadline := range []time.Duration{200 * time.Millisecond, time.Minute} {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		t0 := time.Now()
		err := db.PingContext(ctx)
		took := time.Since(t0)
		cancel()
		// The caller's deadline is the caller's; the connection timeout's
		// is a timeout that names it.
		if deadline < time.Second && (!errors.Is(err, e6data.ErrQueryCancelled) || !errors.Is(err, context.DeadlineExceeded)) {
			t.Fatalf("ping through a stalled authenticate: %v", err)
		}
		if deadline > time.Second && (!errors.Is(err, e6data.ErrTimeout) || !strings.Contains(err.Error(), "connection-timeout=1s")) {
			t.Fatalf("ping through a stalled authenticate: %v", err)
		}
		t.Logf("ping with a %v deadline: %v", deadline, err)
		if took > 10*time.Second {
			t.Fatalf("ping took %v", took)
		}
	}
	srv.ClearFaults()
	if err := db.PingContext(context.Background()); err != nil {
		t.Fatalf("after the stall: %v", err)
	}
}

// A prepare the caller gave up on while the server was still working on it:
// the caller returns at its deadline, the prepare goes on, and the query
// the server registered is cleared as soon as its ID arrives (otherwise it
// would stay open with nobody knowing its ID).
func TestAbandonedPrepareIsCleared(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	c := hostileConn(t, srv)
	if err := srv.SetFaults([]e6sim.FaultRule{{Method: "prepareStatementV2", Kind: e6sim.FaultLatency, Latency: 300 * time.Millisecond, Count: 1}}); err != nil {
		t.Fatal(err)
	}
	clears := srv.Stats().RPCs["QueryEngineService/clearOrCancelQuery"]
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.QueryContext(ctx, hostileSQL)
	if !errors.Is(err, e6data.ErrQueryCancelled) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v; want ErrQueryCancelled wrapping the deadline", err)
	}
	waitFor(t, 10*time.Second, "the abandoned prepare's query cleared", func() bool {
		st := srv.Stats()
		return st.Stacks[e6sim.Blue].QueriesStarted == 0 && st.RPCs["QueryEngineService/clearOrCancelQuery"] > clears && openQueries(srv) == 0
	})
	stillUsable(t, srv, c)
}

// ExecContext drains a result: against one that never ends, the caller's
// deadline ends it, and the query is freed.
func TestHostileEndlessExec(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	c := hostileConn(t, srv)
	if err := srv.SetFaults([]e6sim.FaultRule{{Kind: e6sim.FaultEndless}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := c.ExecContext(ctx, hostileSQL)
	if !errors.Is(err, e6data.ErrQueryCancelled) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("exec of an endless result: %v", err)
	}
	t.Logf("error: %v", err)
	if fired := srv.Stats().FaultsFired; fired < 10 {
		t.Fatalf("only %d batches were sent: the result did not run on", fired)
	}
	srv.ClearFaults()
	waitFor(t, 10*time.Second, "the endless query freed on the server", func() bool { return openQueries(srv) == 0 })
	stillUsable(t, srv, c)
}

// A query abandoned after its session expired is still freed: the release
// re-authenticates on the query's stack (the server keeps queries across a
// session's expiry, and would otherwise hold this one until it reclaims it).
func TestReleaseAfterSessionExpiry(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 10})
	c := hostileConn(t, srv)
	for _, how := range []string{"close", "cancel"} {
		ctx, cancel := context.WithCancel(context.Background())
		rows, err := c.QueryContext(ctx, "SELECT range FROM range(100)")
		if err != nil {
			t.Fatal(err)
		}
		if !rows.Next() {
			t.Fatal(rows.Err())
		}
		srv.ExpireSessions()
		if how == "cancel" {
			cancel()
		}
		rows.Close()
		cancel()
		waitFor(t, 10*time.Second, how+": the query freed on the server", func() bool { return openQueries(srv) == 0 })
	}
}
