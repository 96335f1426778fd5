package e6sim

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/e6go/e6data/internal/enginepb"
)

func TestMalformedSQL(t *testing.T) {
	s := start(t, Config{})
	c := dial(t, s.Addr())
	sess := c.mustAuth("blue")
	for _, sql := range []string{"SELEC 1", "SELECT FROM WHERE", "SELECT * FROM sample.main.no_such_table", ""} {
		_, err := c.query("blue", sess, sql)
		st, _ := status.FromError(err)
		if err == nil || st.Code() == codes.OK || st.Code() == codes.Unknown || st.Message() == "" {
			t.Errorf("%q: %v; want a clear gRPC error", sql, err)
			continue
		}
		if is456(err) || is503(err) || strings.Contains(err.Error(), "Access denied") {
			t.Errorf("%q: a bad statement must not look like a gateway signal or expiry: %v", sql, err)
		}
	}
	// The session survives bad statements.
	c.mustQuery("blue", sess, "SELECT 1")
}

func TestUnknownSessionAndQuery(t *testing.T) {
	s := start(t, Config{})
	c := dial(t, s.Addr())
	ctx := ctxFor(t, "blue")

	_, err := c.query("blue", "no-such-session", "SELECT 1")
	wantCode(t, err, codes.Internal, "Access denied")
	_, err = c.batch("blue", "", "q")
	wantCode(t, err, codes.Internal, "Access denied")

	sess := c.mustAuth("blue")
	for name, call := range map[string]func() error{
		"execute": func() error {
			_, err := c.qe.ExecuteStatementV2(ctx, &enginepb.ExecuteStatementV2Request{SessionId: sess, QueryId: "no-such-query"})
			return err
		},
		"metadata": func() error {
			_, err := c.qe.GetResultMetadata(ctx, &enginepb.GetResultMetadataRequest{SessionId: sess, QueryId: "no-such-query"})
			return err
		},
		"batch": func() error { _, err := c.batch("blue", sess, "no-such-query"); return err },
		"status": func() error {
			_, err := c.qe.Status(ctx, &enginepb.StatusRequest{SessionId: sess, QueryId: "no-such-query"})
			return err
		},
	} {
		err := call()
		st, _ := status.FromError(err)
		if err == nil || st.Code() == codes.Unknown || !strings.Contains(strings.ToLower(st.Message()), "quer") {
			t.Errorf("%s of an unknown query: %v; want a clear error naming the query", name, err)
		}
	}
	// Clearing an unknown (or already cleared) query is idempotent.
	if _, err := c.qe.ClearOrCancelQuery(ctx, &enginepb.ClearOrCancelQueryRequest{SessionId: sess, QueryId: "no-such-query"}); err != nil {
		t.Errorf("clear of an unknown query: %v", err)
	}
	// A query of one stack is unknown on the other.
	q := c.mustQuery("blue", sess, "SELECT 1")
	if err := s.Switch(context.Background(), time.Hour, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.batch("green", sess, q); err == nil {
		t.Fatal("blue's session was accepted by green")
	}
}

func TestRequestTooLarge(t *testing.T) {
	s := start(t, Config{MaxRecvMsgSize: 1 << 20})
	c := dial(t, s.Addr())
	sess := c.mustAuth("blue")
	_, err := c.query("blue", sess, "SELECT '"+strings.Repeat("x", 2<<20)+"'")
	wantCode(t, err, codes.ResourceExhausted, "larger than max")
	// The connection and the session are fine afterwards.
	c.mustQuery("blue", sess, "SELECT 1")
	if DefaultMaxRecvMsgSize != 4<<20 {
		t.Fatal("the documented default changed")
	}
}

// A client that never clears its queries: the engine reclaims them.
func TestNeverClearedQueriesAreReclaimed(t *testing.T) {
	// Long enough that a prepare and its execute, however slow the
	// machine, come within it; short enough to keep the test quick.
	s := start(t, Config{QueryIdleTimeout: 2 * time.Second})
	c := dial(t, s.Addr())
	sess := c.mustAuth("blue")
	for range 3 {
		c.mustQuery("blue", sess, hundredRows)
	}
	waitFor(t, "the abandoned queries to be reclaimed", func() bool {
		st := s.Stats().Stacks[Blue]
		return st.OpenQueries == 0 && st.Reclaimed == 3
	})
	// The session itself is still usable.
	c.mustQuery("blue", sess, "SELECT 1")
}

// 1000 sessions authenticated at once, then each running a small query
// (at most 100 queries in flight, to keep the test fast on two cores): every
// call either succeeds or fails with a clear error (no panic, no hang).
func TestThousandConcurrentSessions(t *testing.T) {
	s := start(t, Config{})
	c := dial(t, s.Addr())
	const n = 1000
	t0 := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sessions := make(chan string, n)
	for range n {
		wg.Go(func() {
			r, err := c.auth("blue")
			if err != nil {
				errs <- err
				return
			}
			sessions <- r.GetSessionId()
		})
	}
	wg.Wait()
	close(sessions)
	close(errs)
	for err := range errs {
		t.Fatalf("authenticate: %v", err)
	}
	t.Logf("authenticated %d sessions in %v", n, time.Since(t0))
	t0 = time.Now()
	if got := s.Stats().Stacks[Blue].Sessions; got != n {
		t.Fatalf("%d sessions, want %d", got, n)
	}
	var ok, limited int
	var mu sync.Mutex
	inflight := make(chan struct{}, 100)
	for sess := range sessions {
		wg.Go(func() {
			inflight <- struct{}{}
			defer func() { <-inflight }()
			q, err := c.query("blue", sess, "SELECT 42")
			if err == nil {
				_, err = c.batch("blue", sess, q)
			}
			if err == nil {
				_, err = c.qe.ClearOrCancelQuery(ctxFor(t, "blue"), &enginepb.ClearOrCancelQueryRequest{SessionId: sess, QueryId: q})
			}
			mu.Lock()
			defer mu.Unlock()
			switch status.Code(err) {
			case codes.OK:
				ok++
			case codes.ResourceExhausted:
				limited++ // a clear "too many open queries"
			default:
				t.Errorf("session %s: %v", sess, err)
			}
		})
	}
	wg.Wait()
	t.Logf("%d ok, %d refused with RESOURCE_EXHAUSTED, in %v", ok, limited, time.Since(t0))
	if ok == 0 || ok+limited != n {
		t.Fatalf("%d ok, %d limited of %d", ok, limited, n)
	}
}
