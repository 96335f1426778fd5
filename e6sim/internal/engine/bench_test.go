//go:build cgo

package engine

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/e6go/e6data/internal/enginepb"
)

// BenchmarkFetchNumbers measures how fast the engine produces result
// batches (Thrift Chunk bytes) for a LONG+DOUBLE+STRING result of 1M rows,
// calling the rpc methods in-process (no network). Reports rows/s and MB/s
// of chunk bytes.
func BenchmarkFetchNumbers(b *testing.B) {
	benchFetch(b, func(e *Engine) enginepb.QueryEngineServiceServer { return e })
}

// BenchmarkFetchNumbersGRPC is the same through a gRPC server and client on
// 127.0.0.1.
func BenchmarkFetchNumbersGRPC(b *testing.B) {
	h := serve(b, testDB(b), Options{})
	benchFetchClient(b, h.c)
}

type callFunc func(e *Engine) enginepb.QueryEngineServiceServer

func benchFetch(b *testing.B, srv callFunc) {
	e := New(testDB(b), Options{Name: "bench"})
	defer e.Close()
	s := srv(e)
	ctx := context.Background()
	auth, err := s.Authenticate(ctx, &enginepb.AuthenticateRequest{User: "u", Password: "p"})
	if err != nil {
		b.Fatal(err)
	}
	sid := auth.GetSessionId()
	run := func() (rows, bytes int64) {
		p, err := s.PrepareStatementV2(ctx, &enginepb.PrepareStatementV2Request{SessionId: sid, QueryString: "SELECT id, x, s FROM numbers"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.ExecuteStatementV2(ctx, &enginepb.ExecuteStatementV2Request{SessionId: sid, QueryId: p.GetQueryId()}); err != nil {
			b.Fatal(err)
		}
		for {
			r, err := s.GetNextResultBatch(ctx, &enginepb.GetNextResultBatchRequest{SessionId: sid, QueryId: p.GetQueryId()})
			if err != nil {
				b.Fatal(err)
			}
			if len(r.GetResultBatch()) == 0 {
				break
			}
			bytes += int64(len(r.GetResultBatch()))
			rows += 10000
		}
		if _, err := s.ClearOrCancelQuery(ctx, &enginepb.ClearOrCancelQueryRequest{SessionId: sid, QueryId: p.GetQueryId()}); err != nil {
			b.Fatal(err)
		}
		return rows, bytes
	}
	report(b, run)
}

func benchFetchClient(b *testing.B, c enginepb.QueryEngineServiceClient) {
	ctx := context.Background()
	auth, err := c.Authenticate(ctx, &enginepb.AuthenticateRequest{User: "u", Password: "p"})
	if err != nil {
		b.Fatal(err)
	}
	sid := auth.GetSessionId()
	run := func() (rows, bytes int64) {
		p, err := c.PrepareStatementV2(ctx, &enginepb.PrepareStatementV2Request{SessionId: sid, QueryString: "SELECT id, x, s FROM numbers"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.ExecuteStatementV2(ctx, &enginepb.ExecuteStatementV2Request{SessionId: sid, QueryId: p.GetQueryId()}); err != nil {
			b.Fatal(err)
		}
		for {
			r, err := c.GetNextResultBatch(ctx, &enginepb.GetNextResultBatchRequest{SessionId: sid, QueryId: p.GetQueryId()})
			if err != nil {
				b.Fatal(err)
			}
			if len(r.GetResultBatch()) == 0 {
				break
			}
			bytes += int64(len(r.GetResultBatch()))
			rows += 10000
		}
		if _, err := c.ClearOrCancelQuery(ctx, &enginepb.ClearOrCancelQueryRequest{SessionId: sid, QueryId: p.GetQueryId()}); err != nil {
			b.Fatal(err)
		}
		return rows, bytes
	}
	report(b, run)
}

func report(b *testing.B, run func() (rows, bytes int64)) {
	b.ReportAllocs()
	var rows, bytes int64
	start := time.Now()
	for b.Loop() {
		r, n := run()
		rows += r
		bytes += n
	}
	secs := time.Since(start).Seconds()
	b.ReportMetric(float64(rows)/secs, "rows/s")
	b.ReportMetric(float64(bytes)/secs/1e6, "MB/s")
	b.ReportMetric(float64(bytes)/float64(rows), "B/row")
}

// BenchmarkConcurrentQueries measures small queries (prepare, execute, one
// batch, clear) run by 64 goroutines at once through a gRPC server and
// client on 127.0.0.1: the cost of getting a DuckDB connection under
// contention. Reports queries/s.
func BenchmarkConcurrentQueries(b *testing.B) {
	h := serve(b, testDB(b), Options{})
	ctx := context.Background()
	auth, err := h.c.Authenticate(ctx, &enginepb.AuthenticateRequest{User: "u", Password: "p"})
	if err != nil {
		b.Fatal(err)
	}
	sid := auth.GetSessionId()
	const goroutines = 64
	b.SetParallelism(max(1, (goroutines+runtime.GOMAXPROCS(0)-1)/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p, err := h.c.PrepareStatementV2(ctx, &enginepb.PrepareStatementV2Request{SessionId: sid, Catalog: "sample", Schema: "main",
				QueryString: "SELECT id, name FROM customers WHERE id = 3"})
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := h.c.ExecuteStatementV2(ctx, &enginepb.ExecuteStatementV2Request{SessionId: sid, QueryId: p.GetQueryId()}); err != nil {
				b.Error(err)
				return
			}
			r, err := h.c.GetNextResultBatch(ctx, &enginepb.GetNextResultBatchRequest{SessionId: sid, QueryId: p.GetQueryId()})
			if err != nil || len(r.GetResultBatch()) == 0 {
				b.Errorf("batch: %v", err)
				return
			}
			if _, err := h.c.ClearOrCancelQuery(ctx, &enginepb.ClearOrCancelQueryRequest{SessionId: sid, QueryId: p.GetQueryId()}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "queries/s")
}
