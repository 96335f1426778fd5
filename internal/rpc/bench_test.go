package rpc

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"

	"github.com/e6go/e6data/internal/enginepb"
)

// fixedServer answers authenticate with a constant response.
type fixedServer struct {
	enginepb.UnimplementedQueryEngineServiceServer
}

var fixedResponse = &enginepb.AuthenticateResponse{SessionId: "s1"}

func (fixedServer) Authenticate(context.Context, *enginepb.AuthenticateRequest) (*enginepb.AuthenticateResponse, error) {
	return fixedResponse, nil
}

// nopObserver is the cheapest observer: the benchmarks measure the call
// path, not a particular strategy state.
type nopObserver struct{}

func (nopObserver) Announced(Call, string) {}
func (nopObserver) Finished(Call, Kind)    {}

func bufconnClient(b *testing.B) *grpc.ClientConn {
	b.Helper()
	ln := bufconn.Listen(1 << 20)
	gs := grpc.NewServer()
	enginepb.RegisterQueryEngineServiceServer(gs, fixedServer{})
	go gs.Serve(ln)
	cc, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return ln.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cc.Close()
		gs.Stop()
	})
	return cc
}

var benchCall = Call{Method: enginepb.QueryEngineService_Authenticate_FullMethodName, Strategy: "blue", PlannerIP: "10.0.0.7", QueryID: "q1"}

// BenchmarkInvokeOverhead compares, in one run over one in-memory
// connection:
//
//   - bare: a bare grpc ClientConn.Invoke with no headers;
//   - bare+headers: the same with the three headers in a context built
//     once beforehand (the least any client sending them pays, on both
//     ends of the connection);
//   - bare+headers-per-call: the headers added per call by hand
//     (metadata.AppendToOutgoingContext);
//   - client: Client.Invoke on the caller's context (headers derived per
//     call, timing, classification, observer);
//   - client-bound: Client.Invoke on a context from Bind, the steady path
//     of a query's batches.
//
// The sub-benchmark "paired" makes one bare+headers and one client-bound
// call per iteration, alternating which goes first, and times each:
// drift in the machine's load then hits both alike. It reports bare_ns,
// client_ns and their difference overhead_ns; overhead_allocs is the
// difference in allocations per call (testing.AllocsPerRun, whole
// process: the in-memory server's side included), unbound_allocs the
// same for client (unbound) vs bare+headers.
func BenchmarkInvokeOverhead(b *testing.B) {
	cc := bufconnClient(b)
	ctx := context.Background()
	req := &enginepb.AuthenticateRequest{User: "u", Password: "p"}
	var resp enginepb.AuthenticateResponse
	c := NewClient(cc, "c1", nopObserver{})
	hctx := metadata.NewOutgoingContext(ctx, metadata.Pairs(HeaderStrategy, "blue", HeaderClusterName, "c1", HeaderPlannerIP, "10.0.0.7"))
	bctx := c.Bind(ctx, benchCall)
	bare := func() error { return cc.Invoke(ctx, benchCall.Method, req, &resp) }
	headers := func() error { return cc.Invoke(hctx, benchCall.Method, req, &resp) }
	headersPerCall := func() error {
		hctx := metadata.AppendToOutgoingContext(ctx, HeaderStrategy, "blue", HeaderClusterName, "c1", HeaderPlannerIP, "10.0.0.7")
		return cc.Invoke(hctx, benchCall.Method, req, &resp)
	}
	client := func() error { return c.Invoke(ctx, benchCall, req, &resp) }
	bound := func() error { return c.Invoke(bctx, benchCall, req, &resp) }
	for _, f := range []func() error{bare, headers, headersPerCall, client, bound} {
		for range 100 { // warm the connection and its buffers
			if err := f(); err != nil {
				b.Fatal(err)
			}
		}
	}
	run := func(b *testing.B, f func() error) {
		b.ReportAllocs()
		for b.Loop() {
			if err := f(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("bare", func(b *testing.B) { run(b, bare) })
	b.Run("bare+headers", func(b *testing.B) { run(b, headers) })
	b.Run("bare+headers-per-call", func(b *testing.B) { run(b, headersPerCall) })
	b.Run("client", func(b *testing.B) { run(b, client) })
	b.Run("client-bound", func(b *testing.B) { run(b, bound) })
	b.Run("paired", func(b *testing.B) {
		var tb, tc time.Duration
		i := 0
		for b.Loop() {
			first, second, t1, t2 := headers, bound, &tb, &tc
			if i%2 == 1 {
				first, second, t1, t2 = bound, headers, &tc, &tb
			}
			i++
			s := time.Now()
			if err := first(); err != nil {
				b.Fatal(err)
			}
			m := time.Now()
			if err := second(); err != nil {
				b.Fatal(err)
			}
			*t1 += m.Sub(s)
			*t2 += time.Since(m)
		}
		n := float64(b.N)
		b.ReportMetric(float64(tb.Nanoseconds())/n, "bare_ns")
		b.ReportMetric(float64(tc.Nanoseconds())/n, "client_ns")
		b.ReportMetric(float64((tc-tb).Nanoseconds())/n, "overhead_ns")
		allocs := func(f func() error) float64 { return testing.AllocsPerRun(500, func() { _ = f() }) }
		b.ReportMetric(allocs(bound)-allocs(headers), "overhead_allocs")
		b.ReportMetric(allocs(client)-allocs(headers), "unbound_allocs")
	})
}

// stubConn answers every call at once without any transport, so what
// remains is the call path's own cost.
type stubConn struct{}

func (stubConn) Invoke(context.Context, string, any, any, ...grpc.CallOption) error { return nil }
func (stubConn) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, nil
}

// BenchmarkInvokeMachinery is Client.Invoke on a connection that does
// nothing: exactly the per-call cost of headers, timing, classification
// and the observer on the successful path. "bound" is the steady path (a
// context from Bind, as a query's batch fetches use), "unbound" a call on
// the caller's own context (headers derived per call), "stub" the stub
// connection called directly (the floor: an interface call).
func BenchmarkInvokeMachinery(b *testing.B) {
	c := NewClient(stubConn{}, "c1", nopObserver{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	var resp enginepb.AuthenticateResponse
	bctx := c.Bind(ctx, benchCall)
	var cc grpc.ClientConnInterface = stubConn{}
	b.Run("bound", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := c.Invoke(bctx, benchCall, nil, &resp); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unbound", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := c.Invoke(ctx, benchCall, nil, &resp); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stub", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := cc.Invoke(bctx, benchCall.Method, nil, &resp); err != nil {
				b.Fatal(err)
			}
		}
	})
}
