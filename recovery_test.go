package e6data

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/e6go/e6data/internal/enginepb"
	"github.com/e6go/e6data/internal/rpc"
)

// engineFake answers every call at once, successfully, without a
// transport: authenticate with a session, ClusterService status with
// "active", everything else with an empty response.
type engineFake struct{ nopConn }

func (engineFake) Invoke(_ context.Context, _ string, _, resp any, _ ...grpc.CallOption) error {
	switch r := resp.(type) {
	case *enginepb.AuthenticateResponse:
		r.SessionId = "s2"
	case *enginepb.ClusterStatusResponse:
		r.Status = "active"
	}
	return nil
}

// stallingAuth is engineFake whose authenticate never answers.
type stallingAuth struct{ engineFake }

func (f stallingAuth) Invoke(ctx context.Context, method string, req, resp any, opts ...grpc.CallOption) error {
	if _, ok := resp.(*enginepb.AuthenticateResponse); ok {
		<-ctx.Done()
		return status.FromContextError(ctx.Err()).Err()
	}
	return f.engineFake.Invoke(ctx, method, req, resp, opts...)
}

// A detection that finds nothing within its timeout says so: every
// authenticate stalls (the server of a cluster whose stacks both hang).
func TestDetectionTimeoutError(t *testing.T) {
	ctr := fakeEngineConnector(t, stallingAuth{}, false)      // no strategy known: Connect detects
	ctr.cfg.StrategyDetectionTimeout = 200 * time.Millisecond // below the configurable minimum, for the test's sake
	_, err := ctr.Connect(context.Background())
	if !errors.Is(err, ErrNoLiveStrategy) || errors.Is(err, ErrStrategyMismatch) || !strings.Contains(err.Error(), "within 200ms") {
		t.Fatalf("err = %v, want ErrNoLiveStrategy naming the timeout", err)
	}
}

// fakeEngineConnector is a connector whose calls go to fake, on a confirmed
// blue strategy when confirm.
func fakeEngineConnector(t *testing.T, fake grpc.ClientConnInterface, confirm bool, opts ...Option) *Connector {
	t.Helper()
	base := []Option{WithSetting("Host", "127.0.0.1"), WithSetting("Port", "1"), WithCredentials("u@example.com", "t0ken"),
		WithSetting("ClusterName", "recovery-fake"), WithLogger(slog.New(slog.DiscardHandler))}
	cfg, err := LoadConfig("", nil, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); clusters.forgetTarget("127.0.0.1:1") })
	c.rpc = rpc.NewClient(fake, cfg.ClusterName, observer{c})
	if confirm {
		c.state.Confirm("blue", "")
	}
	return c
}

// rpcErr is a failed call's error as the call path reports it.
func rpcErr(kind rpc.Kind, code codes.Code, msg string) error {
	return &rpc.Error{Method: "m", Strategy: "blue", Kind: kind, Code: code, Message: msg, Err: status.Error(code, msg)}
}

