package e2e

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
)

func TestHealthReportsClusterStrategyAndPool(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, c := openPooled(t, srv)
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM customers").Scan(&n); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	h, err := c.Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Healthy() || h.ClusterStatus != "active" || h.StatusErr != nil {
		t.Fatalf("health %+v, want an active cluster", h)
	}
	if h.Active != srv.Live() || h.Pending != "" {
		t.Fatalf("active %q pending %q, want %q", h.Active, h.Pending, srv.Live())
	}
	if h.Pool == nil || h.Pool.OpenConnections < 1 || h.Pool.MaxOpenConnections != c.Config().MaxConnections {
		t.Fatalf("pool %+v", h.Pool)
	}
	if h.Switchover != nil {
		t.Fatalf("switchover %+v before any deployment", h.Switchover)
	}
	if h.Cluster == "" || h.Checked.IsZero() || h.StatusLatency <= 0 {
		t.Fatalf("report %+v", h)
	}

	// A suspended cluster is reported, not resumed.
	srv.Suspend()
	h, err = c.Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h.Healthy() || h.ClusterStatus != "suspended" || h.StatusErr != nil {
		t.Fatalf("health %+v, want suspended", h)
	}
	if st := srv.Stats(); st.Resumes != 0 || st.RPCs["ClusterService/resume"] != 0 {
		t.Fatalf("Health resumed the cluster: %+v", st)
	}
}

func TestHealthShowsTheLastSwitchover(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, c := openPooled(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	query := func() {
		t.Helper()
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM customers").Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	query()
	from := srv.Live()
	if err := srv.Switch(ctx, 0, 0); err != nil { // abrupt: the old stack is gone
		t.Fatal(err)
	}
	to := srv.Live()
	waitFor(t, 15*time.Second, "new work on the new stack", func() bool {
		query()
		return c.Stats().Active == to
	})
	h, err := c.Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sw := h.Switchover
	if sw == nil || sw.From != from || sw.To != to || sw.Switched.IsZero() {
		t.Fatalf("switchover %+v, want %s -> %s", sw, from, to)
	}
	if sw.InProgress || sw.OldFinished.IsZero() {
		t.Fatalf("switchover %+v still in progress with no query left on %s", sw, from)
	}
	if h.Active != to || h.Stats.Transitions < 1 || len(h.Stats.Timeline) == 0 {
		t.Fatalf("health %+v", h)
	}
}

func TestHealthUnreachableAndClosed(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	c, err := e6data.NewConnector(testConfig(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := c.Health(ctx)
	if err != nil {
		t.Fatalf("Health of an unreachable cluster: %v, want a report", err)
	}
	if h.Healthy() || h.ClusterStatus != "unknown" || h.StatusErr == nil {
		t.Fatalf("health %+v, want unknown with an error", h)
	}
	var e *e6data.Error
	if !errors.As(h.StatusErr, &e) {
		t.Fatalf("StatusErr %T %v, want *Error", h.StatusErr, h.StatusErr)
	}
	if h.Pool == nil || h.Pool.OpenConnections != 0 || h.Pool.MaxOpenConnections != c.Config().MaxConnections {
		t.Fatalf("pool %+v: want the connector's own count, no session open", h.Pool)
	}
	c.Close()
	if _, err := c.Health(ctx); !errors.Is(err, e6data.ErrConnClosed) {
		t.Fatalf("Health after Close: %v, want ErrConnClosed", err)
	}
}

// openPooled opens a database the way OpenDB does, keeping the connector.
func openPooled(t *testing.T, srv *e6sim.Server) (*sql.DB, *e6data.Connector) {
	t.Helper()
	c, err := e6data.NewConnector(testConfig(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	c.ConfigurePool(db)
	t.Cleanup(func() { db.Close() })
	return db, c
}

// Queries racing with Close never panic (no background work starts after
// Close began waiting for it) and end with a result or a typed error.
func TestCloseRacesWithQueries(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	for round := 0; round < 5; round++ {
		c, err := e6data.NewConnector(testConfig(t, srv))
		if err != nil {
			t.Fatal(err)
		}
		db := sql.OpenDB(c)
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		started := make(chan struct{}, 16)
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 20; j++ {
					var n int64
					err := db.QueryRow("SELECT count(*) FROM customers").Scan(&n)
					if j == 0 {
						started <- struct{}{}
					}
					if err != nil {
						var e *e6data.Error
						if !errors.As(err, &e) && !errors.Is(err, sql.ErrConnDone) && err.Error() != "sql: database is closed" {
							errs <- err
						}
						return
					}
				}
			}()
		}
		<-started
		c.Close()
		wg.Wait()
		db.Close()
		close(errs)
		for err := range errs {
			t.Errorf("round %d: untyped error racing with Close: %T %v", round, err, err)
		}
	}
}
