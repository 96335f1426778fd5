package e2e

import (
	e6data "github.com/e6go/e6data"

	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/e6go/e6data/e6sim"
)

// forgetTarget drops the released cluster states of target (host:port), so
// that a later simulator on the same port starts from nothing. States in
// use stay.
func (r *e6data.clusterRegistry) forgetTarget(target string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	prefix := strings.ToLower(target) + "/"
	for key, cl := range r.clusters {
		if strings.HasPrefix(key, prefix) && cl.lru != nil {
			r.released.Remove(cl.lru)
			cl.lru = nil
			delete(r.clusters, key)
		}
	}
}

// advance moves the clock of cl's strategy state forward by d.
func (cl *e6data.cluster) advance(d time.Duration) { cl.skew.Add(int64(d)) }

func (cl *e6data.cluster) memberCount() int {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return len(cl.members)
}

// released reports whether cl is kept among the released clusters.
func (cl *e6data.cluster) released() bool {
	e6data.clusters.mu.Lock()
	defer e6data.clusters.mu.Unlock()
	return cl.lru != nil
}

func rpcCount(srv *e6sim.Server, method string) int64 {
	return srv.Stats().RPCs["QueryEngineService/"+method]
}

func prepares(srv *e6sim.Server) int64 {
	return rpcCount(srv, "prepareStatement") + rpcCount(srv, "prepareStatementV2")
}

func countCustomers(t *testing.T, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) {
	t.Helper()
	var n int64
	if err := q.QueryRowContext(context.Background(), "SELECT count(*) FROM customers").Scan(&n); err != nil || n != 10 {
		t.Fatalf("count(*) = %d, %v", n, err)
	}
}

func TestClusterKey(t *testing.T) {
	cfg := func(name string) *e6data.Config { return &e6data.Config{ClusterName: name} }
	if a, b := e6data.clusterKey(cfg("Sales"), "DB.Example.com:443"), e6data.clusterKey(cfg("sales"), "db.example.com:443"); a != b {
		t.Errorf("keys differ only in case: %q %q", a, b)
	}
	keys := map[string]bool{}
	for _, k := range []string{
		e6data.clusterKey(cfg(""), "db.example.com:443"),
		e6data.clusterKey(cfg("sales"), "db.example.com:443"),
		e6data.clusterKey(cfg("ops"), "db.example.com:443"),
		e6data.clusterKey(cfg("sales"), "db.example.com:80"),
		e6data.clusterKey(cfg("sales"), "db2.example.com:443"),
	} {
		if keys[k] {
			t.Errorf("two targets share the key %q", k)
		}
		keys[k] = true
	}
}

// Two Connectors to one cluster (with different users) share its state:
// one resume call for one suspension, however many of their connections
// meet the 503.
func TestConnectorsToOneClusterResumeOnce(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig, ResumeDuration: 300 * time.Millisecond})
		opts := []e6data.Option{e6data.WithSetting("E6DATA_RESUME_POLL_INTERVAL", "0.1"), e6data.WithAutoResume(true, 30*time.Second)}
		dbA, ctrA := openDB(t, srv, opts...)
		dbB, ctrB := openDB(t, srv, append(opts, e6data.WithCredentials("bob@example.com", simToken))...)
		if ctrA.cl != ctrB.cl || ctrA.state != ctrB.state {
			t.Fatal("two Connectors to one cluster keep separate states")
		}
		const perDB = 6
		for _, db := range []*sql.DB{dbA, dbB} {
			db.SetMaxIdleConns(perDB)
		}
		run := func() []error {
			var wg sync.WaitGroup
			errs := make(chan error, 2*perDB)
			for _, db := range []*sql.DB{dbA, dbB} {
				for i := 0; i < perDB; i++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						var n int64
						if err := db.QueryRow("SELECT count(*) FROM customers").Scan(&n); err != nil || n != 10 {
							errs <- fmt.Errorf("n=%d err=%v", n, err)
						}
					}()
				}
			}
			wg.Wait()
			close(errs)
			var out []error
			for err := range errs {
				out = append(out, err)
			}
			return out
		}
		if errs := run(); len(errs) > 0 { // sessions in both pools before the suspend
			t.Fatal(errs)
		}
		srv.Suspend()
		if errs := run(); len(errs) > 0 {
			t.Fatal(errs)
		}
		st := srv.Stats()
		if st.Resumes != 1 || st.RPCs["ClusterService/resume"] != 1 || st.ClusterStatus != e6sim.StatusActive {
			t.Fatalf("resumes %d, resume calls %d (status %s): want exactly one for the cluster",
				st.Resumes, st.RPCs["ClusterService/resume"], st.ClusterStatus)
		}
		if st.Sent503 < 1 {
			t.Fatal("no 503: the suspension was never met")
		}
		t.Logf("%s: %d calls answered 503, %d status calls, 1 resume", sig, st.Sent503, st.RPCs["ClusterService/status"])
		if a, b := ctrA.Stats().Resumes, ctrB.Stats().Resumes; a != 1 || b != 1 {
			t.Fatalf("resumes in the shared state: %d and %d, want 1", a, b)
		}
	})
}

