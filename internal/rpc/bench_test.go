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
// The sub-benchmark "client" reports its difference to both as
// overhead_ns and overhead_allocs metrics.
func BenchmarkInvokeOverhead(b *testing.B) {
	cc := bufconnClient(b)
	ctx := context.Background()
	req := &enginepb.AuthenticateRequest{User: "u", Password: "p"}
	var resp enginepb.AuthenticateResponse
	type figures struct{ ns, allocs float64 }
	measure := func(b *testing.B, call func() error) figures {
		for range 100 { // warm the connection and its buffers
			if err := call(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if err := call(); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		allocs := float64(testing.AllocsPerRun(200, func() { _ = call() }))
		return figures{float64(b.Elapsed().Nanoseconds()) / float64(b.N), allocs}
	}
	var bare, headers figures
	b.Run("bare", func(b *testing.B) {
		bare = measure(b, func() error { return cc.Invoke(ctx, benchCall.Method, req, &resp) })
	})
	b.Run("bare+headers", func(b *testing.B) {
		headers = measure(b, func() error {
			hctx := metadata.AppendToOutgoingContext(ctx, HeaderStrategy, "blue", HeaderClusterName, "c1", HeaderPlannerIP, "10.0.0.7")
			return cc.Invoke(hctx, benchCall.Method, req, &resp)
		})
	})
	c := NewClient(cc, "c1", nopObserver{})
	b.Run("client", func(b *testing.B) {
		f := measure(b, func() error { return c.Invoke(ctx, benchCall, req, &resp) })
		b.ReportMetric(f.ns-bare.ns, "overhead_ns")
		b.ReportMetric(f.allocs-bare.allocs, "overhead_allocs")
		b.ReportMetric(f.ns-headers.ns, "vs_headers_ns")
		b.ReportMetric(f.allocs-headers.allocs, "vs_headers_allocs")
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
