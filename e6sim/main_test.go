package e6sim

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/e6go/e6data/internal/enginepb"
)

// sharedDB is one database for every simulator of the package's tests
// (opening the sample data once keeps the package fast).
var (
	sharedDBOnce sync.Once
	sharedDB     *DB
	sharedDBErr  error
)

func testDB(t testing.TB) *DB {
	t.Helper()
	sharedDBOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		sharedDB, sharedDBErr = OpenDB(ctx, "")
	})
	if sharedDBErr != nil {
		t.Fatalf("open shared database: %v", sharedDBErr)
	}
	return sharedDB
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedDB != nil {
		if err := sharedDB.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "closing shared database:", err)
			code = 1
		}
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

var bothSignals = []Signal{SignalHTTP, SignalGRPC}

// start starts a simulator on the shared database with fast defaults and
// closes it at the end of the test.
func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.DB == nil {
		cfg.DB = testDB(t)
	}
	if cfg.ResumeDuration == 0 {
		cfg.ResumeDuration = 20 * time.Millisecond
	}
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// client is a raw gRPC client of one simulator.
type client struct {
	t  *testing.T
	cc *grpc.ClientConn
	qe enginepb.QueryEngineServiceClient
	cl enginepb.ClusterServiceClient
}

func dial(t *testing.T, addr string, opts ...grpc.DialOption) *client {
	t.Helper()
	opts = append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)
	cc, err := grpc.NewClient(addr, opts...)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { cc.Close() })
	return &client{t: t, cc: cc, qe: enginepb.NewQueryEngineServiceClient(cc), cl: enginepb.NewClusterServiceClient(cc)}
}

// ctxFor returns a context with a deadline carrying the strategy header
// (none when strategy is "").
func ctxFor(t *testing.T, strategy string, kv ...string) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	if strategy != "" {
		kv = append(kv, "strategy", strategy)
	}
	if len(kv) > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, kv...)
	}
	return ctx
}

func (c *client) auth(strategy string) (*enginepb.AuthenticateResponse, error) {
	return c.qe.Authenticate(ctxFor(c.t, strategy), &enginepb.AuthenticateRequest{User: "alice", Password: "token"})
}

func (c *client) mustAuth(strategy string) string {
	c.t.Helper()
	r, err := c.auth(strategy)
	if err != nil {
		c.t.Fatalf("authenticate (strategy %q): %v", strategy, err)
	}
	if r.GetSessionId() == "" {
		c.t.Fatalf("authenticate (strategy %q): empty session id", strategy)
	}
	return r.GetSessionId()
}

// query prepares and executes sql and reads its metadata; it returns the
// query id.
func (c *client) query(strategy, session, sql string) (string, error) {
	ctx := ctxFor(c.t, strategy)
	p, err := c.qe.PrepareStatementV2(ctx, &enginepb.PrepareStatementV2Request{
		SessionId: session, Catalog: "sample", Schema: "main", QueryString: sql})
	if err != nil {
		return "", fmt.Errorf("prepare: %w", err)
	}
	ctx = metadata.AppendToOutgoingContext(ctx, "plannerip", p.GetEngineIP())
	if _, err := c.qe.ExecuteStatementV2(ctx, &enginepb.ExecuteStatementV2Request{
		EngineIP: p.GetEngineIP(), SessionId: session, QueryId: p.GetQueryId()}); err != nil {
		return p.GetQueryId(), fmt.Errorf("execute: %w", err)
	}
	return p.GetQueryId(), nil
}

func (c *client) mustQuery(strategy, session, sql string) string {
	c.t.Helper()
	id, err := c.query(strategy, session, sql)
	if err != nil {
		c.t.Fatalf("query %q on %q: %v", sql, strategy, err)
	}
	return id
}

func (c *client) batch(strategy, session, queryID string) (*enginepb.GetNextResultBatchResponse, error) {
	return c.qe.GetNextResultBatch(ctxFor(c.t, strategy), &enginepb.GetNextResultBatchRequest{SessionId: session, QueryId: queryID})
}

func (c *client) clusterStatus(kv ...string) (string, error) {
	r, err := c.cl.Status(ctxFor(c.t, "", kv...), &enginepb.ClusterStatusRequest{User: "alice", Password: "token"})
	return r.GetStatus(), err
}

// is456 reports whether err is the wrong-strategy signal in either form.
func is456(err error) bool { return isSignal(err, 456) }

// is503 reports whether err is the cluster-unavailable signal in either form.
func is503(err error) bool { return isSignal(err, 503) }

func isSignal(err error, code int) bool {
	st, ok := status.FromError(err)
	if !ok || err == nil {
		return false
	}
	msg := strings.ToLower(st.Message())
	return strings.Contains(msg, fmt.Sprintf("status: %d", code)) ||
		strings.Contains(msg, fmt.Sprintf("http status code received from server: %d", code))
}

// wantSignal checks err is the signal in exactly the form mode sends it.
func wantSignal(t *testing.T, err error, mode Signal, code int) {
	t.Helper()
	st, _ := status.FromError(err)
	wantCode := codes.Unknown
	if code == 503 {
		wantCode = codes.Unavailable
	}
	var wantMsg string
	if mode == SignalHTTP {
		wantMsg = fmt.Sprintf("unexpected HTTP status code received from server: %d", code)
	} else {
		wantMsg = fmt.Sprintf("status: %d ", code)
	}
	if err == nil || st.Code() != wantCode || !strings.Contains(st.Message(), wantMsg) {
		t.Fatalf("got %v; want code %v with message containing %q", err, wantCode, wantMsg)
	}
}

func wantCode(t *testing.T, err error, code codes.Code, substr string) {
	t.Helper()
	st, _ := status.FromError(err)
	if err == nil || st.Code() != code || !strings.Contains(st.Message(), substr) {
		t.Fatalf("got %v; want code %v with message containing %q", err, code, substr)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute) // only catches a hang
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
