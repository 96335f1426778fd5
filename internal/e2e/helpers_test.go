package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
)

// signals runs f once per way the simulator can signal 456/503: as HTTP/2
// statuses (like the real gateway) and as gRPC statuses.
func signals(t *testing.T, f func(t *testing.T, sig e6sim.Signal)) {
	for _, sig := range []e6sim.Signal{e6sim.SignalHTTP, e6sim.SignalGRPC} {
		t.Run(sig.String(), func(t *testing.T) { f(t, sig) })
	}
}

// startSim starts an in-process simulator on a free loopback port.
func startSim(t testing.TB, cfg e6sim.Config) *e6sim.Server {
	t.Helper()
	if cfg.DB == nil {
		cfg.DB = sharedDB
	}
	srv, err := e6sim.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); simClusters.Delete(srv) })
	// The driver keeps a cluster's strategy process-wide, keyed by
	// host:port and cluster name, and a later simulator may reuse this one's
	// port: a cluster name of its own (the simulator accepts any name unless
	// its Config names one) keeps it another cluster to the driver.
	name := cfg.ClusterName
	if name == "" {
		name = fmt.Sprintf("sim-%d", simSerial.Add(1))
	}
	simClusters.Store(srv, name)
	return srv
}

var (
	simSerial   atomic.Int64
	simClusters sync.Map // *e6sim.Server -> its cluster name for testConfig
)

// clusterName is the cluster name testConfig gives connectors of srv.
func clusterName(srv *e6sim.Server) string {
	if v, ok := simClusters.Load(srv); ok {
		return v.(string)
	}
	return ""
}

// testConfig is a connector configuration for srv with no environment,
// authenticating with the canary simToken; its logger is wrapped in the
// secret guard.
func testConfig(t testing.TB, srv *e6sim.Server, opts ...e6data.Option) *e6data.Config {
	t.Helper()
	host, port, err := net.SplitHostPort(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	base := []e6data.Option{e6data.WithSetting("Host", host), e6data.WithSetting("Port", strconv.Itoa(p)), e6data.WithCredentials("alice@example.com", simToken),
		e6data.WithSetting("Catalog", "sample"), e6data.WithSetting("Database", "main"), e6data.WithRetry(5, 100*time.Millisecond),
		e6data.WithLogger(slog.New(slog.DiscardHandler)), e6data.WithSetting("ClusterName", clusterName(srv))}
	cfg, err := e6data.LoadConfig("", nil, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	// Every record the connector logs, whatever logger the test chose,
	// passes the secret guard first (see secretguard_test.go).
	cfg.Logger = guardLogger(cfg.Logger)
	return cfg
}

// openDB opens a *sql.DB on srv, closed when the test ends.
func openDB(t testing.TB, srv *e6sim.Server, opts ...e6data.Option) (*sql.DB, *e6data.Connector) {
	t.Helper()
	ctr, err := e6data.NewConnector(testConfig(t, srv, opts...))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(ctr)
	t.Cleanup(func() { db.Close() })
	return db, ctr
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// authCalls is how many authenticate calls srv has answered.
func authCalls(srv *e6sim.Server) int64 {
	return srv.Stats().RPCs["QueryEngineService/authenticate"]
}

func openQueries(srv *e6sim.Server) int {
	n := 0
	for _, s := range srv.Stats().Stacks {
		n += s.OpenQueries
	}
	return n
}
