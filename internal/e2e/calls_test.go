package e2e

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
)

// callLog records every unary call the connector sends, in order, with
// its strategy header.
type callLog struct {
	mu    sync.Mutex
	calls []string // "Service/method strategy"
}

func (l *callLog) intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	md, _ := metadata.FromOutgoingContext(ctx)
	st := ""
	if v := md.Get("strategy"); len(v) > 0 {
		st = v[0]
	}
	l.mu.Lock()
	l.calls = append(l.calls, strings.TrimPrefix(method, "/")+" "+st)
	l.mu.Unlock()
	return invoker(ctx, method, req, reply, cc, opts...)
}

// take returns the calls recorded since the last take.
func (l *callLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.calls
	l.calls = nil
	return out
}

// received is what srv counted per method since before (e6sim's own record).
func received(srv *e6sim.Server, before map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for m, n := range srv.Stats().RPCs {
		if d := n - before[m]; d > 0 {
			out[m] = d
		}
	}
	return out
}

// TestCallSequences checks the calls made for a query with and without a
// catalog, a listing, a dry run, a Ping and the ClusterService status are
// the ones e6data's own client makes (docs/protocol.md §6): every
// call the connector sent is checked against what e6sim counted receiving.
func TestCallSequences(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	var log callLog
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	const (
		auth    = "QueryEngineService/authenticate blue"
		prep    = "QueryEngineService/prepareStatement blue"
		prepV2  = "QueryEngineService/prepareStatementV2 blue"
		exec    = "QueryEngineService/executeStatement blue"
		execV2  = "QueryEngineService/executeStatementV2 blue"
		meta    = "QueryEngineService/getResultMetadata blue"
		batch   = "QueryEngineService/getNextResultBatch blue"
		clear   = "QueryEngineService/clearOrCancelQuery blue"
		schemas = "QueryEngineService/getSchemaNamesV2 blue"
		tables  = "QueryEngineService/getTablesV2 blue"
		columns = "QueryEngineService/getColumnsV2 blue"
		dryRun  = "QueryEngineService/dryRun blue"
	)
	for _, tc := range []struct {
		name    string
		catalog string
		op      func(db *sql.DB, c *e6data.Connector) error
		want    []string
	}{
		{"query with a catalog", "sample", func(db *sql.DB, c *e6data.Connector) error { return query1(ctx, db) },
			[]string{auth, prepV2, execV2, meta, batch, batch, clear}},
		{"query without a catalog", "", func(db *sql.DB, c *e6data.Connector) error { return query1(ctx, db) },
			[]string{auth, prep, exec, meta, batch, batch, clear}},
		{"listings with the configured catalog", "sample", func(db *sql.DB, c *e6data.Connector) error {
			return rawOn(ctx, db, func(cn e6data.Conn) error {
				if _, err := cn.Schemas(ctx, ""); err != nil {
					return err
				}
				if _, err := cn.Tables(ctx, "", "main"); err != nil {
					return err
				}
				_, err := cn.Columns(ctx, "", "main", "all_types")
				return err
			})
		}, []string{auth, schemas, tables, columns}},
		{"listings without a catalog", "", func(db *sql.DB, c *e6data.Connector) error {
			return rawOn(ctx, db, func(cn e6data.Conn) error {
				_, err := cn.Tables(ctx, "", "main")
				return err
			})
		}, []string{auth, tables}},
		{"dry run with a catalog", "sample", func(db *sql.DB, c *e6data.Connector) error {
			return rawOn(ctx, db, func(cn e6data.Conn) error {
				_, err := cn.DryRun(ctx, "SELECT 1")
				return err
			})
		}, []string{auth, dryRun}},
		{"ping", "sample", func(db *sql.DB, c *e6data.Connector) error {
			// Connecting authenticates; a Ping on a session is one dryRun.
			return rawOn(ctx, db, func(e6data.Conn) error { return nil }, func(sc pinger) error {
				if err := sc.PingContext(ctx); err != nil {
					return err
				}
				return sc.PingContext(ctx)
			})
		}, []string{auth, dryRun, dryRun}},
		{"cluster status with no strategy known", "sample", func(db *sql.DB, c *e6data.Connector) error {
			h, err := c.Health(ctx)
			if err == nil && h.StatusErr != nil {
				err = h.StatusErr
			}
			return err
		}, []string{"ClusterService/status blue"}},
		{"cluster status once the strategy is known", "sample", func(db *sql.DB, c *e6data.Connector) error {
			if err := query1(ctx, db); err != nil {
				return err
			}
			for openQueries(srv) > 0 { // the clear goes out in the background
				if ctx.Err() != nil {
					return ctx.Err()
				}
				time.Sleep(time.Millisecond)
			}
			_, err := c.Health(ctx)
			return err
		}, []string{auth, prepV2, execV2, meta, batch, batch, clear, "ClusterService/status blue"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, c := openDB(t, srv, e6data.WithSetting("Catalog", tc.catalog), e6data.WithDialOptions(grpc.WithChainUnaryInterceptor(log.intercept)))
			log.take()
			before := srv.Stats().RPCs
			if err := tc.op(db, c); err != nil {
				t.Fatal(err)
			}
			// The clear goes out in the background when the rows close.
			waitFor(t, 30*time.Second, "the calls", func() bool {
				log.mu.Lock()
				defer log.mu.Unlock()
				return len(log.calls) >= len(tc.want)
			})
			got := log.take()
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("calls sent:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			wantCount := map[string]int64{}
			for _, c := range tc.want {
				m, _, _ := strings.Cut(c, " ")
				wantCount[m]++
			}
			waitFor(t, 30*time.Second, "e6sim to count the calls", func() bool { return len(received(srv, before)) >= len(wantCount) })
			rcv := received(srv, before)
			for m, n := range wantCount {
				if rcv[m] != n {
					t.Fatalf("e6sim received %v; want %v", rcv, wantCount)
				}
			}
			if len(rcv) != len(wantCount) {
				t.Fatalf("e6sim received %v; want %v", rcv, wantCount)
			}
		})
	}
}

type pinger interface{ PingContext(context.Context) error }

// query1 runs a one-row query through database/sql.
func query1(ctx context.Context, db *sql.DB) error {
	var n int
	return db.QueryRowContext(ctx, "SELECT 1").Scan(&n)
}

// rawOn runs f on one connection of db, after the optional pings on that
// connection.
func rawOn(ctx context.Context, db *sql.DB, f func(e6data.Conn) error, pings ...func(pinger) error) error {
	sc, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer sc.Close()
	for _, p := range pings {
		if err := p(sc); err != nil {
			return err
		}
	}
	return e6data.RawConn(sc, f)
}
