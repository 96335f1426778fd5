package arrow

import (
	"database/sql"
	"testing"
	"time"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
	"github.com/e6go/e6data/internal/e2e/e2esim"
)

func TestMain(m *testing.M) { e2esim.Main(m, nil) }

func startSim(t testing.TB, cfg e6sim.Config) *e6sim.Server { return e2esim.Start(t, cfg) }

// openDB opens a *sql.DB on srv, closed when the test ends.
func openDB(t testing.TB, srv *e6sim.Server, opts ...e6data.Option) (*sql.DB, *e6data.Connector) {
	t.Helper()
	cfg, err := e6data.LoadConfig("", nil, append(e2esim.Options(t, srv, "token"), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctr, err := e6data.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(ctr)
	t.Cleanup(func() { db.Close() })
	return db, ctr
}

func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	e2esim.WaitFor(t, within, what, cond)
}

func openQueries(srv *e6sim.Server) int { return e2esim.OpenQueries(srv) }
