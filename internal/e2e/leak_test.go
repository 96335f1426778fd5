package e2e

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
)

var leakQueries = flag.Int("leak.queries", 0, "queries of TestLeakRandomCancellations (0: 10000, or 1000 with -short)")

// TestLeakRandomCancellations runs many queries from many goroutines,
// abandoning them in every way an application can (context cancelled in
// the middle of a scan, Rows closed early, deadlines that expire at random
// points, including before the first batch), and then checks that nothing
// is left behind:
//
//   - on the server: 0 open queries on every stack, and no leaked session.
//     The protocol has no call that ends a session (sessions end by the
//     server's TTL), so "leaked" means a session the pool does not hold:
//     every session on the server must be one a pool connection opened,
//     and the pool never opens more than its size. e6sim's sessions never
//     expire here (no SessionTTL), so after db.Close they are still
//     counted, and sessions == authenticate calls <= pool size;
//   - in the client: the goroutine count returns to its baseline, with the
//     pool still open and again after db.Close.
func TestLeakRandomCancellations(t *testing.T) {
	n := *leakQueries
	if n == 0 {
		n = 10000
		if testing.Short() {
			n = 1000
		}
	}
	const (
		workers  = 16
		poolSize = 8
	)
	base0 := runtime.NumGoroutine()
	srv := startSim(t, e6sim.Config{ChunkRows: 64})
	ctr, err := e6data.NewConnector(testConfig(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(ctr)
	db.SetMaxOpenConns(poolSize)
	db.SetMaxIdleConns(poolSize)
	defer db.Close()

	// Warm up every pool connection, then take the baseline.
	var warm sync.WaitGroup
	for range poolSize {
		warm.Add(1)
		go func() {
			defer warm.Done()
			var x int
			if err := db.QueryRow("SELECT count(*) FROM range(1000)").Scan(&x); err != nil {
				t.Error(err)
			}
		}()
	}
	warm.Wait()
	waitFor(t, time.Minute, "warm-up queries freed", func() bool { return openQueries(srv) == 0 })
	base := runtime.NumGoroutine()

	var (
		next      atomic.Int64
		outcomes  sync.Map // kind -> *atomic.Int64
		unexpectd atomic.Int64
	)
	count := func(kind string) {
		c, _ := outcomes.LoadOrStore(kind, new(atomic.Int64))
		c.(*atomic.Int64).Add(1)
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			for next.Add(1) <= int64(n) {
				kind, err, ok := leakOne(db, rng)
				switch {
				case !ok:
					if unexpectd.Add(1) <= 5 {
						t.Errorf("%s: unexpected error: %v", kind, err)
					}
					kind += "/unexpected"
				case err != nil:
					kind += "/stopped"
				default:
					kind += "/ok"
				}
				count(kind)
			}
		}()
	}
	wg.Wait()
	took := time.Since(t0)
	if unexpectd.Load() > 0 {
		t.Fatalf("%d unexpected errors", unexpectd.Load())
	}

	// Server: every query freed (the clears go out in the background).
	waitQueriesFreed(t, srv)
	// Client: back to the baseline with the pool open.
	waitGoroutines(t, base, "the baseline")
	during := runtime.NumGoroutine()
	st := srv.Stats()
	sessions, started := sessionsOf(st), startedOf(st)
	auths := st.RPCs["QueryEngineService/authenticate"]
	if int64(sessions) != auths || sessions > poolSize {
		t.Fatalf("%d sessions on the server after %d authenticate calls; the pool holds at most %d", sessions, auths, poolSize)
	}

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ctr.Close(); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	waitGoroutines(t, base0, "where they were before anything, after db.Close and the server's")
	var summary []string
	outcomes.Range(func(k, v any) bool {
		summary = append(summary, fmt.Sprintf("%s=%d", k, v.(*atomic.Int64).Load()))
		return true
	})
	t.Logf("%d queries by %d workers on a pool of %d in %v (%.0f/s); outcomes %v", n, workers, poolSize, took.Round(time.Millisecond),
		float64(n)/took.Seconds(), summary)
	t.Logf("goroutines: %d before anything, %d baseline with the pool warm, %d after the load, %d after Close",
		base0, base, during, runtime.NumGoroutine())
	t.Logf("e6sim: %d queries started, 0 open, %d sessions (%d authenticate calls), %d cancels, %d cancelQuery calls",
		started, sessions, auths, st.Cancels, st.CancelCalls)
}

// leakOne runs one query and abandons it in a randomly chosen way. It
// returns the way, the error and whether the outcome is one that way
// allows.
func leakOne(db *sql.DB, rng *rand.Rand) (string, error, bool) {
	rowsWanted := 1 + rng.IntN(400) // 1..7 batches of 64
	text := fmt.Sprintf("SELECT range AS n FROM range(%d)", rowsWanted)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	switch rng.IntN(5) {
	case 0: // read to the end
		got, err := scanAll(ctx, db, text, -1, nil)
		if err == nil && got != rowsWanted {
			err = fmt.Errorf("%d rows, want %d", got, rowsWanted)
		}
		return "complete", err, err == nil
	case 1: // cancel the context in the middle of the scan
		stopAt := rng.IntN(rowsWanted + 1)
		_, err := scanAll(ctx, db, text, stopAt, cancel)
		return "cancel_mid_scan", err, allowed(err, context.Canceled, e6data.ErrQueryCancelled)
	case 2: // close the rows early
		stopAt := rng.IntN(rowsWanted + 1)
		_, err := scanAll(ctx, db, text, stopAt, nil)
		return "early_close", err, err == nil
	case 3: // a deadline that expires anywhere, from before prepare to after the end
		tctx, tcancel := context.WithTimeout(ctx, time.Duration(rng.IntN(20000))*time.Microsecond)
		defer tcancel()
		_, err := scanAll(tctx, db, text, -1, nil)
		return "timeout", err, allowed(err, context.DeadlineExceeded, e6data.ErrQueryCancelled)
	default: // cancelled before or while the query starts
		cctx, ccancel := context.WithCancel(ctx)
		defer ccancel()
		tm := time.AfterFunc(time.Duration(rng.IntN(5000))*time.Microsecond, ccancel)
		defer tm.Stop()
		_, err := scanAll(cctx, db, text, -1, nil)
		return "cancel_at_start", err, allowed(err, context.Canceled, e6data.ErrQueryCancelled)
	}
}

// scanAll runs text and reads rows; at stopAt rows (when >= 0) it calls
// stop (cancelling the context) or, when stop is nil, closes the rows.
func scanAll(ctx context.Context, db *sql.DB, text string, stopAt int, stop func()) (int, error) {
	rows, err := db.QueryContext(ctx, text)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for {
		if n == stopAt {
			if stop == nil {
				return n, rows.Close()
			}
			stop()
		}
		if !rows.Next() {
			break
		}
		var v int64
		if err := rows.Scan(&v); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// allowed reports whether err is nil or matches one of the allowed errors.
func allowed(err error, allowed ...error) bool {
	if err == nil {
		return true
	}
	for _, a := range allowed {
		if errors.Is(err, a) {
			return true
		}
	}
	return false
}

// What the leak test and the soak run (soak_test.go) both check once the
// load stops: nothing left open on the server, nothing left running in the
// client.

// waitQueriesFreed waits until srv holds no open query on any stack.
func waitQueriesFreed(t *testing.T, srv *e6sim.Server) {
	t.Helper()
	waitFor(t, time.Minute, "0 open queries on every stack", func() bool { return openQueriesOf(srv.Stats()) == 0 })
}

// waitGoroutines waits until at most n goroutines run.
func waitGoroutines(t *testing.T, n int, what string) {
	t.Helper()
	waitFor(t, time.Minute, fmt.Sprintf("goroutines back to %d (%s)", n, what), func() bool { return runtime.NumGoroutine() <= n })
}

func openQueriesOf(st e6sim.Stats) (n int) {
	for _, s := range st.Stacks {
		n += s.OpenQueries
	}
	return n
}

func sessionsOf(st e6sim.Stats) (n int) {
	for _, s := range st.Stacks {
		n += s.Sessions
	}
	return n
}

func startedOf(st e6sim.Stats) (n int64) {
	for _, s := range st.Stacks {
		n += s.QueriesStarted
	}
	return n
}
