package arrow

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
)

// sharedDB is the DuckDB database (with the sample dataset) every
// simulator of these tests uses.
var sharedDB *e6sim.DB

func TestMain(m *testing.M) {
	db, err := e6sim.OpenDB(context.Background(), "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "open simulator database:", err)
		os.Exit(1)
	}
	sharedDB = db
	code := m.Run()
	db.Close()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func startSim(t testing.TB, cfg e6sim.Config) *e6sim.Server {
	t.Helper()
	if cfg.DB == nil {
		cfg.DB = sharedDB
	}
	srv, err := e6sim.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func connector(t testing.TB, addr string, opts ...e6data.Option) *e6data.Connector {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	base := []e6data.Option{e6data.WithSetting("Host", host), e6data.WithSetting("Port", strconv.Itoa(p)), e6data.WithCredentials("alice@example.com", "token"),
		e6data.WithSetting("Catalog", "sample"), e6data.WithSetting("Database", "main"), e6data.WithRetry(5, 100*time.Millisecond),
		e6data.WithLogger(slog.New(slog.DiscardHandler))}
	cfg, err := e6data.LoadConfig("", nil, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctr, err := e6data.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ctr
}

func openDB(t testing.TB, srv *e6sim.Server, opts ...e6data.Option) (*sql.DB, *e6data.Connector) {
	t.Helper()
	ctr := connector(t, srv.Addr(), opts...)
	db := sql.OpenDB(ctr)
	t.Cleanup(func() { db.Close() })
	return db, ctr
}

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

func openQueries(srv *e6sim.Server) int {
	n := 0
	for _, s := range srv.Stats().Stacks {
		n += s.OpenQueries
	}
	return n
}
