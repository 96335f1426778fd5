package rpc

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/e6go/e6data/internal/enginepb"
)

// recordingServer is a test double of the engine: it remembers the metadata
// of the last call and answers authenticate with a configurable announcement.
type recordingServer struct {
	enginepb.UnimplementedQueryEngineServiceServer
	mu       sync.Mutex
	md       metadata.MD
	announce string
	fail     error
}

func (s *recordingServer) Authenticate(ctx context.Context, _ *enginepb.AuthenticateRequest) (*enginepb.AuthenticateResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.md = md
	if s.fail != nil {
		return nil, s.fail
	}
	r := &enginepb.AuthenticateResponse{SessionId: "s1"}
	if s.announce != "" {
		r.NewStrategy = proto.String(s.announce)
	}
	return r, nil
}

type recordingObserver struct {
	mu        sync.Mutex
	announced []string
	kinds     []Kind
}

func (o *recordingObserver) Announced(_ Call, s string) {
	o.mu.Lock()
	o.announced = append(o.announced, s)
	o.mu.Unlock()
}

func (o *recordingObserver) Finished(_ Call, k Kind) {
	o.mu.Lock()
	o.kinds = append(o.kinds, k)
	o.mu.Unlock()
}

// serve starts h on a loopback listener and returns a client connection to it.
func serve(t *testing.T, h http.Handler) *grpc.ClientConn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, Protocols: new(http.Protocols)}
	srv.Protocols.SetUnencryptedHTTP2(true)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	cc, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

func TestInvokeSendsHeadersAndReportsAnnouncement(t *testing.T) {
	rs := &recordingServer{announce: "GREEN"}
	gs := grpc.NewServer()
	enginepb.RegisterQueryEngineServiceServer(gs, rs)
	t.Cleanup(gs.Stop)
	cc := serve(t, gs)
	obs := &recordingObserver{}
	c := NewClient(cc, "My-Cluster", obs)

	var resp enginepb.AuthenticateResponse
	call := Call{Method: enginepb.QueryEngineService_Authenticate_FullMethodName, Strategy: "blue", PlannerIP: "10.0.0.7"}
	if err := c.Invoke(context.Background(), call, &enginepb.AuthenticateRequest{User: "u", Password: "p"}, &resp); err != nil {
		t.Fatal(err)
	}
	rs.mu.Lock()
	md := rs.md
	rs.mu.Unlock()
	for k, want := range map[string]string{"strategy": "blue", "cluster-name": "my-cluster", "plannerip": "10.0.0.7"} {
		if got := md.Get(k); len(got) != 1 || got[0] != want {
			t.Errorf("header %s = %v, want %q", k, got, want)
		}
	}
	if len(obs.announced) != 1 || obs.announced[0] != "green" {
		t.Fatalf("announced = %v, want [green]", obs.announced)
	}
	// A response announcing another strategy does not confirm the one the
	// call used: it is reported to Announced alone.
	if len(obs.kinds) != 0 {
		t.Fatalf("finished = %v, want nothing for an announcing response", obs.kinds)
	}
	if resp.GetSessionId() != "s1" {
		t.Fatalf("session = %q", resp.GetSessionId())
	}

	// No strategy and no cluster: no headers at all; the same strategy announced is not news.
	rs.announce = "blue"
	c2 := NewClient(cc, "", obs)
	if err := c2.Invoke(context.Background(), Call{Method: enginepb.QueryEngineService_Authenticate_FullMethodName}, &enginepb.AuthenticateRequest{}, &resp); err != nil {
		t.Fatal(err)
	}
	rs.mu.Lock()
	md = rs.md
	rs.mu.Unlock()
	if len(md.Get("strategy")) != 0 || len(md.Get("cluster-name")) != 0 || len(md.Get("plannerip")) != 0 {
		t.Fatalf("unexpected headers %v", md)
	}
	if err := c.Invoke(context.Background(), Call{Method: enginepb.QueryEngineService_Authenticate_FullMethodName, Strategy: "blue"}, &enginepb.AuthenticateRequest{}, &resp); err != nil {
		t.Fatal(err)
	}
	if len(obs.announced) != 2 { // "blue" announced to a call with no strategy counts, to a blue call it does not
		t.Fatalf("announced = %v", obs.announced)
	}
}

