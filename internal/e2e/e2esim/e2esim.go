// Package e2esim holds what the integration tests of internal/e2e and
// internal/e2e/arrow share: one simulator database per test binary,
// simulators that are each a cluster of their own to the driver, the
// connector options that reach one, and the waits on its state.
package e2esim

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
)

var (
	shared   *e6sim.DB // set by Main before the tests run
	serial   atomic.Int64
	clusters sync.Map // *e6sim.Server -> its cluster name
)

// Main runs a test binary's tests with one DuckDB database (with the sample
// dataset) that every simulator started by Start uses, so that each test
// starts in milliseconds. After the tests, after runs (when not nil; a
// message it returns fails the binary), then any goroutine left running
// fails it.
func Main(m *testing.M, after func() string) {
	db, err := e6sim.OpenDB(context.Background(), "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "open simulator database:", err)
		os.Exit(1)
	}
	shared = db
	code := m.Run()
	db.Close()
	if after != nil {
		if msg := after(); msg != "" {
			fmt.Fprintln(os.Stderr, msg)
			code = 1
		}
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// Start starts an in-process simulator on a free loopback port, closed when
// the test ends, on the shared database unless cfg names one.
//
// The driver keeps a cluster's strategy process-wide, keyed by host:port
// and cluster name, and a later simulator may reuse this one's port: a
// cluster name of its own (the simulator accepts any name unless its
// Config names one) keeps it another cluster to the driver. Options gives
// that name to connectors.
func Start(t testing.TB, cfg e6sim.Config) *e6sim.Server {
	t.Helper()
	if cfg.DB == nil {
		cfg.DB = shared
	}
	srv, err := e6sim.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); clusters.Delete(srv) })
	name := cfg.ClusterName
	if name == "" {
		name = fmt.Sprintf("sim-%d", serial.Add(1))
	}
	clusters.Store(srv, name)
	return srv
}

// ClusterName is the cluster name Options gives connectors of srv.
func ClusterName(srv *e6sim.Server) string {
	if v, ok := clusters.Load(srv); ok {
		return v.(string)
	}
	return ""
}

// Options are the connector options that reach srv as alice@example.com
// with token, on the sample catalog, with 5 attempts 100 ms apart and a
// logger that discards.
func Options(t testing.TB, srv *e6sim.Server, token string) []e6data.Option {
	t.Helper()
	host, port, err := net.SplitHostPort(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	return []e6data.Option{e6data.WithSetting("host", host), e6data.WithSetting("port", port),
		e6data.WithCredentials("alice@example.com", token),
		e6data.WithSetting("catalog", "sample"), e6data.WithSetting("database", "main"),
		e6data.WithRetry(5, 100*time.Millisecond), e6data.WithLogger(slog.New(slog.DiscardHandler)),
		e6data.WithSetting("cluster-name", ClusterName(srv))}
}

// WaitFor polls cond until it holds, failing the test when within passes
// first.
func WaitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// OpenQueries is the number of queries open on every stack of srv.
func OpenQueries(srv *e6sim.Server) int {
	n := 0
	for _, s := range srv.Stats().Stacks {
		n += s.OpenQueries
	}
	return n
}
