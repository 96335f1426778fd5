package e6data

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/e6go/e6data/e6sim"
)

// A stack torn down and deployed again while a query's first fetch was on
// its way (blue drains, then the next switch resets it and makes it live):
// the fetch meets "Access denied" (the session went with the old
// deployment), the connector re-authenticates on blue and asks again, and
// the new deployment does not know the query. No row was delivered, so the
// connector runs it again instead of failing with "query not found".
func TestQueryLostToRedeployedStackIsRerun(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig})
		db, ctr := openDB(t, srv)
		ctx := context.Background()
		if err := db.PingContext(ctx); err != nil {
			t.Fatal(err)
		}
		// Hold the first fetch in the gateway long enough for two switches.
		if err := srv.SetFaults([]e6sim.FaultRule{{Method: "getNextResultBatch", Kind: e6sim.FaultLatency, Latency: 300 * time.Millisecond, Count: 1}}); err != nil {
			t.Fatal(err)
		}
		type result struct {
			n   int64
			err error
		}
		done := make(chan result, 1)
		go func() {
			var r result
			r.err = db.QueryRowContext(ctx, "SELECT count(*) FROM numbers WHERE id < 1000").Scan(&r.n)
			done <- r
		}()
		waitFor(t, time.Minute, "the fetch to be held", func() bool { return srv.Stats().FaultsFired == 1 })
		for range 2 {
			if err := srv.Switch(ctx, time.Hour, 0); err != nil {
				t.Fatal(err)
			}
		}
		r := <-done
		if r.err != nil || r.n != 1000 {
			t.Fatalf("count = %d, err = %v; want 1000 and no error", r.n, r.err)
		}
		if st := ctr.Stats(); st.Recoveries != 1 || ctr.cl.counts.get(cLostQuery) != 1 {
			t.Fatalf("recoveries %d, lost queries %d; want 1 and 1", st.Recoveries, ctr.cl.counts.get(cLostQuery))
		}
	})
}

// A statement that may write is not run again once it may have executed:
// losing it after execute (the same redeployment, here under its first
// fetch) leaves its outcome unknown, and the application is told so.
func TestWriteLostAfterExecuteIsNotRerun(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	ctx := context.Background()
	if err := db.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetFaults([]e6sim.FaultRule{{Method: "getNextResultBatch", Kind: e6sim.FaultLatency, Latency: 300 * time.Millisecond, Count: 1}}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := db.ExecContext(ctx, "CREATE TEMP TABLE t_lost AS SELECT 1 AS x")
		done <- err
	}()
	waitFor(t, time.Minute, "the fetch to be held", func() bool { return srv.Stats().FaultsFired == 1 })
	for range 2 {
		if err := srv.Switch(ctx, time.Hour, 0); err != nil {
			t.Fatal(err)
		}
	}
	err := <-done
	if err == nil || !errors.Is(err, ErrOutcomeUnknown) || SafeToRetry(err) {
		t.Fatalf("err = %v (safe to retry %v), want ErrOutcomeUnknown, not safe to retry (not re-run)", err, SafeToRetry(err))
	}
	if n := srv.Stats().Stacks["blue"].QueriesStarted; n != 1 {
		t.Fatalf("the statement was executed %d times", n)
	}
}