func TestInvokeClassifiesGRPCStatuses(t *testing.T) {
	rs := &recordingServer{}
	gs := grpc.NewServer()
	enginepb.RegisterQueryEngineServiceServer(gs, rs)
	t.Cleanup(gs.Stop)
	cc := serve(t, gs)
	c := NewClient(cc, "", nil)
	for _, tc := range []struct {
		err  error
		want Kind
	}{
		{status.Error(codes.Unknown, "status: 456"), KindWrongStrategy},
		{status.Error(codes.Unavailable, "status: 503"), KindClusterUnavailable},
		{status.Error(codes.Internal, "Access denied"), KindAccessDenied},
	} {
		rs.mu.Lock()
		rs.fail = tc.err
		rs.mu.Unlock()
		before := time.Now()
		err := c.Invoke(context.Background(), Call{Method: enginepb.QueryEngineService_Authenticate_FullMethodName, Strategy: "green"}, &enginepb.AuthenticateRequest{}, &enginepb.AuthenticateResponse{})
		var e *Error
		if !errors.As(err, &e) || e.Kind != tc.want || e.Method != "authenticate" || e.Strategy != "green" {
			t.Fatalf("err = %#v, want kind %v", err, tc.want)
		}
		if e.Sent.Before(before) || e.Sent.After(time.Now()) {
			t.Fatalf("Sent = %v, not the time of the call", e.Sent)
		}
		if st, _ := status.FromError(errors.Unwrap(err)); st.Code() != status.Code(tc.err) {
			t.Fatalf("unwrap lost the status: %v", err)
		}
	}
}

// The real gateway answers with a bare HTTP/2 status and no gRPC framing.
func TestInvokeClassifiesHTTPStatuses(t *testing.T) {
	for code, want := range map[int]Kind{456: KindWrongStrategy, 503: KindClusterUnavailable} {
		cc := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }))
		err := NewClient(cc, "", nil).Invoke(context.Background(), Call{Method: enginepb.QueryEngineService_Authenticate_FullMethodName}, &enginepb.AuthenticateRequest{}, &enginepb.AuthenticateResponse{})
		if k := Classify(err); k != want {
			t.Fatalf("HTTP %d: kind %v (%v), want %v", code, k, err, want)
		}
	}
}