// When one Connector learns of a new stack (an announcement), the other
// starts its next query there, without first preparing on the old stack.
func TestConnectorsToOneClusterFollowOneAnnouncement(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	dbA, ctrA := openDB(t, srv)
	dbB, ctrB := openDB(t, srv, e6data.WithCredentials("bob@example.com", simToken))
	for _, db := range []*sql.DB{dbA, dbB} {
		db.SetMaxOpenConns(1)
		countCustomers(t, db) // each holds a session on blue
	}
	if err := srv.Switch(context.Background(), time.Minute, 0); err != nil {
		t.Fatal(err)
	}
	blue0 := srv.Stats().Stacks[e6sim.Blue].QueriesStarted
	countCustomers(t, dbA) // on its blue session: the draining stack announces green
	if p, a := ctrA.Stats().Pending, ctrA.Stats().Active; p != e6sim.Green && a != e6sim.Green {
		t.Fatalf("A did not learn of green: active %q pending %q", a, p)
	}
	st := srv.Stats()
	blue1, green1 := st.Stacks[e6sim.Blue].QueriesStarted, st.Stacks[e6sim.Green].QueriesStarted
	if blue1 != blue0+1 {
		t.Fatalf("A's query: blue queries %d -> %d, want it on its blue session", blue0, blue1)
	}
	countCustomers(t, dbB)
	st = srv.Stats()
	if blue2, green2 := st.Stacks[e6sim.Blue].QueriesStarted, st.Stacks[e6sim.Green].QueriesStarted; blue2 != blue1 || green2 != green1+1 {
		t.Fatalf("B's query: blue %d -> %d, green %d -> %d: want it started on green", blue1, blue2, green1, green2)
	}
	if a := ctrB.Stats().Active; a != e6sim.Green {
		t.Fatalf("B's active strategy %q", a)
	}
}

// Two clusters never share a strategy: two simulators, on different stacks,
// each keep their own, through a deployment of one of them.
func TestTwoClustersKeepSeparateStrategies(t *testing.T) {
	blue := startSim(t, e6sim.Config{})
	green := startSim(t, e6sim.Config{Strategy: e6sim.Green})
	dbBlue, ctrBlue := openDB(t, blue)
	dbGreen, ctrGreen := openDB(t, green)
	if ctrBlue.cl == ctrGreen.cl {
		t.Fatal("two targets share one cluster state")
	}
	countCustomers(t, dbBlue)
	countCustomers(t, dbGreen)
	if a, b := ctrBlue.Stats().Active, ctrGreen.Stats().Active; a != e6sim.Blue || b != e6sim.Green {
		t.Fatalf("active strategies %q and %q, want blue and green", a, b)
	}
	blue456 := blue.Stats().Sent456
	if err := green.Switch(context.Background(), 0, 0); err != nil { // green -> blue, abruptly
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		countCustomers(t, dbGreen)
		countCustomers(t, dbBlue)
	}
	if a, b := ctrBlue.Stats().Active, ctrGreen.Stats().Active; a != e6sim.Blue || b != e6sim.Blue {
		t.Fatalf("after the second cluster's switch: active %q and %q, want blue and blue", a, b)
	}
	if n := blue.Stats().Sent456; n != blue456 {
		t.Fatalf("the first cluster answered %d 456s: the other cluster's switch leaked into its state", n-blue456)
	}
	if st := ctrBlue.Stats(); st.Transitions != 0 || st.WrongStrategy != 0 {
		t.Fatalf("first cluster's state saw a deployment it never had: %+v", st)
	}
}

