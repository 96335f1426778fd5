package e6sim

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/e6go/e6data/internal/enginepb"
)

// newTable creates a table of unique name on the shared database for a
// test's writes and returns its qualified name.
func newTable(t *testing.T, c *client, strategy, sess string) string {
	t.Helper()
	name := "sample.main.rec_" + strings.ToLower(rand.Text()[:12])
	c.mustQuery(strategy, sess, "CREATE TABLE "+name+" (k BIGINT)")
	return name
}

// countRows counts the rows of table through a query on the live stack
// read to its end.
func countRows(t *testing.T, s *Server, c *client, table string) int64 {
	t.Helper()
	sess := c.mustAuth(s.Live())
	q := c.mustQuery(s.Live(), sess, "SELECT k FROM "+table)
	for {
		b, err := c.batch(s.Live(), sess, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.GetResultBatch()) == 0 {
			break
		}
	}
	st, err := c.qe.Status(ctxFor(t, s.Live()), &enginepb.StatusRequest{SessionId: sess, QueryId: q})
	if err != nil {
		t.Fatal(err)
	}
	return st.GetRowCount()
}

func mustRecord(t *testing.T, s *Server, id string) QueryRecord {
	t.Helper()
	r, ok := s.Query(id)
	if !ok {
		t.Fatalf("no record of query %s", id)
	}
	return r
}

// The record follows a query from prepare to clear, and a cancelled one.
func TestRecordQueryLifecycle(t *testing.T) {
	s := start(t, Config{})
	c := dial(t, s.Addr())
	sess := c.mustAuth("blue")
	before := time.Now()
	q := c.mustQuery("blue", sess, hundredRows+";")
	r := mustRecord(t, s, q)
	if r.ID != q || r.Stack != Blue || r.SQL != hundredRows || !r.Executed || !r.Ended.IsZero() || r.TornDown ||
		r.Prepared.Before(before) {
		t.Fatalf("open query: %+v", r)
	}
	if _, err := c.qe.Clear(ctxFor(t, "blue"), &enginepb.ClearRequest{SessionId: sess, QueryId: q}); err != nil {
		t.Fatal(err)
	}
	if r := mustRecord(t, s, q); r.Ended.IsZero() || r.Ended.Before(r.Prepared) || r.TornDown {
		t.Fatalf("cleared query: %+v", r)
	}

	// Prepared only, then cancelled.
	p, err := c.qe.PrepareStatementV2(ctxFor(t, "blue"), &enginepb.PrepareStatementV2Request{
		SessionId: sess, Catalog: "sample", Schema: "main", QueryString: "SELECT 2"})
	if err != nil {
		t.Fatal(err)
	}
	if r := mustRecord(t, s, p.GetQueryId()); r.Executed || !r.Ended.IsZero() {
		t.Fatalf("prepared query: %+v", r)
	}
	if _, err := c.qe.CancelQuery(ctxFor(t, "blue"), &enginepb.CancelQueryRequest{SessionId: sess, QueryId: p.GetQueryId()}); err != nil {
		t.Fatal(err)
	}
	if r := mustRecord(t, s, p.GetQueryId()); r.Executed || r.Ended.IsZero() || r.TornDown {
		t.Fatalf("cancelled query: %+v", r)
	}
	all := s.Queries()
	if len(all) != 2 || all[0].ID != q || all[1].ID != p.GetQueryId() {
		t.Fatalf("Queries: %+v", all)
	}
	if _, ok := s.Query("nope"); ok {
		t.Fatal("a record of a query never prepared")
	}
	if len(s.Teardowns()) != 0 {
		t.Fatalf("teardowns without a switch: %+v", s.Teardowns())
	}
}

// A query reclaimed idle ends in the record, not torn down.
func TestRecordReclaimedQuery(t *testing.T) {
	s := start(t, Config{QueryIdleTimeout: 50 * time.Millisecond})
	c := dial(t, s.Addr())
	q := c.mustQuery("blue", c.mustAuth("blue"), hundredRows)
	waitFor(t, "the query to be reclaimed", func() bool { return !mustRecord(t, s, q).Ended.IsZero() })
	if r := mustRecord(t, s, q); r.TornDown {
		t.Fatalf("reclaimed query: %+v", r)
	}
}

