package e6sim

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/e6go/e6data/internal/enginepb"
)

const hundredRows = "SELECT id FROM sample.main.numbers WHERE id < 100 ORDER BY id"

func TestWrongStrategyGets456(t *testing.T) {
	for _, mode := range bothSignals {
		t.Run(mode.String(), func(t *testing.T) {
			s := start(t, Config{Signal: mode})
			c := dial(t, s.Addr())

			_, err := c.auth("green")
			wantSignal(t, err, mode, 456)
			_, err = c.auth("Blue") // strategies are lower case, matched exactly
			wantSignal(t, err, mode, 456)
			_, err = c.auth("purple")
			wantSignal(t, err, mode, 456)

			c.mustAuth("blue")
			r, err := c.auth("") // no header: the live stack
			if err != nil || r.GetSessionId() == "" || r.NewStrategy != nil {
				t.Fatalf("authenticate without strategy: %v %v", r, err)
			}
			// Any rpc is routed, not only authenticate.
			_, err = c.qe.HealthCheck(ctxFor(t, "green"), &enginepb.HealthCheckRequest{})
			wantSignal(t, err, mode, 456)
			if _, err := c.qe.HealthCheck(ctxFor(t, "blue"), &enginepb.HealthCheckRequest{}); err != nil {
				t.Fatalf("healthCheck on live: %v", err)
			}

			st := s.Stats()
			if st.Sent456 != 4 || st.Live != Blue || st.Stacks[Green].State != "down" {
				t.Fatalf("stats: %+v", st)
			}
			if st.RPCs["QueryEngineService/authenticate"] != 5 {
				t.Fatalf("authenticate count %d, want 5", st.RPCs["QueryEngineService/authenticate"])
			}
		})
	}
}

func TestInitialStrategyGreen(t *testing.T) {
	s := start(t, Config{Strategy: Green})
	c := dial(t, s.Addr())
	if _, err := c.auth("blue"); !is456(err) {
		t.Fatalf("blue while green is live: %v", err)
	}
	c.mustAuth("green")
	if s.Live() != Green {
		t.Fatalf("Live() = %q", s.Live())
	}
}

// A graceful switch: the draining stack serves its in-flight query to the
// last batch, announcing the new strategy in every response; it refuses new
// sessions; once torn down it answers 456.
func TestDrainingStackServesInFlightQuery(t *testing.T) {
	for _, mode := range bothSignals {
		t.Run(mode.String(), func(t *testing.T) {
			s := start(t, Config{Signal: mode, ChunkRows: 10})
			c := dial(t, s.Addr())
			sess := c.mustAuth("blue")
			q := c.mustQuery("blue", sess, hundredRows)
			r, err := c.batch("blue", sess, q)
			if err != nil || len(r.GetResultBatch()) == 0 || r.NewStrategy != nil {
				t.Fatalf("first batch before the switch: %v, %v", r, err)
			}
			ids := firstColumn(t, r.GetResultBatch())

			if err := s.Switch(context.Background(), time.Hour, 0); err != nil {
				t.Fatal(err)
			}
			if s.Live() != Green || s.Draining() != Blue {
				t.Fatalf("after switch: live %q draining %q", s.Live(), s.Draining())
			}

			// New sessions on the draining stack: 456 (for a user without
			// queries there; alice's re-authentication is accepted, see
			// TestDrainingStackReauthenticatesUserWithOpenQueries). On the
			// live one: fine, and nothing to announce.
			_, err = c.qe.Authenticate(ctxFor(t, "blue"), &enginepb.AuthenticateRequest{User: "bob", Password: "token"})
			wantSignal(t, err, mode, 456)
			ar, err := c.auth("green")
			if err != nil || ar.NewStrategy != nil {
				t.Fatalf("authenticate on the new live stack: %v, %v", ar, err)
			}
			// No header means the live stack now.
			if ar, err := c.auth(""); err != nil || ar.NewStrategy != nil {
				t.Fatalf("authenticate without header: %v, %v", ar, err)
			}

			// The in-flight query runs to its end on blue.
			for {
				r, err := c.batch("blue", sess, q)
				if err != nil {
					t.Fatalf("batch while draining: %v", err)
				}
				if r.GetNewStrategy() != Green {
					t.Fatalf("draining response without new_strategy=green: %v", r)
				}
				if len(r.GetResultBatch()) == 0 {
					break
				}
				ids = append(ids, firstColumn(t, r.GetResultBatch())...)
			}
			if len(ids) != 100 {
				t.Fatalf("read %d rows, want 100", len(ids))
			}
			for i, id := range ids {
				if id != int64(i) {
					t.Fatalf("row %d: id %d", i, id)
				}
			}
			ctx := ctxFor(t, "blue")
			md, err := c.qe.GetResultMetadata(ctx, &enginepb.GetResultMetadataRequest{SessionId: sess, QueryId: q})
			if err != nil || md.GetNewStrategy() != Green {
				t.Fatalf("metadata while draining: %v, %v", md, err)
			}
			cr, err := c.qe.ClearOrCancelQuery(ctx, &enginepb.ClearOrCancelQueryRequest{SessionId: sess, QueryId: q})
			if err != nil || cr.GetNewStrategy() != Green {
				t.Fatalf("clear while draining: %v, %v", cr, err)
			}
			// An existing session may still start work on the draining stack.
			q2 := c.mustQuery("blue", sess, "SELECT 1")
			if st := s.Stats(); st.Draining != Blue || st.Stacks[Blue].State != "draining" || st.Stacks[Blue].OpenQueries != 1 {
				t.Fatalf("stats while draining: %+v", st)
			}

			s.EndDrain()
			if s.Draining() != "" {
				t.Fatalf("still draining %q", s.Draining())
			}
			_, err = c.batch("blue", sess, q2)
			wantSignal(t, err, mode, 456)
			if st := s.Stats(); st.Stacks[Blue].State != "down" || st.Stacks[Blue].Sessions != 0 || st.Stacks[Blue].OpenQueries != 0 {
				t.Fatalf("torn-down stack still holds state: %+v", st.Stacks[Blue])
			}
			c.mustQuery("green", c.mustAuth("green"), "SELECT 1")
		})
	}
}

