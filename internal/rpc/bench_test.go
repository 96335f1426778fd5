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
// connection, a bare grpc ClientConn.Invoke, the same with the three
// headers added by hand (what any client that sends them pays, on both
// ends), and Client.Invoke (headers, timing, classification, observer).
//
// The sub-benchmark "paired" makes one bare and one Client.Invoke call
// per iteration, alternating which goes first, and times each: drift in
// the machine's load then hits both alike. It reports bare_ns, client_ns
// and their difference overhead_ns; overhead_allocs is the difference
// in allocations per call (testing.AllocsPerRun, whole process: the
// in-memory server's side included).
func BenchmarkInvokeOverhead(b *testing.B) {
	cc := bufconnClient(b)
	ctx := context.Background()
	req := &enginepb.AuthenticateRequest{User: "u", Password: "p"}
	var resp enginepb.AuthenticateResponse
	c := NewClient(cc, "c1", nopObserver{})
	bare := func() error { return cc.Invoke(ctx, benchCall.Method, req, &resp) }
	headers := func() error {
		hctx := metadata.AppendToOutgoingContext(ctx, HeaderStrategy, "blue", HeaderClusterName, "c1", HeaderPlannerIP, "10.0.0.7")
		return cc.Invoke(hctx, benchCall.Method, req, &resp)
	}
	client := func() error { return c.Invoke(ctx, benchCall, req, &resp) }
	for _, f := range []func() error{bare, headers, client} {
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
	b.Run("client", func(b *testing.B) { run(b, client) })
	b.Run("paired", func(b *testing.B) {
		var tb, tc time.Duration
		i := 0
		for b.Loop() {
			first, second, t1, t2 := bare, client, &tb, &tc
			if i%2 == 1 {
				first, second, t1, t2 = client, bare, &tc, &tb
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
		b.ReportMetric(testing.AllocsPerRun(500, func() { _ = client() })-testing.AllocsPerRun(500, func() { _ = bare() }), "overhead_allocs")
		b.ReportMetric(testing.AllocsPerRun(500, func() { _ = client() })-testing.AllocsPerRun(500, func() { _ = headers() }), "vs_headers_allocs")
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
// and the observer on the steady (successful) path.
func BenchmarkInvokeMachinery(b *testing.B) {
	c := NewClient(stubConn{}, "c1", nopObserver{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	var resp enginepb.AuthenticateResponse
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Invoke(ctx, benchCall, nil, &resp); err != nil {
			b.Fatal(err)
		}
	}
}