// Teardowns are recorded, and so is every query they cut short: an abrupt
// switch, the end of a drain, a switch that finds a stack still draining,
// and a suspension.
func TestRecordTeardowns(t *testing.T) {
	s := start(t, Config{})
	c := dial(t, s.Addr())
	sess := c.mustAuth("blue")
	open := c.mustQuery("blue", sess, hundredRows)
	done := c.mustQuery("blue", sess, "SELECT 1")
	if _, err := c.qe.Clear(ctxFor(t, "blue"), &enginepb.ClearRequest{SessionId: sess, QueryId: done}); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	must(t, s.Switch(t.Context(), 0, 0)) // abrupt: blue torn down
	td := s.Teardowns()
	if len(td) != 1 || td[0].Stack != Blue || td[0].At.Before(before) || td[0].Reason != "abrupt switch" {
		t.Fatalf("teardowns: %+v", td)
	}
	if r := mustRecord(t, s, open); !r.TornDown || r.Ended.Before(td[0].At) {
		t.Fatalf("query open at the teardown: %+v", r)
	}
	if r := mustRecord(t, s, done); r.TornDown || r.Ended.After(td[0].At) {
		t.Fatalf("query cleared before the teardown: %+v", r)
	}

	// Graceful: green drains, its query survives the switch and is lost
	// at the end of the drain.
	gsess := c.mustAuth("green")
	gq := c.mustQuery("green", gsess, hundredRows)
	must(t, s.Switch(t.Context(), time.Hour, 0))
	if r := mustRecord(t, s, gq); r.TornDown || !r.Ended.IsZero() {
		t.Fatalf("draining query: %+v", r)
	}
	s.EndDrain()
	td = s.Teardowns()
	if len(td) != 2 || td[1].Stack != Green || td[1].Reason != "drain ended early" {
		t.Fatalf("teardowns: %+v", td)
	}
	if r := mustRecord(t, s, gq); !r.TornDown || r.Stack != Green {
		t.Fatalf("query lost at the end of the drain: %+v", r)
	}

	// A suspension loses the queries of both stacks.
	bq := c.mustQuery("blue", c.mustAuth("blue"), hundredRows)
	s.Suspend()
	td = s.Teardowns()
	if len(td) != 4 || td[2].Reason != "suspend" || td[3].Reason != "suspend" {
		t.Fatalf("teardowns: %+v", td)
	}
	if r := mustRecord(t, s, bq); !r.TornDown {
		t.Fatalf("query lost to a suspension: %+v", r)
	}
}

// The history is bounded: the newest records are kept.
func TestRecordHistoryBounded(t *testing.T) {
	s := start(t, Config{QueryHistory: 3})
	c := dial(t, s.Addr())
	sess := c.mustAuth("blue")
	var ids []string
	for range 5 {
		ids = append(ids, c.mustQuery("blue", sess, "SELECT 1"))
	}
	all := s.Queries()
	if len(all) != 3 || all[0].ID != ids[2] || all[2].ID != ids[4] {
		t.Fatalf("kept %+v; want the last 3 of %v", all, ids)
	}
	if _, ok := s.Query(ids[0]); ok {
		t.Fatal("the oldest record is still kept")
	}
	none := start(t, Config{QueryHistory: -1})
	cn := dial(t, none.Addr())
	cn.mustQuery("blue", cn.mustAuth("blue"), "SELECT 1")
	if n := len(none.Queries()); n != 0 {
		t.Fatalf("QueryHistory -1 kept %d records", n)
	}
}

