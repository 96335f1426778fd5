package e6data

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/e6go/e6data/internal/enginepb"
)

// The strategy cache timeout moves with each cluster's own clock
// (cluster.advance), which only an in-package test can turn: these tests
// run the connector's sessions against stackFake, a fake at the call layer
// that counts the calls per method and stack. (How Connectors share the
// cluster's state against e6sim: internal/e2e/cluster_test.go.)

// stackFake answers every call at once: authenticate with a session of the
// stack named in the strategy header, and a 456 for every call to the stack
// in gone.
type stackFake struct {
	nopConn
	mu    sync.Mutex
	gone  string
	calls map[string]int // "method strategy" -> calls
}

func (f *stackFake) Invoke(ctx context.Context, method string, _, resp any, _ ...grpc.CallOption) error {
	md, _ := metadata.FromOutgoingContext(ctx)
	st := strings.Join(md.Get("strategy"), ",")
	name := method[strings.LastIndexByte(method, '/')+1:]
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[name+" "+st]++
	gone := f.gone == st
	f.mu.Unlock()
	if gone {
		return status.Error(codes.Unknown, "status: 456 wrong strategy")
	}
	switch r := resp.(type) {
	case *enginepb.AuthenticateResponse:
		r.SessionId = "s-" + st
	case *enginepb.ClusterStatusResponse:
		r.Status = "active"
	}
	return nil
}

// count is how many calls of method (any stack when strategy is "") were made.
func (f *stackFake) count(method, strategy string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k, v := range f.calls {
		m, st, _ := strings.Cut(k, " ")
		if m == method && (strategy == "" || st == strategy) {
			n += v
		}
	}
	return n
}

func (f *stackFake) setGone(st string) {
	f.mu.Lock()
	f.gone = st
	f.mu.Unlock()
}