// The state is released when the last Connector closes, and kept (with
// StrategyCacheSize at least 1) for the next Connector to the cluster.
func TestClusterReleasedOnLastClose(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	a, err := e6data.NewConnector(testConfig(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	b, err := e6data.NewConnector(testConfig(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	cl := a.cl
	if b.cl != cl || cl.memberCount() != 2 || e6data.clusters.lookup(cl.key) != cl {
		t.Fatalf("two Connectors: shared %v, members %d", b.cl == cl, cl.memberCount())
	}
	a.Close()
	a.Close() // idempotent: released once
	if cl.memberCount() != 1 || cl.released() {
		t.Fatalf("after the first Close: members %d, released %v", cl.memberCount(), cl.released())
	}
	b.Close()
	if cl.memberCount() != 0 || !cl.released() || e6data.clusters.lookup(cl.key) != cl {
		t.Fatalf("after the last Close: members %d, released %v", cl.memberCount(), cl.released())
	}
	c, err := e6data.NewConnector(testConfig(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.cl != cl || cl.released() || cl.memberCount() != 1 {
		t.Fatalf("reopened: same state %v, released %v", c.cl == cl, cl.released())
	}
}

// E6DATA_STRATEGY_CACHE_SIZE: how many released clusters keep their state.
// A Connector opened again on a kept cluster skips detection (one
// authenticate, no 456, on a cluster whose live stack is green, the one
// detection tries second); on a cluster that was dropped, it detects again.
// States in use are never dropped.
func TestStrategyCacheSizeKeepsReleasedStates(t *testing.T) {
	sims := make([]*e6sim.Server, 3)
	for i := range sims {
		sims[i] = startSim(t, e6sim.Config{Strategy: e6sim.Green})
	}
	use := func(srv *e6sim.Server, size string) {
		t.Helper()
		ctr, err := e6data.NewConnector(testConfig(t, srv, e6data.WithSetting("E6DATA_STRATEGY_CACHE_SIZE", size), noSpares))
		if err != nil {
			t.Fatal(err)
		}
		db := sql.OpenDB(ctr)
		countCustomers(t, db)
		db.Close()
	}
	reopenCost := func(srv *e6sim.Server, size string) (auths, n456 int64) {
		t.Helper()
		a0, s0 := authCalls(srv), srv.Stats().Sent456
		use(srv, size)
		return authCalls(srv) - a0, srv.Stats().Sent456 - s0
	}

	// Size 1: the second cluster released pushes the first one out.
	use(sims[0], "1")
	use(sims[1], "1")
	if auths, n456 := reopenCost(sims[0], "1"); auths != 2 || n456 != 1 {
		t.Fatalf("size 1, reopened after another cluster: %d authenticates, %d 456s; want a detection (2, 1)", auths, n456)
	}

	// Size 2: both stay; reopening either skips detection.
	use(sims[1], "2")
	use(sims[0], "2")
	for i := 0; i < 2; i++ {
		if auths, n456 := reopenCost(sims[i], "2"); auths != 1 || n456 != 0 {
			t.Fatalf("size 2, reopened cluster %d: %d authenticates, %d 456s; want 1 and 0 (no detection)", i, auths, n456)
		}
	}

	// A kept state past the strategy cache timeout: the new session's
	// authenticate on the cached strategy confirms it (no 456, no other
	// call); if that stack is gone, its 456 starts a detection.
	e6data.clusters.lookup(e6data.clusterKey(testConfig(t, sims[0]), sims[0].Addr())).advance(time.Hour)
	c0 := rpcCount(sims[0], "getCataloges")
	if auths, n456 := reopenCost(sims[0], "2"); auths != 1 || n456 != 0 || rpcCount(sims[0], "getCataloges") != c0 {
		t.Fatalf("stale kept state: %d authenticates, %d 456s, %d confirming calls; want 1, 0, 0", auths, n456, rpcCount(sims[0], "getCataloges")-c0)
	}
	if err := sims[1].Switch(context.Background(), 0, 0); err != nil { // green -> blue while released
		t.Fatal(err)
	}
	if auths, n456 := reopenCost(sims[1], "2"); auths != 2 || n456 != 1 {
		t.Fatalf("kept state of a redeployed cluster: %d authenticates, %d 456s; want 2 and 1", auths, n456)
	}

	// A state in use is never evicted, whatever the size.
	inUse, err := e6data.NewConnector(testConfig(t, sims[2]))
	if err != nil {
		t.Fatal(err)
	}
	defer inUse.Close()
	use(sims[0], "1")
	use(sims[1], "1")
	if got := e6data.clusters.lookup(inUse.cl.key); got != inUse.cl {
		t.Fatal("a state in use was dropped")
	}
	if e6data.clusters.lookup(e6data.clusterKey(inUse.cfg, sims[0].Addr())) != nil {
		t.Fatal("size 1 kept two released states")
	}
}

// E6DATA_STRATEGY_CACHE_TIMEOUT: after an idle period longer than the
// timeout, the next query makes one confirming call (getCataloges, on the
// cached strategy) before relying on it; within the timeout it makes none.
// The same idle period with two values of the setting shows the difference.
func TestStrategyCacheTimeoutConfirmsAfterIdle(t *testing.T) {
	for _, tc := range []struct {
		timeout  string
		idle     time.Duration
		confirms int64
	}{
		{"60", 30 * time.Second, 0},
		{"60", 2 * time.Minute, 1},
		{"1800", 2 * time.Minute, 0},
		{"1800", 31 * time.Minute, 1},
	} {
		t.Run(fmt.Sprintf("timeout=%ss/idle=%v", tc.timeout, tc.idle), func(t *testing.T) {
			srv := startSim(t, e6sim.Config{})
			var calls inFlight
			db, ctr := openDB(t, srv, e6data.WithSetting("E6DATA_STRATEGY_CACHE_TIMEOUT", tc.timeout), noSpares, calls.option())
			db.SetMaxOpenConns(1)
			countCustomers(t, db)
			calls.settle(t, srv)
			c0, a0 := rpcCount(srv, "getCataloges"), authCalls(srv)
			ctr.cl.advance(tc.idle)
			countCustomers(t, db)
			if got := rpcCount(srv, "getCataloges") - c0; got != tc.confirms {
				t.Fatalf("confirming calls after %v idle: %d, want %d", tc.idle, got, tc.confirms)
			}
			countCustomers(t, db) // just confirmed (or still fresh): nothing more
			if got := rpcCount(srv, "getCataloges") - c0; got != tc.confirms {
				t.Fatalf("confirming calls on the next query: %d more", got-tc.confirms)
			}
			if a := authCalls(srv) - a0; a != 0 {
				t.Fatalf("%d authenticates: the session was good", a)
			}
		})
	}
}

// Connections that find the strategy stale at the same time share one
// confirming call.
func TestStrategyCacheTimeoutOneConfirmationForManyConnections(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	var calls inFlight
	db, ctr := openDB(t, srv, e6data.WithSetting("E6DATA_STRATEGY_CACHE_TIMEOUT", "60"), noSpares, calls.option())
	const n = 8
	ctx := context.Background()
	conns := make([]*sql.Conn, n)
	for i := range conns {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		countCustomers(t, c) // a session each
		conns[i] = c
	}
	calls.settle(t, srv)
	c0 := rpcCount(srv, "getCataloges")
	ctr.cl.advance(2 * time.Minute)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var k int64
			if err := c.QueryRowContext(ctx, "SELECT count(*) FROM customers").Scan(&k); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := rpcCount(srv, "getCataloges") - c0; got != 1 {
		t.Fatalf("%d confirming calls for %d stale connections, want 1", got, n)
	}
}

// A 456 on the confirming call starts a detection: past the timeout, a
// query after an abrupt deployment is prepared once, on the new stack; within
// the timeout the connection relies on the cached strategy and its prepare
// meets the 456 first.
func TestStrategyCacheTimeoutConfirmationFinds456(t *testing.T) {
	for _, tc := range []struct {
		timeout            string
		confirms, prepares int64
	}{
		{"60", 1, 1},
		{"1800", 0, 2},
	} {
		t.Run("timeout="+tc.timeout, func(t *testing.T) {
			srv := startSim(t, e6sim.Config{})
			var calls inFlight
			db, ctr := openDB(t, srv, e6data.WithSetting("E6DATA_STRATEGY_CACHE_TIMEOUT", tc.timeout), noSpares, calls.option())
			db.SetMaxOpenConns(1)
			countCustomers(t, db)
			// The query is cleared after its last row: let that happen
			// on blue before it goes.
			calls.settle(t, srv)
			if err := srv.Switch(context.Background(), 0, 0); err != nil { // blue torn down at once
				t.Fatal(err)
			}
			c0, p0, s0 := rpcCount(srv, "getCataloges"), prepares(srv), srv.Stats().Sent456
			rpcs0 := srv.Stats().RPCs
			ctr.cl.advance(2 * time.Minute)
			countCustomers(t, db)
			c, p, s := rpcCount(srv, "getCataloges")-c0, prepares(srv)-p0, srv.Stats().Sent456-s0
			if c != tc.confirms || p != tc.prepares || s != 1 {
				// Either way one 456: detection then tries the stack that
				// did not answer it first.
				calls := map[string]int64{}
				for m, n := range srv.Stats().RPCs {
					if d := n - rpcs0[m]; d != 0 {
						calls[m] = d
					}
				}
				t.Fatalf("confirming calls %d (want %d), prepares %d (want %d), 456s %d (want 1); calls %v", c, tc.confirms, p, tc.prepares, s, calls)
			}
			if a := ctr.Stats().Active; a != e6sim.Green {
				t.Fatalf("active %q after the confirmation", a)
			}
		})
	}
}

// Connectors opened and closed concurrently on two targets share one state
// per target and leave each released, with no member, when all are closed.
func TestClusterRegistryConcurrentOpenClose(t *testing.T) {
	targets := []int{1, 2} // ports nothing listens on: no call is made
	cfgs := make([]*e6data.Config, len(targets))
	for i, port := range targets {
		cfg, err := e6data.LoadConfig("", nil, e6data.WithHost("127.0.0.1"), e6data.WithPort(port), e6data.WithCredentials("alice@example.com", simToken),
			e6data.WithLogger(slog.New(slog.DiscardHandler)), e6data.WithSetting("E6DATA_STRATEGY_CACHE_SIZE", "2"))
		if err != nil {
			t.Fatal(err)
		}
		cfgs[i] = cfg
		t.Cleanup(func() { e6data.clusters.forgetTarget(net.JoinHostPort("127.0.0.1", strconv.Itoa(port))) })
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := cfgs[g%len(cfgs)]
			for i := 0; i < 20; i++ {
				c, err := e6data.NewConnector(cfg)
				if err != nil {
					errs <- err
					return
				}
				if got := e6data.clusters.lookup(e6data.clusterKey(cfg, c.target)); got != c.cl {
					errs <- fmt.Errorf("the registry holds another state than an open Connector's")
				}
				c.Close()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, cfg := range cfgs {
		cl := e6data.clusters.lookup(e6data.clusterKey(cfg, net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))))
		if cl == nil || cl.memberCount() != 0 || !cl.released() {
			t.Fatalf("after every Close: state %v", cl)
		}
	}
}

// noSpares turns off the sessions the connector keeps warm under
// sql.OpenDB (min-connections): the tests that count authenticate calls and
// 456s must not see a spare session opened in the background, whenever the
// machine gets round to it.
var noSpares = e6data.WithSetting("E6DATA_MIN_CONNECTIONS", "0")

// inFlight counts a connector's gRPC calls under way. A query is cleared in
// the background after Rows.Close, and a call that succeeds after a test has
// moved the cluster's clock confirms the strategy at the moved time: tests
// that move the clock settle first.
type inFlight struct{ n atomic.Int64 }

func (f *inFlight) option() e6data.Option {
	return e6data.WithDialOptions(grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any,
		cc *grpc.ClientConn, invoke grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		f.n.Add(1)
		defer f.n.Add(-1)
		return invoke(ctx, method, req, reply, cc, opts...)
	}))
}

// settle waits until srv holds no open query (so every clear was sent) and
// no call of the connector is under way (so every clear was answered).
func (f *inFlight) settle(t *testing.T, srv *e6sim.Server) {
	t.Helper()
	waitFor(t, time.Minute, "the queries to be cleared and every call answered", func() bool {
		return openQueries(srv) == 0 && f.n.Load() == 0
	})
}