// A stack torn down while a prepare or an authenticate is inside it: the
// call is answered UNAVAILABLE and leaves nothing behind, neither on the
// dead deployment nor on the stack's next one.
func TestTeardownDuringCallLeavesNothing(t *testing.T) {
	for _, method := range []string{"prepareStatementV2", "authenticate"} {
		for _, mode := range bothSignals {
			t.Run(method+"/"+mode.String(), func(t *testing.T) {
				s := start(t, Config{Signal: mode})
				c := dial(t, s.Addr())
				sess := c.mustAuth("blue")
				inside, release := make(chan struct{}), make(chan struct{})
				s.HookBefore(func(m string) {
					if m == method {
						close(inside)
						<-release
					}
				})
				done := make(chan error, 1)
				go func() {
					var err error
					if method == "authenticate" {
						_, err = c.auth("blue")
					} else {
						_, err = c.qe.PrepareStatementV2(ctxFor(t, "blue"), &enginepb.PrepareStatementV2Request{
							SessionId: sess, Catalog: "sample", Schema: "main", QueryString: "SELECT 1"})
					}
					done <- err
				}()
				<-inside
				// Blue drains, then is torn down by the next switch, which
				// makes it live again: its new deployment must not hold
				// what the interrupted call would have created.
				must(t, s.Switch(t.Context(), time.Hour, 0))
				must(t, s.Switch(t.Context(), time.Hour, 0))
				close(release)
				err := <-done
				wantCode(t, err, codes.Unavailable, "torn down during the call")
				if is456(err) {
					t.Fatalf("interrupted call answered like a 456: %v", err)
				}
				if st := s.Stats().Stacks[Blue]; st.OpenQueries != 0 || st.Sessions != 0 {
					t.Fatalf("the interrupted %s left something behind on blue: %+v", method, st)
				}
				if n := len(s.Queries()); n != 0 {
					t.Fatalf("records of queries never registered: %+v", s.Queries())
				}
			})
		}
	}
}

// A write that ran when its stack was torn down before the answer: the
// client gets UNAVAILABLE (not a 456, which would say it never ran), the
// record says it was executed and torn down, and the row is there.
func TestTeardownAfterExecuteAnswersReset(t *testing.T) {
	for _, mode := range bothSignals {
		t.Run(mode.String(), func(t *testing.T) {
			s := start(t, Config{Signal: mode})
			c := dial(t, s.Addr())
			sess := c.mustAuth("blue")
			table := newTable(t, c, "blue", sess)
			served, release := make(chan struct{}), make(chan struct{})
			s.HookAfter(func(m string) {
				if m == "executeStatementV2" {
					close(served)
					<-release
				}
			})
			done := make(chan error, 1)
			var id string
			go func() {
				var err error
				id, err = c.query("blue", sess, "INSERT INTO "+table+" VALUES (1)")
				done <- err
			}()
			<-served
			s.HookAfter(func(string) {})
			must(t, s.Switch(t.Context(), 0, 0))
			close(release)
			err := <-done
			wantCode(t, err, codes.Unavailable, "torn down during the call")
			if is456(err) {
				t.Fatalf("a write that ran answered like a 456: %v", err)
			}
			if r := mustRecord(t, s, id); !r.Executed || !r.TornDown || r.Stack != Blue {
				t.Fatalf("record: %+v", r)
			}
			if n := countRows(t, s, c, table); n != 1 {
				t.Fatalf("%d rows in %s; want the 1 the write committed", n, table)
			}
		})
	}
}