// workOn makes sure cn has a session for new work, as every query does
// first.
func workOn(t *testing.T, cn *conn) string {
	t.Helper()
	o := cn.newOp("query", true, nil)
	var st string
	err := cn.run(context.Background(), o, func(ctx context.Context) error {
		s, err := cn.ensureSession(ctx, o)
		st = s.strategy
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// cacheConnector is a connector on fake with no strategy known yet.
func cacheConnector(t *testing.T, fake *stackFake, timeout string) *Connector {
	t.Helper()
	return fakeEngineConnector(t, fake, false, WithSetting("E6DATA_STRATEGY_CACHE_TIMEOUT", timeout),
		WithSetting("E6DATA_MIN_CONNECTIONS", "0"))
}

func newConn(c *Connector) *conn { return &conn{ctr: c, life: c.life} }

// E6DATA_STRATEGY_CACHE_TIMEOUT: after an idle period longer than the
// timeout, the next query makes one confirming call (getCataloges, on the
// cached strategy) before relying on it; within the timeout it makes none.
// The same idle period with two values of the setting shows the difference.
func TestStrategyCacheTimeoutConfirmsAfterIdle(t *testing.T) {
	for _, tc := range []struct {
		timeout  string
		idle     time.Duration
		confirms int
	}{
		{"60", 30 * time.Second, 0},
		{"60", 2 * time.Minute, 1},
		{"1800", 2 * time.Minute, 0},
		{"1800", 31 * time.Minute, 1},
	} {
		t.Run(fmt.Sprintf("timeout=%ss/idle=%v", tc.timeout, tc.idle), func(t *testing.T) {
			fake := &stackFake{}
			ctr := cacheConnector(t, fake, tc.timeout)
			cn := newConn(ctr)
			if st := workOn(t, cn); st != "blue" {
				t.Fatalf("session on %q, want blue (detected first)", st)
			}
			c0, a0 := fake.count("getCataloges", ""), fake.count("authenticate", "")
			ctr.cl.advance(tc.idle)
			workOn(t, cn)
			if got := fake.count("getCataloges", "blue") - c0; got != tc.confirms {
				t.Fatalf("confirming calls after %v idle: %d, want %d", tc.idle, got, tc.confirms)
			}
			workOn(t, cn) // just confirmed (or still fresh): nothing more
			if got := fake.count("getCataloges", "") - c0; got != tc.confirms {
				t.Fatalf("confirming calls on the next query: %d more", got-tc.confirms)
			}
			if a := fake.count("authenticate", "") - a0; a != 0 {
				t.Fatalf("%d authenticates: the session was good", a)
			}
		})
	}
}

// Connections that find the strategy stale at the same time share one
// confirming call.
func TestStrategyCacheTimeoutOneConfirmationForManyConnections(t *testing.T) {
	fake := &stackFake{}
	ctr := cacheConnector(t, fake, "60")
	const n = 8
	conns := make([]*conn, n)
	for i := range conns {
		conns[i] = newConn(ctr)
		workOn(t, conns[i]) // a session each
	}
	c0 := fake.count("getCataloges", "")
	ctr.cl.advance(2 * time.Minute)
	var wg sync.WaitGroup
	for _, cn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			workOn(t, cn)
		}()
	}
	wg.Wait()
	if got := fake.count("getCataloges", "") - c0; got != 1 {
		t.Fatalf("%d confirming calls for %d stale connections, want 1", got, n)
	}
}

// A 456 on the confirming call starts a detection: past the timeout, the
// connection's next work confirms on the cached stack, meets the 456 and
// opens a session on the live one; within the timeout it relies on the
// cached strategy and makes no call before its work (whose own call then
// meets the 456: the recovery tests against e6sim cover that).
func TestStrategyCacheTimeoutConfirmationFinds456(t *testing.T) {
	for _, tc := range []struct {
		timeout  string
		confirms int
		want     string // the stack of the session for new work
	}{
		{"60", 1, "green"},
		{"1800", 0, "blue"},
	} {
		t.Run("timeout="+tc.timeout, func(t *testing.T) {
			fake := &stackFake{}
			ctr := cacheConnector(t, fake, tc.timeout)
			cn := newConn(ctr)
			workOn(t, cn)
			fake.setGone("blue") // blue torn down at once
			c0, s0 := fake.count("getCataloges", ""), fake.count("authenticate", "green")
			ctr.cl.advance(2 * time.Minute)
			st := workOn(t, cn)
			if c := fake.count("getCataloges", "blue") - c0; c != tc.confirms || st != tc.want {
				t.Fatalf("confirming calls %d (want %d), session on %q (want %q); calls %v", c, tc.confirms, st, tc.want, fake.calls)
			}
			if tc.want == "green" {
				if a := fake.count("authenticate", "green") - s0; a != 1 {
					t.Fatalf("%d authenticates on green after the 456, want 1", a)
				}
				if a := ctr.Stats().Active; a != "green" {
					t.Fatalf("active %q after the confirmation", a)
				}
			}
		})
	}
}

// A state kept for a released cluster, past the strategy cache timeout:
// the new Connector's first session, authenticated on the cached strategy,
// confirms it (no 456, no confirming call).
func TestStrategyCacheTimeoutKeptState(t *testing.T) {
	fake := &stackFake{}
	a := cacheConnector(t, fake, "60")
	workOn(t, newConn(a))
	cl := a.cl
	a.Close()
	cl.advance(time.Hour)
	b := cacheConnector(t, fake, "60")
	if b.cl != cl {
		t.Fatal("the released cluster's state was not kept")
	}
	a0, c0 := fake.count("authenticate", ""), fake.count("getCataloges", "")
	if st := workOn(t, newConn(b)); st != "blue" {
		t.Fatalf("session on %q", st)
	}
	if auths, confirms := fake.count("authenticate", "")-a0, fake.count("getCataloges", "")-c0; auths != 1 || confirms != 0 {
		t.Fatalf("stale kept state: %d authenticates, %d confirming calls; want 1 and 0", auths, confirms)
	}
}