func TestInvokeContextCancelled(t *testing.T) {
	gs := grpc.NewServer()
	enginepb.RegisterQueryEngineServiceServer(gs, &recordingServer{})
	t.Cleanup(gs.Stop)
	cc := serve(t, gs)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := NewClient(cc, "", nil).Invoke(ctx, Call{Method: enginepb.QueryEngineService_Authenticate_FullMethodName}, &enginepb.AuthenticateRequest{}, &enginepb.AuthenticateResponse{})
	if Classify(err) != KindCanceled || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

// The headers built once per strategy and planner are the right ones for
// every call, and metadata the application put on the context is kept.
func TestInvokeHeadersCachedAndAppended(t *testing.T) {
	rs := &recordingServer{}
	gs := grpc.NewServer()
	enginepb.RegisterQueryEngineServiceServer(gs, rs)
	t.Cleanup(gs.Stop)
	cc := serve(t, gs)
	c := NewClient(cc, "c1", nil)
	lastMD := func() metadata.MD {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		return rs.md
	}
	var resp enginepb.AuthenticateResponse
	for i, tc := range []struct {
		strategy, planner string
		app               bool
	}{{"blue", "10.0.0.1", false}, {"green", "10.0.0.1", false}, {"blue", "10.0.0.2", false}, {"blue", "10.0.0.1", false}, {"blue", "10.0.0.1", true}, {"green", "", false}} {
		ctx := context.Background()
		if tc.app {
			ctx = metadata.AppendToOutgoingContext(ctx, "x-app", "mine")
		}
		call := Call{Method: enginepb.QueryEngineService_Authenticate_FullMethodName, Strategy: tc.strategy, PlannerIP: tc.planner}
		if err := c.Invoke(ctx, call, &enginepb.AuthenticateRequest{}, &resp); err != nil {
			t.Fatal(err)
		}
		md := lastMD()
		want := map[string]string{"strategy": tc.strategy, "cluster-name": "c1", "plannerip": tc.planner}
		if tc.app {
			want["x-app"] = "mine"
		}
		for k, v := range want {
			got := md.Get(k)
			if v == "" && len(got) != 0 || v != "" && (len(got) != 1 || got[0] != v) {
				t.Errorf("call %d: header %s = %v, want %q", i, k, got, v)
			}
		}
	}
	// The derived context still ends with the caller's.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.Invoke(ctx, Call{Method: enginepb.QueryEngineService_Authenticate_FullMethodName, Strategy: "blue"}, &enginepb.AuthenticateRequest{}, &resp)
	if Classify(err) != KindCanceled {
		t.Fatalf("err = %v (%v), want canceled", err, Classify(err))
	}
}

// A context from Bind carries the same headers as the ordinary path, for
// its own strategy and planner and for any other (derived per call then),
// also through contexts derived from it; the application's metadata is
// merged once; deadline, cancellation and values stay the caller's.
func TestBindSendsHeadersOnce(t *testing.T) {
	rs := &recordingServer{}
	gs := grpc.NewServer()
	enginepb.RegisterQueryEngineServiceServer(gs, rs)
	t.Cleanup(gs.Stop)
	cc := serve(t, gs)
	c := NewClient(cc, "C1", nil)
	other := NewClient(cc, "c2", nil)
	lastMD := func() metadata.MD {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		return rs.md
	}
	type ctxKey struct{}
	base := context.WithValue(context.Background(), ctxKey{}, "v")
	bound := Call{Method: enginepb.QueryEngineService_Authenticate_FullMethodName, Strategy: "blue", PlannerIP: "10.0.0.1"}
	appBase := metadata.AppendToOutgoingContext(base, "x-app", "mine")
	for _, tc := range []struct {
		name    string
		client  *Client
		ctx     context.Context
		call    Call
		cluster string
		app     bool
	}{
		{"bound", c, c.Bind(base, bound), bound, "c1", false},
		{"rebound", c, c.Bind(c.Bind(base, Call{Strategy: "green"}), bound), bound, "c1", false},
		{"other strategy", c, c.Bind(base, bound), Call{Method: bound.Method, Strategy: "green", PlannerIP: "10.0.0.1"}, "c1", false},
		{"other planner", c, c.Bind(base, bound), Call{Method: bound.Method, Strategy: "blue", PlannerIP: "10.0.0.2"}, "c1", false},
		{"no planner", c, c.Bind(base, Call{Strategy: "blue"}), Call{Method: bound.Method, Strategy: "blue"}, "c1", false},
		{"derived", c, context.WithoutCancel(c.Bind(base, bound)), bound, "c1", false},
		{"other client", other, c.Bind(base, bound), bound, "c2", false},
		{"app metadata", c, c.Bind(appBase, bound), bound, "c1", true},
		{"app metadata derived", c, context.WithoutCancel(c.Bind(appBase, bound)), bound, "c1", true},
	} {
		var resp enginepb.AuthenticateResponse
		if err := tc.client.Invoke(tc.ctx, tc.call, &enginepb.AuthenticateRequest{}, &resp); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		md := lastMD()
		want := map[string]string{"strategy": tc.call.Strategy, "cluster-name": tc.cluster, "plannerip": tc.call.PlannerIP}
		if tc.app {
			want["x-app"] = "mine"
		}
		for k, v := range want {
			got := md.Get(k)
			if v == "" && len(got) != 0 || v != "" && (len(got) != 1 || got[0] != v) {
				t.Errorf("%s: header %s = %v, want %q", tc.name, k, got, v)
			}
		}
		if !tc.app && len(md.Get("x-app")) != 0 {
			t.Errorf("%s: x-app sent: %v", tc.name, md.Get("x-app"))
		}
		if tc.ctx.Value(ctxKey{}) != "v" {
			t.Errorf("%s: the caller's values are lost", tc.name)
		}
	}
	// The bound context shows the application's metadata, not the headers.
	if md, _ := metadata.FromOutgoingContext(c.Bind(base, bound)); len(md) != 0 {
		t.Errorf("bound context shows outgoing metadata %v", md)
	}
	// Deadline and cancellation are the caller's.
	dl := time.Now().Add(time.Hour)
	ctx, cancel := context.WithDeadline(base, dl)
	b := c.Bind(ctx, bound)
	if got, ok := b.Deadline(); !ok || !got.Equal(dl) {
		t.Errorf("deadline %v %v, want %v", got, ok, dl)
	}
	cancel()
	<-b.Done()
	var resp enginepb.AuthenticateResponse
	if err := c.Invoke(b, bound, &enginepb.AuthenticateRequest{}, &resp); Classify(err) != KindCanceled {
		t.Fatalf("err = %v (%v), want canceled", err, Classify(err))
	}
}

// The steady path: calls with a bound context allocate nothing in the call
// path, the observer's success report included.
func TestBoundInvokeAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's instrumentation allocates")
	}
	c := NewClient(stubConn{}, "c1", nopObserver{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	bctx := c.Bind(ctx, benchCall)
	var resp enginepb.AuthenticateResponse
	if n := testing.AllocsPerRun(1000, func() {
		if err := c.Invoke(bctx, benchCall, nil, &resp); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("bound Invoke: %v allocations per call, want 0", n)
	}
	// Without Bind a call derives its context: one allocation, which is
	// what Bind saves (this also shows the test can see an allocation).
	if n := testing.AllocsPerRun(1000, func() { _ = c.Invoke(ctx, benchCall, nil, &resp) }); n != 1 {
		t.Errorf("unbound Invoke: %v allocations per call, want 1", n)
	}
}

// A DEADLINE_EXCEEDED that arrives once the caller's deadline has passed is
// the caller's deadline even when the caller's own timer has not fired yet
// (the server, which got the deadline in grpc-timeout, gave up first).
func TestWrapServerDeadlineIsCallersDeadline(t *testing.T) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Millisecond))
	defer cancel()
	// Stand in for "the timer has not fired yet": a context whose Err is
	// nil but whose deadline has passed.
	e := wrap(pendingDeadline{ctx}, Call{Method: "/QueryEngineService/getResultMetadata"}, status.Error(codes.DeadlineExceeded, "context deadline exceeded"))
	if e.Kind != KindDeadline || !errors.Is(e, context.DeadlineExceeded) {
		t.Fatalf("kind %v, is deadline %v", e.Kind, errors.Is(e, context.DeadlineExceeded))
	}
	// A server's own DEADLINE_EXCEEDED with the caller's deadline still
	// ahead is not the caller's.
	later, cancel2 := context.WithTimeout(context.Background(), time.Hour)
	defer cancel2()
	e = wrap(later, Call{Method: "/QueryEngineService/getResultMetadata"}, status.Error(codes.DeadlineExceeded, "engine timeout"))
	if errors.Is(e, context.DeadlineExceeded) {
		t.Fatalf("server timeout taken for the caller's deadline: %v", e)
	}
}

type pendingDeadline struct{ context.Context }

func (pendingDeadline) Err() error { return nil }
