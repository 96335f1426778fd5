package e6arrow_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"io"
	"log/slog"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6arrow"
	"github.com/e6go/e6data/internal/enginepb"
	"github.com/e6go/e6data/internal/replay"
)

// BenchmarkFetchFloor measures the fetch paths against the physical floor:
// a replay server (internal/replay) serves one pre-encoded 10,000-row
// LONG+DOUBLE+STRING batch over real gRPC on loopback, so no SQL engine is
// in the measurement. One op is one batch (10,000 rows).
//
//	floor   a bare grpc-go loop: getNextResultBatch, the bytes received, nothing decoded
//	arrow   e6arrow.Query, every value touched
//	driver  the driver's Rows.Next, without database/sql
//	sql     database/sql, Scan into *int64, *float64, *string
//
// Each reports rows/s (wall clock) and rows/cpu-s (rows per second of the
// whole process's CPU, the replay server's included); compare them as
// ratios within one run. On a loaded machine rows/cpu-s is the steadier one.
func BenchmarkFetchFloor(b *testing.B) {
	srv, err := replay.Start(0)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	report := func(b *testing.B, start time.Time, cpu0 time.Duration) {
		rows := float64(b.N) * replay.Rows
		b.ReportMetric(rows/time.Since(start).Seconds(), "rows/s")
		b.ReportMetric(rows/(processCPU()-cpu0).Seconds(), "rows/cpu-s")
		b.ReportMetric(0, "ns/op") // per batch; rows/s is the figure
	}
	text := func(b *testing.B) string { return "replay " + strconv.Itoa(b.N) }

	b.Run("floor", func(b *testing.B) {
		cc, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithInitialWindowSize(16<<20), grpc.WithInitialConnWindowSize(16<<20), grpc.WithReadBufferSize(256<<10),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(100<<20)))
		if err != nil {
			b.Fatal(err)
		}
		defer cc.Close()
		c := enginepb.NewQueryEngineServiceClient(cc)
		p, err := c.PrepareStatement(ctx, &enginepb.PrepareStatementRequest{QueryString: text(b)})
		if err != nil {
			b.Fatal(err)
		}
		req := &enginepb.GetNextResultBatchRequest{QueryId: p.GetQueryId(), SessionId: "s", EngineIP: p.GetEngineIP()}
		b.ReportAllocs()
		b.ResetTimer()
		start, cpu0 := time.Now(), processCPU()
		var bytes int
		for range b.N {
			resp, err := c.GetNextResultBatch(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			bytes += len(resp.GetResultBatch())
		}
		report(b, start, cpu0)
		b.SetBytes(int64(bytes / max(b.N, 1)))
	})

	ctr := replayConnector(b, srv.Addr())
	db := sql.OpenDB(ctr)
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		b.Fatal(err)
	}

	b.Run("arrow", func(b *testing.B) {
		b.ReportAllocs()
		b.ResetTimer()
		start, cpu0 := time.Now(), processCPU()
		rdr, err := e6arrow.Query(ctx, db, text(b))
		if err != nil {
			b.Fatal(err)
		}
		var sum int64
		var fsum float64
		var rows int
		for rdr.Next() {
			rec := rdr.RecordBatch()
			ids := rec.Column(0).(*array.Int64)
			xs := rec.Column(1).(*array.Float64)
			ss := rec.Column(2).(*array.String)
			for i := range int(rec.NumRows()) {
				sum += ids.Value(i)
				fsum += xs.Value(i)
				sum += int64(len(ss.Value(i)))
			}
			rows += int(rec.NumRows())
		}
		if err := rdr.Err(); err != nil {
			b.Fatal(err)
		}
		rdr.Release()
		report(b, start, cpu0)
		check(b, rows, sum, fsum)
	})

	b.Run("driver", func(b *testing.B) {
		dc, err := ctr.Connect(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer dc.Close()
		b.ReportAllocs()
		b.ResetTimer()
		start, cpu0 := time.Now(), processCPU()
		r, err := dc.(driver.QueryerContext).QueryContext(ctx, text(b), nil)
		if err != nil {
			b.Fatal(err)
		}
		dest := make([]driver.Value, 3)
		var sum int64
		var fsum float64
		var rows int
		for {
			if err := r.Next(dest); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			sum += dest[0].(int64)
			fsum += dest[1].(float64)
			sum += int64(len(dest[2].(string)))
			rows++
		}
		r.Close()
		report(b, start, cpu0)
		check(b, rows, sum, fsum)
	})

	b.Run("sql", func(b *testing.B) {
		b.ReportAllocs()
		b.ResetTimer()
		start, cpu0 := time.Now(), processCPU()
		rs, err := db.QueryContext(ctx, text(b))
		if err != nil {
			b.Fatal(err)
		}
		var id int64
		var x float64
		var s string
		var sum int64
		var fsum float64
		var rows int
		for rs.Next() {
			if err := rs.Scan(&id, &x, &s); err != nil {
				b.Fatal(err)
			}
			sum += id + int64(len(s))
			fsum += x
			rows++
		}
		if err := rs.Err(); err != nil {
			b.Fatal(err)
		}
		rs.Close()
		report(b, start, cpu0)
		check(b, rows, sum, fsum)
	})
}

// processCPU is the user+system CPU time of the whole process (the replay
// server's goroutines included: the same work for every sub-benchmark).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// check verifies that every row was read: the batch sums times b.N.
func check(b *testing.B, rows int, sum int64, fsum float64) {
	b.Helper()
	var wantSum int64
	var wantF float64
	for i := range replay.Rows {
		wantSum += int64(i) + int64(len("row-"+strconv.Itoa(i)))
		wantF += float64(i) * 0.5
	}
	if rows != b.N*replay.Rows || sum != wantSum*int64(b.N) || fsum != wantF*float64(b.N) {
		b.Fatalf("read %d rows (sum %d, %g), want %d", rows, sum, fsum, b.N*replay.Rows)
	}
}

func replayConnector(b *testing.B, addr string) *e6data.Connector {
	b.Helper()
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	cfg, err := e6data.LoadConfig("", nil, e6data.WithSetting("Host", host), e6data.WithSetting("Port", strconv.Itoa(p)),
		e6data.WithCredentials("bench@example.com", "token"), e6data.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	ctr, err := e6data.NewConnector(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ctr.Close() })
	return ctr
}