func TestDrainPeriodEnds(t *testing.T) {
	s := start(t, Config{})
	c := dial(t, s.Addr())
	sess := c.mustAuth("blue")
	if err := s.Switch(context.Background(), 30*time.Millisecond, 0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the drain period to end", func() bool { return s.Draining() == "" })
	if _, err := c.qe.GetSchemaNamesV2(ctxFor(t, "blue"), &enginepb.GetSchemaNamesV2Request{SessionId: sess, Catalog: "sample"}); !is456(err) {
		t.Fatalf("call to the torn-down stack: %v", err)
	}
}

// Drain 0: the old stack is gone at once, its in-flight query lost mid-fetch.
func TestAbruptSwitch(t *testing.T) {
	for _, mode := range bothSignals {
		t.Run(mode.String(), func(t *testing.T) {
			s := start(t, Config{Signal: mode, ChunkRows: 10})
			c := dial(t, s.Addr())
			sess := c.mustAuth("blue")
			q := c.mustQuery("blue", sess, hundredRows)
			if _, err := c.batch("blue", sess, q); err != nil {
				t.Fatal(err)
			}
			if err := s.Switch(context.Background(), 0, 0); err != nil {
				t.Fatal(err)
			}
			if s.Live() != Green || s.Draining() != "" {
				t.Fatalf("live %q draining %q", s.Live(), s.Draining())
			}
			_, err := c.batch("blue", sess, q)
			wantSignal(t, err, mode, 456)
			if st := s.Stats().Stacks[Blue]; st.OpenQueries != 0 || st.Sessions != 0 {
				t.Fatalf("abruptly removed stack still has state: %+v", st)
			}
		})
	}
}

func TestAnnouncePhase(t *testing.T) {
	s := start(t, Config{})
	c := dial(t, s.Addr())
	blueSess := c.mustAuth("blue")

	done := make(chan error, 1)
	go func() { done <- s.Switch(context.Background(), time.Hour, time.Hour) }()
	waitFor(t, "the announce phase", func() bool { return s.Announcing() == Green })

	// Live stack still live, but announcing green in every response.
	if s.Live() != Blue {
		t.Fatalf("live %q during announce", s.Live())
	}
	r, err := c.auth("blue")
	if err != nil || r.GetNewStrategy() != Green {
		t.Fatalf("authenticate on the live stack during announce: %v, %v", r, err)
	}
	q := c.mustQuery("blue", blueSess, "SELECT 1")
	st, err := c.qe.Status(ctxFor(t, "blue"), &enginepb.StatusRequest{SessionId: blueSess, QueryId: q})
	if err != nil || st.GetNewStrategy() != Green {
		t.Fatalf("status during announce: %v, %v", st, err)
	}
	// The announced stack already accepts work, with nothing to announce.
	gr, err := c.auth("green")
	if err != nil || gr.NewStrategy != nil {
		t.Fatalf("authenticate on the announced stack: %v, %v", gr, err)
	}
	greenSess := gr.GetSessionId()
	c.mustQuery("green", greenSess, "SELECT 1")
	if got := s.Stats().Stacks[Green].State; got != "announced" {
		t.Fatalf("green state %q during announce", got)
	}

	s.EndAnnounce()
	if err := <-done; err != nil {
		t.Fatalf("Switch: %v", err)
	}
	if s.Live() != Green || s.Draining() != Blue || s.Announcing() != "" {
		t.Fatalf("after announce: live %q draining %q announcing %q", s.Live(), s.Draining(), s.Announcing())
	}
	// Sessions made during the announce phase survive the switch.
	if r, err := c.batch("green", greenSess, q); err == nil {
		// q belongs to blue: green does not know it.
		t.Fatalf("blue's query on green: %v", r)
	}
	c.mustQuery("green", greenSess, "SELECT 2")
	if r, err := c.batch("blue", blueSess, q); err != nil || r.GetNewStrategy() != Green {
		t.Fatalf("blue's query while draining: %v, %v", r, err)
	}
}

func TestAnnounceAbandoned(t *testing.T) {
	s := start(t, Config{})
	c := dial(t, s.Addr())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Switch(ctx, time.Hour, time.Hour) }()
	waitFor(t, "the announce phase", func() bool { return s.Announcing() == Green })
	greenSess := c.mustAuth("green")
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Switch after cancel: %v", err)
	}
	if s.Live() != Blue || s.Announcing() != "" || s.Draining() != "" || s.Stats().Switches != 0 {
		t.Fatalf("abandoned switch left state: %+v", s.Stats())
	}
	if _, err := c.query("green", greenSess, "SELECT 1"); !is456(err) {
		t.Fatalf("announced stack after abandon: %v", err)
	}
	if r, err := c.auth("blue"); err != nil || r.NewStrategy != nil {
		t.Fatalf("live stack after abandon: %v, %v", r, err)
	}
}

