package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
)

func countCustomers(t *testing.T, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) {
	t.Helper()
	var n int64
	if err := q.QueryRowContext(context.Background(), "SELECT count(*) FROM customers").Scan(&n); err != nil || n != 10 {
		t.Fatalf("count(*) = %d, %v", n, err)
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

	// (A kept state past the strategy cache timeout, confirmed by the new
	// session's authenticate: TestStrategyCacheTimeoutKeptState in the root
	// package, which moves the cluster's clock.)

	if err := sims[1].Switch(context.Background(), 0, 0); err != nil { // green -> blue while released
		t.Fatal(err)
	}
	if auths, n456 := reopenCost(sims[1], "2"); auths != 2 || n456 != 1 {
		t.Fatalf("kept state of a redeployed cluster: %d authenticates, %d 456s; want 2 and 1", auths, n456)
	}

	// A state in use is never evicted, whatever the size: with sims[2]'s
	// Connector open, two other clusters released at size 1 leave its
	// strategy known (a new Connector on it skips detection), and the
	// first of them dropped (detection again).
	inUse, err := e6data.NewConnector(testConfig(t, sims[2], noSpares))
	if err != nil {
		t.Fatal(err)
	}
	inUseDB := sql.OpenDB(inUse)
	defer inUseDB.Close()
	countCustomers(t, inUseDB)
	use(sims[0], "1")
	use(sims[1], "1")
	if auths, n456 := reopenCost(sims[2], "1"); auths != 1 || n456 != 0 {
		t.Fatalf("cluster in use, after two others released at size 1: %d authenticates, %d 456s; want 1 and 0 (its state was kept)", auths, n456)
	}
	if auths, n456 := reopenCost(sims[0], "1"); auths != 2 || n456 != 1 {
		t.Fatalf("size 1, the first of two released clusters: %d authenticates, %d 456s; want a detection (2, 1): size 1 kept two released states", auths, n456)
	}
}

// noSpares turns off the sessions the connector keeps warm under
// sql.OpenDB (min-connections): the tests that count authenticate calls and
// 456s must not see a spare session opened in the background, whenever the
// machine gets round to it.
var noSpares = e6data.WithSetting("E6DATA_MIN_CONNECTIONS", "0")
