package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
	"github.com/e6go/e6data/internal/e2e/e2esim"
)

// simDSN is a DSN for srv with the canary token and extra query keys.
func simDSN(srv *e6sim.Server, query string) string {
	return fmt.Sprintf("e6data://alice@example.com:%s@%s/main?catalog=sample&log-level=error&cluster-name=%s&%s", simToken, srv.Addr(), e2esim.ClusterName(srv), query)
}

func sessions(srv *e6sim.Server) int {
	st := srv.Stats()
	return st.Stacks["blue"].Sessions + st.Stacks["green"].Sessions
}

// sql.Open knows nothing of the pool settings: the connector bounds its
// sessions itself, and queries waiting for one take over idle sessions.
func TestSQLOpenHoldsMaxConnections(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 7})
	db, err := sql.Open(e6data.DriverName, simDSN(srv, "max-connections=2&min-connections=0"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, ok := e6data.ConnectorOf(db); !ok {
		t.Fatal("ConnectorOf: no connector behind sql.Open")
	}
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	peak := make(chan int, 6*5)
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				rows, err := db.Query("SELECT * FROM range(100)")
				if err != nil {
					errs <- err
					return
				}
				peak <- sessions(srv)
				for rows.Next() {
				}
				if err := rows.Close(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(peak)
	for err := range errs {
		t.Fatal(err)
	}
	for open := range peak {
		if open > 2 {
			t.Fatalf("e6sim counted %d sessions during the queries, max-connections=2", open)
		}
	}
	if n := sessions(srv); n > 2 {
		t.Fatalf("e6sim counts %d sessions, max-connections=2", n)
	}
	if n := srv.Stats().RPCs["QueryEngineService/authenticate"]; n > 2 {
		t.Fatalf("%d authentications for 2 sessions", n)
	}
}

// connection-timeout bounds the wait for a free slot, and running out is
// ErrTimeout naming the setting and the address, not a cancelled query.
func TestConnectionTimeoutBoundsWaitForSlot(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, err := sql.Open(e6data.DriverName, simDSN(srv, "max-connections=1&min-connections=0&connection-timeout=1"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	held, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if err := held.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = db.Conn(ctx) // no deadline of the caller's
	if !errors.Is(err, e6data.ErrTimeout) || errors.Is(err, e6data.ErrQueryCancelled) {
		t.Fatalf("want ErrTimeout, got %v", err)
	}
	for _, want := range []string{"connection-timeout=1s", srv.Addr(), "max-connections=1"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not name %q", err, want)
		}
	}
	// The caller's own deadline stays the caller's.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := db.Conn(cctx); err == nil || errors.Is(err, e6data.ErrTimeout) {
		t.Fatalf("caller's deadline: %v", err)
	}
	// Once the held connection is back, the waiter gets its session.
	held.Close()
	c2, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := c2.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	if n := sessions(srv); n != 1 {
		t.Fatalf("%d sessions, want the one handed over", n)
	}
	ctr, _ := e6data.ConnectorOf(db)
	if h, err := ctr.Health(ctx); err != nil || h.Pool == nil || h.Pool.WaitCount < 2 || h.Pool.MaxOpenConnections != 1 {
		t.Fatalf("Health pool %+v (%v): want the waits for a slot counted", h.Pool, err)
	}
}

// Under sql.Open, min-connections are kept warm by the connector itself.
func TestSQLOpenKeepsMinWarm(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, err := sql.Open(e6data.DriverName, simDSN(srv, "max-connections=3&min-connections=2&idle-timeout=1&max-lifetime=3600"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctr, _ := e6data.ConnectorOf(db)
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "2 warm sessions", func() bool {
		h, err := ctr.Health(context.Background())
		return err == nil && h.Pool.OpenConnections >= 2 && sessions(srv) >= 2
	})
	// (The idle timeout and the lifetime, on the pool's clock:
	// TestSessionPoolRetiresIdleAndOld in the root package.)
}

// A server that accepts TCP and never answers: a clear timeout within the
// connection timeout, naming the setting and the address.
func TestSilentServerTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	cfg, err := e6data.LoadConfig(fmt.Sprintf("e6data://u:t@%s:%s/?connection-timeout=1&log-level=error", host, port), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctr, err := e6data.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ctr.Close()
	_, err = ctr.Connect(context.Background())
	if !errors.Is(err, e6data.ErrTimeout) {
		t.Fatalf("want ErrTimeout, got %v", err)
	}
	for _, want := range []string{"connection-timeout=1s", ln.Addr().String()} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not name %q", err, want)
		}
	}
}
