package e2e

import (
	"database/sql"
	"testing"
	"time"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
	"github.com/e6go/e6data/internal/e2e/e2esim"
)

// signals runs f once per way the simulator can signal 456/503: as HTTP/2
// statuses (like the real gateway) and as gRPC statuses.
func signals(t *testing.T, f func(t *testing.T, sig e6sim.Signal)) {
	for _, sig := range []e6sim.Signal{e6sim.SignalHTTP, e6sim.SignalGRPC} {
		t.Run(sig.String(), func(t *testing.T) { f(t, sig) })
	}
}

// startSim starts an in-process simulator on a free loopback port, a
// cluster of its own to the driver (see e2esim.Start).
func startSim(t testing.TB, cfg e6sim.Config) *e6sim.Server { return e2esim.Start(t, cfg) }

// testConfig is a connector configuration for srv with no environment,
// authenticating with the canary simToken; its logger is wrapped in the
// secret guard.
func testConfig(t testing.TB, srv *e6sim.Server, opts ...e6data.Option) *e6data.Config {
	t.Helper()
	base := e2esim.Options(t, srv, simToken)
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
	e2esim.WaitFor(t, within, what, cond)
}

// authCalls is how many authenticate calls srv has answered.
func authCalls(srv *e6sim.Server) int64 {
	return srv.Stats().RPCs["QueryEngineService/authenticate"]
}

func openQueries(srv *e6sim.Server) int { return e2esim.OpenQueries(srv) }

// sessionExpiryScenario expires every session of srv in the middle of a
// 1000-row scan on db's one connection and again between two queries; both
// queries must complete with every row, the driver re-authenticating
// twice.
func sessionExpiryScenario(t *testing.T, srv *e6sim.Server, db *sql.DB) {
	t.Helper()
	db.SetMaxOpenConns(1)
	rows, err := db.Query("SELECT id FROM numbers WHERE id < 1000")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		if n++; n == 150 {
			srv.ExpireSessions() // mid-query
		}
	}
	if err := rows.Err(); err != nil || n != 1000 {
		t.Fatalf("n=%d err=%v", n, err)
	}
	rows.Close()
	srv.ExpireSessions()
	var c int64
	if err := db.QueryRow("SELECT count(*) FROM orders").Scan(&c); err != nil || c != 50 {
		t.Fatalf("after expiry: %d %v", c, err)
	}
}
