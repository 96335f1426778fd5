package e6data

import (
	"context"
	"log/slog"
	"testing"

	"google.golang.org/grpc"

	"github.com/e6go/e6data/internal/enginepb"
	"github.com/e6go/e6data/internal/rpc"
)

// nopConn answers every call at once, successfully, without a transport.
type nopConn struct{}

func (nopConn) Invoke(context.Context, string, any, any, ...grpc.CallOption) error { return nil }
func (nopConn) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, nil
}

// fetchCallPath is a connector whose call path ends in nopConn, a query
// pinned to the live strategy and the rows' bound context: the steady
// path of a query's batch fetches with the connector's own observer and
// strategy state.
func fetchCallPath(tb testing.TB) (*conn, *query, context.Context) {
	tb.Helper()
	cfg, err := LoadConfig("", nil, WithSetting("Host", "127.0.0.1"), WithSetting("Port", "1"), WithCredentials("u@example.com", "t0ken"),
		WithSetting("ClusterName", "c1"), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		tb.Fatal(err)
	}
	c, err := NewConnector(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	c.rpc = rpc.NewClient(nopConn{}, cfg.ClusterName, observer{c})
	c.state.Confirm("blue", "")
	cn := &conn{ctr: c, life: c.life, sid: "s1", strategy: "blue"}
	q := &query{id: "q1", engineIP: "10.0.0.7", strategy: "blue", sid: "s1"}
	c.state.Pin(q.id, q.strategy)
	r := &rows{cn: cn, q: q}
	return cn, q, r.bind(context.Background())
}

// The steady path of a query's batches allocates nothing in the call path:
// headers, pins, classification, the observer and the strategy state.
func TestFetchCallPathAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's instrumentation allocates")
	}
	cn, q, ctx := fetchCallPath(t)
	req := &enginepb.GetNextResultBatchRequest{EngineIP: q.engineIP, SessionId: q.sid, QueryId: q.id}
	var resp enginepb.GetNextResultBatchResponse
	call := func(ctx context.Context) func() {
		return func() {
			if err := cn.call(ctx, q, enginepb.QueryEngineService_GetNextResultBatch_FullMethodName, req, &resp); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := testing.AllocsPerRun(1000, call(ctx)); n != 0 {
		t.Errorf("a batch fetch on the rows' bound context: %v allocations, want 0", n)
	}
	// On an unbound context the headers cost one (the test can see it).
	if n := testing.AllocsPerRun(1000, call(context.Background())); n != 1 {
		t.Errorf("a batch fetch on an unbound context: %v allocations, want 1", n)
	}
}

// BenchmarkFetchCallPath is the connector's call for one batch on a
// connection that does nothing: the cost of the zero-downtime machinery
// (headers, observer, strategy state) per getNextResultBatch, bound (the
// rows' steady path) and unbound.
func BenchmarkFetchCallPath(b *testing.B) {
	cn, q, bctx := fetchCallPath(b)
	req := &enginepb.GetNextResultBatchRequest{EngineIP: q.engineIP, SessionId: q.sid, QueryId: q.id}
	var resp enginepb.GetNextResultBatchResponse
	for _, tc := range []struct {
		name string
		ctx  context.Context
	}{{"bound", bctx}, {"unbound", context.Background()}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := cn.call(tc.ctx, q, enginepb.QueryEngineService_GetNextResultBatch_FullMethodName, req, &resp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
