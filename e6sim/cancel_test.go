package e6sim

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/e6go/e6data/internal/enginepb"
)

// A query that would run for minutes.
const longSQL = "SELECT sum(a.range * b.range) FROM range(300000) a CROSS JOIN range(300000) b"

// cancelQuery interrupts a long query whose batch call is in flight; Stats
// counts the cancel.
func TestCancelInterruptsLongQuery(t *testing.T) {
	s := start(t, Config{})
	c := dial(t, s.Addr())
	sess := c.mustAuth("blue")
	ctx := ctxFor(t, "blue")
	p, err := c.qe.PrepareStatementV2(ctx, &enginepb.PrepareStatementV2Request{SessionId: sess, Catalog: "sample", Schema: "main", QueryString: longSQL})
	if err != nil {
		t.Fatal(err)
	}
	q := p.GetQueryId()
	ctx = metadata.AppendToOutgoingContext(ctx, "plannerip", p.GetEngineIP())

	type result struct {
		err  error
		took time.Duration
	}
	done := make(chan result, 1)
	go func() {
		t0 := time.Now()
		_, err := c.qe.ExecuteStatementV2(ctx, &enginepb.ExecuteStatementV2Request{SessionId: sess, QueryId: q})
		if err == nil {
			_, err = c.qe.GetNextResultBatch(ctx, &enginepb.GetNextResultBatchRequest{SessionId: sess, QueryId: q})
		}
		done <- result{err, time.Since(t0)}
	}()
	waitFor(t, "the query to run", func() bool { return s.inflight.Load() == 1 })

	t0 := time.Now()
	if _, err := c.qe.CancelQuery(ctx, &enginepb.CancelQueryRequest{SessionId: sess, QueryId: q}); err != nil {
		t.Fatalf("cancelQuery: %v", err)
	}
	r := <-done
	if status.Code(r.err) != codes.Canceled {
		t.Fatalf("interrupted call: %v; want CANCELLED", r.err)
	}
	t.Logf("interrupted after %v, %v after the cancel", r.took, time.Since(t0))
	// Later calls of the query say it was cancelled.
	_, err = c.batch("blue", sess, q)
	wantCode(t, err, codes.Canceled, "")
	if st := s.Stats(); st.CancelCalls != 1 {
		t.Fatalf("stats after cancel: %+v", st)
	}
	// Clearing it afterwards is fine.
	if _, err := c.qe.ClearOrCancelQuery(ctx, &enginepb.ClearOrCancelQueryRequest{SessionId: sess, QueryId: q}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the query to be freed", func() bool { return s.Stats().Stacks[Blue].OpenQueries == 0 })

	// A running query cancelled between two batches: the stack counts it.
	// (The engine does not count a cancel that interrupts a call in flight,
	// as above: it looks at the query's state after the interrupted call
	// already moved it to cancelled.)
	s2 := start(t, Config{ChunkRows: 10})
	c2 := dial(t, s2.Addr())
	sess2 := c2.mustAuth("blue")
	q2 := c2.mustQuery("blue", sess2, hundredRows)
	if _, err := c2.batch("blue", sess2, q2); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.qe.CancelQuery(ctxFor(t, "blue"), &enginepb.CancelQueryRequest{SessionId: sess2, QueryId: q2}); err != nil {
		t.Fatal(err)
	}
	_, err = c2.batch("blue", sess2, q2)
	wantCode(t, err, codes.Canceled, "")
	if st := s2.Stats(); st.Cancels != 1 || st.Stacks[Blue].Cancels != 1 || st.CancelCalls != 1 {
		t.Fatalf("stats after cancelling a running query: %+v", st)
	}
}

// An abrupt switch while a call runs on the old stack: the interrupted call
// gets UNAVAILABLE, as from a dying server (it may have executed; a 456
// would say it never reached an engine), not CANCELLED.
func TestAbruptSwitchInterruptsCallWithReset(t *testing.T) {
	s := start(t, Config{})
	c := dial(t, s.Addr())
	sess := c.mustAuth("blue")
	done := make(chan error, 1)
	go func() {
		_, err := c.query("blue", sess, longSQL)
		done <- err
	}()
	waitFor(t, "the query to run", func() bool {
		return s.inflight.Load() == 1 && s.Stats().RPCs["QueryEngineService/executeStatementV2"] == 1
	})
	must(t, s.Switch(t.Context(), 0, 0))
	err := <-done
	wantCode(t, err, codes.Unavailable, "torn down during the call")
	if is456(err) {
		t.Fatalf("an interrupted call looks like a 456: %v", err)
	}
}

// A draining stack torn down by the next switch, which makes it live again,
// while a call of its old deployment runs: the call still gets UNAVAILABLE,
// not the CANCELLED of its dropped query, though the stack serves again by
// then.
func TestTeardownOfDrainingStackMadeLiveInterruptsCallWithReset(t *testing.T) {
	s := start(t, Config{})
	c := dial(t, s.Addr())
	sess := c.mustAuth("blue")
	must(t, s.Switch(t.Context(), time.Hour, 0)) // blue drains
	done := make(chan error, 1)
	go func() {
		_, err := c.query("blue", sess, longSQL)
		done <- err
	}()
	waitFor(t, "the query to run", func() bool {
		return s.inflight.Load() == 1 && s.Stats().RPCs["QueryEngineService/executeStatementV2"] == 1
	})
	must(t, s.Switch(t.Context(), time.Hour, 0)) // blue torn down and live again
	if s.Live() != Blue {
		t.Fatalf("live %q", s.Live())
	}
	err := <-done
	wantCode(t, err, codes.Unavailable, "torn down during the call")
	if is456(err) {
		t.Fatalf("an interrupted call looks like a 456: %v", err)
	}
}

// A suspension while a call runs: the interrupted call gets UNAVAILABLE (a
// 503 says the call was never served).
func TestSuspendInterruptsCallWithReset(t *testing.T) {
	s := start(t, Config{})
	c := dial(t, s.Addr())
	sess := c.mustAuth("blue")
	done := make(chan error, 1)
	go func() {
		_, err := c.query("blue", sess, longSQL)
		done <- err
	}()
	waitFor(t, "the query to run", func() bool {
		return s.inflight.Load() == 1 && s.Stats().RPCs["QueryEngineService/executeStatementV2"] == 1
	})
	s.Suspend()
	err := <-done
	wantCode(t, err, codes.Unavailable, "suspended during the call")
	if is503(err) {
		t.Fatalf("an interrupted call looks like a 503: %v", err)
	}
}
