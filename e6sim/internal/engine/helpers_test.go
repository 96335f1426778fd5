//go:build cgo

package engine

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/e6go/e6data/internal/enginepb"
	"github.com/e6go/e6data/internal/wire"
)

var (
	sharedOnce sync.Once
	sharedDB   *DB
	sharedErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedDB != nil {
		sharedDB.Close()
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// testDB returns the database shared by the tests that do not change it.
func testDB(t testing.TB) *DB {
	t.Helper()
	sharedOnce.Do(func() { sharedDB, sharedErr = OpenDB(context.Background(), DBOptions{}) })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedDB
}

// harness is an engine served over gRPC on 127.0.0.1 and a client of it.
type harness struct {
	e   *Engine
	c   enginepb.QueryEngineServiceClient
	ctx context.Context
}

func serve(t testing.TB, db *DB, o Options) *harness {
	t.Helper()
	if o.Name == "" {
		o.Name = "blue"
	}
	e := New(db, o)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(64<<20), grpc.MaxSendMsgSize(256<<20))
	enginepb.RegisterQueryEngineServiceServer(srv, e)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(lis) }()
	cc, err := grpc.NewClient(lis.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(256<<20)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(func() {
		cancel()
		cc.Close()
		srv.Stop()
		<-done
		e.Close()
	})
	return &harness{e: e, c: enginepb.NewQueryEngineServiceClient(cc), ctx: ctx}
}

func (h *harness) auth(t testing.TB) string {
	t.Helper()
	r, err := h.c.Authenticate(h.ctx, &enginepb.AuthenticateRequest{User: "alice@example.com", Password: "token"})
	if err != nil {
		t.Fatal(err)
	}
	if r.GetSessionId() == "" {
		t.Fatal("empty session id")
	}
	return r.GetSessionId()
}

func (h *harness) prepare(t testing.TB, sid, sql string) string {
	t.Helper()
	r, err := h.c.PrepareStatementV2(h.ctx, &enginepb.PrepareStatementV2Request{SessionId: sid, Catalog: "sample", Schema: "main", QueryString: sql})
	if err != nil {
		t.Fatalf("prepare %q: %v", sql, err)
	}
	return r.GetQueryId()
}

func (h *harness) execute(t testing.TB, sid, qid string) {
	t.Helper()
	if _, err := h.c.ExecuteStatementV2(h.ctx, &enginepb.ExecuteStatementV2Request{SessionId: sid, QueryId: qid}); err != nil {
		t.Fatalf("execute: %v", err)
	}
}

func (h *harness) metadata(t testing.TB, sid, qid string) *wire.Metadata {
	t.Helper()
	r, err := h.c.GetResultMetadata(h.ctx, &enginepb.GetResultMetadataRequest{SessionId: sid, QueryId: qid})
	if err != nil {
		t.Fatalf("metadata: %v", err)
	}
	m, err := wire.DecodeMetadata(r.GetResultMetaData())
	if err != nil {
		t.Fatalf("decode metadata: %v", err)
	}
	return m
}

// batch fetches and decodes one batch; nil at the end.
func (h *harness) batch(t testing.TB, sid, qid string) *wire.Chunk {
	t.Helper()
	r, err := h.c.GetNextResultBatch(h.ctx, &enginepb.GetNextResultBatchRequest{SessionId: sid, QueryId: qid})
	if err != nil {
		t.Fatalf("batch: %v", err)
	}
	if len(r.GetResultBatch()) == 0 {
		return nil
	}
	var c wire.Chunk
	if err := wire.DecodeChunk(r.GetResultBatch(), &c); err != nil {
		t.Fatalf("decode chunk: %v", err)
	}
	return &c
}

func (h *harness) clear(t testing.TB, sid, qid string) {
	t.Helper()
	if _, err := h.c.ClearOrCancelQuery(h.ctx, &enginepb.ClearOrCancelQueryRequest{SessionId: sid, QueryId: qid}); err != nil {
		t.Fatalf("clear: %v", err)
	}
}

// query runs sql to the end and returns the metadata and every batch.
func (h *harness) query(t testing.TB, sid, sql string) (*wire.Metadata, []*wire.Chunk) {
	t.Helper()
	qid := h.prepare(t, sid, sql)
	h.execute(t, sid, qid)
	m := h.metadata(t, sid, qid)
	var out []*wire.Chunk
	for {
		c := h.batch(t, sid, qid)
		if c == nil {
			break
		}
		out = append(out, c)
	}
	h.clear(t, sid, qid)
	return m, out
}

// wantCode fails unless err is a gRPC status with code and a message
// containing substr.
func wantCode(t testing.TB, err error, code codes.Code, substr string) {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || err == nil {
		t.Fatalf("want %v %q, got %v", code, substr, err)
	}
	if st.Code() != code || !contains(st.Message(), substr) {
		t.Fatalf("want %v containing %q, got %v: %s", code, substr, st.Code(), st.Message())
	}
}

func contains(s, sub string) bool { return len(sub) == 0 || indexOf(s, sub) >= 0 }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