// A switch while the old stack still drains tears that one down first.
func TestSwitchWhileDraining(t *testing.T) {
	s := start(t, Config{})
	c := dial(t, s.Addr())
	blueSess := c.mustAuth("blue")
	if err := s.Switch(context.Background(), time.Hour, 0); err != nil {
		t.Fatal(err)
	}
	greenSess := c.mustAuth("green")
	if err := s.Switch(context.Background(), time.Hour, 0); err != nil {
		t.Fatal(err)
	}
	if s.Live() != Blue || s.Draining() != Green {
		t.Fatalf("live %q draining %q", s.Live(), s.Draining())
	}
	// Blue was torn down before it became live again: its old session is gone.
	_, err := c.query("blue", blueSess, "SELECT 1")
	wantCode(t, err, codes.Internal, "Access denied")
	// Green drains: its session still works and hears about blue.
	if r, err := c.qe.GetSchemaNamesV2(ctxFor(t, "green"), &enginepb.GetSchemaNamesV2Request{SessionId: greenSess, Catalog: "sample"}); err != nil || r.GetNewStrategy() != Blue {
		t.Fatalf("draining green: %v, %v", r, err)
	}
	if got := s.Stats().Switches; got != 2 {
		t.Fatalf("switches = %d", got)
	}
}

func TestSetNewStrategy(t *testing.T) {
	for _, m := range []proto.Message{
		&enginepb.AuthenticateResponse{}, &enginepb.PrepareStatementResponse{},
		&enginepb.GetNextResultBatchResponse{}, &enginepb.StatusResponse{},
		&enginepb.ExplainAnalyzeResponse{}, &enginepb.GetColumnsResponse{},
	} {
		setNewStrategy(m, Green)
		fd := m.ProtoReflect().Descriptor().Fields().ByName("new_strategy")
		if got := m.ProtoReflect().Get(fd).String(); got != Green {
			t.Errorf("%T: new_strategy %q", m, got)
		}
	}
	// Messages without the field, and nil, are left alone.
	d := &enginepb.DryRunResponse{DryrunValue: "x"}
	setNewStrategy(d, Green)
	if !proto.Equal(d, &enginepb.DryRunResponse{DryrunValue: "x"}) {
		t.Errorf("DryRunResponse changed: %v", d)
	}
	setNewStrategy((*enginepb.ClearResponse)(nil), Green)
	setNewStrategy("not a message", Green)
}