// TestSafeToRetryPerErrorClass drives the recovery engine with attempts
// that fail the way each class of call failure does (a fake at the call
// layer) and checks what it decides: how many attempts ran, the sentinel,
// and SafeToRetry. The calls recovery itself makes (authenticate, cluster
// status, detection) go to engineFake. (Recovery against e6sim, with real
// faults: internal/e2e/recovery_test.go.)
func TestSafeToRetryPerErrorClass(t *testing.T) {
	ctr := fakeEngineConnector(t, engineFake{}, true, WithRetry(3, 100*time.Millisecond))
	var (
		e456      = rpcErr(rpc.KindWrongStrategy, codes.Unknown, "status: 456")
		e503      = rpcErr(rpc.KindClusterUnavailable, codes.Unavailable, "status: 503")
		eDenied   = rpcErr(rpc.KindAccessDenied, codes.Internal, "Access denied")
		eReset    = rpcErr(rpc.KindTransient, codes.Unavailable, "connection reset")
		eNotFound = rpcErr(rpc.KindNotFound, codes.NotFound, "query not found")
		eBadSQL   = rpcErr(rpc.KindInvalid, codes.InvalidArgument, "syntax error")
	)
	cases := []struct {
		name       string
		read       bool
		stage      stage
		err        error
		persistent bool  // every attempt fails, not only the first
		attempts   int   // attempts run
		want       error // nil: success after the retry
		safe       bool
	}{
		{"write execute reset", false, stageExecute, eReset, false, 1, ErrOutcomeUnknown, false},
		{"read execute reset", true, stageExecute, eReset, false, 2, nil, false},
		{"write execute 456", false, stageExecute, e456, false, 2, nil, false},
		{"write execute 503", false, stageExecute, e503, false, 2, nil, false},
		{"write execute access denied", false, stageExecute, eDenied, false, 2, nil, false},
		{"write execute not found", false, stageExecute, eNotFound, false, 2, nil, false},
		{"write execute rejected", false, stageExecute, eBadSQL, false, 1, ErrQueryFailed, false},
		{"write prepare reset", false, stagePrepare, eReset, false, 2, nil, false},
		{"write result 456 (stack gone after execute)", false, stageResult, e456, false, 1, ErrOutcomeUnknown, false},
		{"write result reset", false, stageResult, eReset, false, 1, ErrOutcomeUnknown, false},
		{"read result 456", true, stageResult, e456, false, 2, nil, false},
		{"write prepare 456 exhausted", false, stagePrepare, e456, true, 3, ErrStrategyMismatch, true},
		{"read execute reset exhausted", true, stageExecute, eReset, true, 3, ErrRetriesExhausted, true},
		{"write execute 456 exhausted", false, stageExecute, e456, true, 3, ErrRetriesExhausted, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cn := &conn{ctr: ctr, life: ctr.life, sid: "s", strategy: "blue"}
			o := cn.newOp("query", tc.read, nil)
			n := 0
			err := cn.run(context.Background(), o, func(context.Context) error {
				n++
				if n == 1 || tc.persistent {
					return failAt(tc.stage, &query{id: "q1", strategy: "blue"}, tc.err)
				}
				return nil
			})
			if n != tc.attempts {
				t.Errorf("%d attempts, want %d", n, tc.attempts)
			}
			if tc.want == nil {
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if SafeToRetry(err) != tc.safe {
				t.Errorf("SafeToRetry(%v) = %v, want %v", err, SafeToRetry(err), tc.safe)
			}
			if errors.Is(tc.want, ErrOutcomeUnknown) && !strings.Contains(err.Error(), "q1") {
				t.Errorf("%q does not name the query", err)
			}
		})
	}

	t.Run("caller's deadline after execute", func(t *testing.T) {
		cn := &conn{ctr: ctr, life: ctr.life, sid: "s", strategy: "blue"}
		ctx, cancel := context.WithCancel(context.Background())
		o := cn.newOp("query", false, nil)
		err := cn.run(ctx, o, func(context.Context) error {
			cancel()
			return failAt(stageExecute, &query{id: "q1"}, eReset)
		})
		if !errors.Is(err, ErrQueryCancelled) || !errors.Is(err, context.Canceled) || !errors.Is(err, ErrOutcomeUnknown) || SafeToRetry(err) {
			t.Fatalf("err = %v: want ErrQueryCancelled, context.Canceled and ErrOutcomeUnknown, not safe to retry", err)
		}
	})
	t.Run("SafeToRetry of foreign errors", func(t *testing.T) {
		if SafeToRetry(errors.New("x")) || SafeToRetry(nil) || SafeToRetry(&Error{sentinel: ErrOutcomeUnknown, Retryable: true}) {
			t.Fatal("SafeToRetry true for an error the connector did not judge safe")
		}
	})
}