// A draining stack re-authenticates a user who still has a query open
// there (so that an expired session does not cut the drain short), and
// only such a user, in both signal modes.
func TestDrainingStackReauthenticatesUserWithOpenQueries(t *testing.T) {
	for _, mode := range bothSignals {
		t.Run(mode.String(), func(t *testing.T) {
			s := start(t, Config{Signal: mode, ChunkRows: 10})
			c := dial(t, s.Addr())
			sess := c.mustAuth("blue")
			q := c.mustQuery("blue", sess, hundredRows)
			must(t, s.Switch(t.Context(), time.Hour, 0))
			s.ExpireSessions()
			_, err := c.batch("blue", sess, q)
			wantCode(t, err, codes.Internal, "Access denied")

			// alice has a query open on blue: re-authenticated there.
			sess2 := c.mustAuth("blue")
			b, err := c.batch("blue", sess2, q)
			if err != nil || len(b.GetResultBatch()) == 0 || b.GetNewStrategy() != Green {
				t.Fatalf("fetch with the new session: %v, %+v", err, b)
			}
			// bob has none: a new session on a draining stack is refused.
			_, err = c.qe.Authenticate(ctxFor(t, "blue"), &enginepb.AuthenticateRequest{User: "bob", Password: "token"})
			wantSignal(t, err, mode, 456)

			// Once alice's query is cleared, she is refused too.
			if _, err := c.qe.Clear(ctxFor(t, "blue"), &enginepb.ClearRequest{SessionId: sess2, QueryId: q}); err != nil {
				t.Fatal(err)
			}
			_, err = c.auth("blue")
			wantSignal(t, err, mode, 456)
		})
	}
}

// A rule with After serves the call, then answers the fault: the write
// ran, the client sees UNAVAILABLE.
func TestFaultAfterServing(t *testing.T) {
	for _, mode := range bothSignals {
		t.Run(mode.String(), func(t *testing.T) {
			s := start(t, Config{Signal: mode})
			c := dial(t, s.Addr())
			sess := c.mustAuth("blue")
			table := newTable(t, c, "blue", sess)
			must(t, s.SetFaults([]FaultRule{{Method: "executeStatementV2", Kind: FaultUnavailable, After: true, Count: 1}}))
			id, err := c.query("blue", sess, "INSERT INTO "+table+" VALUES (7)")
			wantCode(t, err, codes.Unavailable, "after the call was served")
			if r := mustRecord(t, s, id); !r.Executed || r.TornDown {
				t.Fatalf("record: %+v", r)
			}
			if n := countRows(t, s, c, table); n != 1 {
				t.Fatalf("%d rows; want 1", n)
			}

			// Stall after: the call runs, the answer never comes.
			must(t, s.SetFaults([]FaultRule{{Method: "executeStatementV2", Kind: FaultStall, After: true, Count: 1}}))
			ctx, cancel := context.WithTimeout(ctxFor(t, "blue"), 300*time.Millisecond)
			defer cancel()
			p, err := c.qe.PrepareStatementV2(ctx, &enginepb.PrepareStatementV2Request{
				SessionId: sess, Catalog: "sample", Schema: "main", QueryString: "INSERT INTO " + table + " VALUES (8)"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.qe.ExecuteStatementV2(ctx, &enginepb.ExecuteStatementV2Request{SessionId: sess, QueryId: p.GetQueryId()})
			wantCode(t, err, codes.DeadlineExceeded, "")
			waitFor(t, "the stalled write to be recorded", func() bool { return mustRecord(t, s, p.GetQueryId()).Executed })
			if n := countRows(t, s, c, table); n != 2 {
				t.Fatalf("%d rows; want 2", n)
			}
		})
	}
}

func TestFaultAfterRule(t *testing.T) {
	s := start(t, Config{})
	for _, k := range []FaultKind{Fault456, Fault503, FaultAccessDenied, FaultLatency, FaultEndless} {
		r := FaultRule{Kind: k, After: true}
		if k == FaultLatency {
			r.Latency = time.Millisecond
		}
		if err := s.SetFaults([]FaultRule{r}); err == nil {
			t.Errorf("kind %s with after: accepted", k)
		}
	}
	var r FaultRule
	if err := json.Unmarshal([]byte(`{"method":"executeStatementV2","kind":"unavailable","after":true}`), &r); err != nil {
		t.Fatal(err)
	}
	if r != (FaultRule{Method: "executeStatementV2", Kind: FaultUnavailable, After: true}) {
		t.Fatalf("unmarshal: %+v", r)
	}
	out, err := json.Marshal(r)
	if err != nil || string(out) != `{"method":"executeStatementV2","kind":"unavailable","after":true}` {
		t.Fatalf("marshal: %s, %v", out, err)
	}
	must(t, s.SetFaults([]FaultRule{r}))
}
