// Command clientcpu reads a LONG+DOUBLE+STRING result from an e6data
// server (an e6sim process, for bench/README.md) through one of the
// connector's paths and exits, so that the whole client process can be
// measured with /usr/bin/time:
//
//	go build -o /tmp/clientcpu ./bench/clientcpu
//	/usr/bin/time -f '%U user %S sys %M KiB' /tmp/clientcpu -addr 127.0.0.1:50051 -mode arrow -rows 2000000
//
// Modes: arrow (e6arrow.Query, every value touched), sql (database/sql,
// Scan into *int64, *float64, *string), driver (the driver's Rows.Next
// without database/sql), select1 (connect, authenticate and run SELECT 1
// only: the start-up cost), parquet (e6arrow into a Parquet file, -out). With
// -heap it samples the Go heap every millisecond and prints the peak.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	rtmetrics "runtime/metrics"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6arrow"
	"github.com/e6go/e6data/internal/enginepb"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "e6data server host:port")
	mode := flag.String("mode", "arrow", "arrow, sql, driver, floor, select1 or parquet")
	rows := flag.Int64("rows", 2_000_000, "rows to read")
	out := flag.String("out", "", "Parquet file of -mode parquet")
	heap := flag.Bool("heap", false, "report the peak heap")
	prefetch := flag.Int("prefetch", -1, "PrefetchDepth (-1: the default)")
	prof := flag.String("cpuprofile", "", "write a CPU profile to `file`")
	memprof := flag.String("memprofile", "", "write an allocation profile to `file` (every allocation sampled)")
	flag.Parse()
	if *memprof != "" {
		runtime.MemProfileRate = 1
		defer writeMemProfile(*memprof)
	}
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			fmt.Fprintln(os.Stderr, "clientcpu:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "clientcpu:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*addr, *mode, *rows, *out, *heap, *prefetch); err != nil {
		fmt.Fprintln(os.Stderr, "clientcpu:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// writeMemProfile writes the allocation profile (-memprofile).
func writeMemProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "clientcpu:", err)
		return
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		fmt.Fprintln(os.Stderr, "clientcpu:", err)
	}
}

func run(addr, mode string, n int64, out string, heap bool, prefetch int) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	p, _ := strconv.Atoi(port)
	opts := []e6data.Option{e6data.WithSetting("Host", host), e6data.WithSetting("Port", strconv.Itoa(p)),
		e6data.WithCredentials("bench@example.com", "token"), e6data.WithLogger(slog.New(slog.DiscardHandler))}
	if prefetch >= 0 {
		opts = append(opts, e6data.WithSetting("PrefetchDepth", strconv.Itoa(prefetch)))
	}
	cfg, err := e6data.LoadConfig("", nil, opts...)
	if err != nil {
		return err
	}
	ctr, err := e6data.NewConnector(cfg)
	if err != nil {
		return err
	}
	defer ctr.Close()
	db := sql.OpenDB(ctr)
	defer db.Close()
	query := fmt.Sprintf("SELECT range AS id, CAST(range AS DOUBLE) * 0.5 AS x, 'row-' || range AS s FROM range(%d)", n)
	ctx := context.Background()
	var stop func() uint64
	if heap {
		stop = heapPeak()
	}
	start := time.Now()
	var got int64
	var sum int64
	var fsum float64
	switch mode {
	case "arrow":
		rdr, err := e6arrow.Query(ctx, db, query)
		if err != nil {
			return err
		}
		for rdr.Next() {
			rec := rdr.RecordBatch()
			ids := rec.Column(0).(*array.Int64)
			xs := rec.Column(1).(*array.Float64)
			ss := rec.Column(2).(*array.String)
			for i := range int(rec.NumRows()) {
				sum += ids.Value(i) + int64(len(ss.Value(i)))
				fsum += xs.Value(i)
			}
			got += rec.NumRows()
		}
		err = rdr.Err()
		rdr.Release()
		if err != nil {
			return err
		}
	case "sql":
		rs, err := db.QueryContext(ctx, query)
		if err != nil {
			return err
		}
		var id int64
		var x float64
		var s string
		for rs.Next() {
			if err := rs.Scan(&id, &x, &s); err != nil {
				return err
			}
			sum += id + int64(len(s))
			fsum += x
			got++
		}
		if err := rs.Close(); err != nil {
			return err
		}
		if err := rs.Err(); err != nil {
			return err
		}
	case "driver":
		dc, err := ctr.Connect(ctx)
		if err != nil {
			return err
		}
		defer dc.Close()
		r, err := dc.(driver.QueryerContext).QueryContext(ctx, query, nil)
		if err != nil {
			return err
		}
		dest := make([]driver.Value, 3)
		for {
			if err := r.Next(dest); err == io.EOF {
				break
			} else if err != nil {
				return err
			}
			sum += dest[0].(int64) + int64(len(dest[2].(string)))
			fsum += dest[1].(float64)
			got++
		}
		r.Close()
	case "select1":
		// The start-up cost: the Go runtime, the gRPC dial, authentication
		// and one query; the per-row cost of the other modes is the
		// difference.
		var one int64
		if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			return err
		}
		got = n
	case "floor":
		if got, err = floor(ctx, addr, query); err != nil {
			return err
		}
	case "parquet":
		if got, err = export(ctx, db, query, out); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}
	el := time.Since(start)
	line := fmt.Sprintf("%s: %d rows in %v (%.2f M rows/s), checksum %d %g", mode, got, el.Round(time.Millisecond), float64(got)/el.Seconds()/1e6, sum, fsum)
	if stop != nil {
		line += fmt.Sprintf(", peak heap %.1f MB", float64(stop())/(1<<20))
	}
	fmt.Println(line)
	if got != n {
		return fmt.Errorf("read %d rows, want %d", got, n)
	}
	return nil
}

// export writes the result to a Parquet file the way `e6 query -o parquet`
// does.
var groupRows = int64(1 << 20)

func export(ctx context.Context, db *sql.DB, query, path string) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	rdr, err := e6arrow.Query(ctx, db, query)
	if err != nil {
		return 0, err
	}
	defer rdr.Release()
	fw, err := pqarrow.NewFileWriter(rdr.Schema(), struct{ io.Writer }{bw},
		parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy), parquet.WithMaxRowGroupLength(groupRows)),
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return 0, err
	}
	var n int64
	for rdr.Next() {
		if err := fw.WriteBuffered(rdr.RecordBatch()); err != nil {
			return n, err
		}
		if fw.RowGroupTotalBytesWritten() >= 32<<20 {
			fw.NewBufferedRowGroup()
		}
		n += rdr.RecordBatch().NumRows()
	}
	if err := rdr.Err(); err != nil {
		return n, err
	}
	if err := fw.Close(); err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// heapPeak samples the heap (live and not yet swept objects) every
// millisecond until stopped and returns the largest value seen.
func heapPeak() (stop func() uint64) {
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		s := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var m uint64
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			rtmetrics.Read(s)
			m = max(m, s[0].Value.Uint64())
			select {
			case <-done:
				peak <- m
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); return <-peak }
}

// floor is the bare protocol with grpc-go: the query's calls, then
// getNextResultBatch until the end, the bytes received and nothing decoded
// (the rows are counted from the batch count and the known batch size).
func floor(ctx context.Context, addr, query string) (int64, error) {
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(16<<20), grpc.WithInitialConnWindowSize(16<<20), grpc.WithReadBufferSize(256<<10),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(100<<20)))
	if err != nil {
		return 0, err
	}
	defer cc.Close()
	c := enginepb.NewQueryEngineServiceClient(cc)
	auth, err := c.Authenticate(ctx, &enginepb.AuthenticateRequest{User: "bench@example.com", Password: "token"})
	if err != nil {
		return 0, err
	}
	sid := auth.GetSessionId()
	p, err := c.PrepareStatement(ctx, &enginepb.PrepareStatementRequest{SessionId: sid, QueryString: query})
	if err != nil {
		return 0, err
	}
	qid, ip := p.GetQueryId(), p.GetEngineIP()
	if _, err := c.ExecuteStatement(ctx, &enginepb.ExecuteStatementRequest{SessionId: sid, QueryId: qid, EngineIP: ip}); err != nil {
		return 0, err
	}
	if _, err := c.GetResultMetadata(ctx, &enginepb.GetResultMetadataRequest{SessionId: sid, QueryId: qid, EngineIP: ip}); err != nil {
		return 0, err
	}
	var rows int64
	req := &enginepb.GetNextResultBatchRequest{SessionId: sid, QueryId: qid, EngineIP: ip}
	for {
		resp, err := c.GetNextResultBatch(ctx, req)
		if err != nil {
			return rows, err
		}
		b := resp.GetResultBatch()
		if len(b) == 0 {
			break
		}
		// Chunk.size is the first field: i32 at bytes 3..7.
		if len(b) >= 7 && b[0] == 8 {
			rows += int64(binary.BigEndian.Uint32(b[3:7]))
		}
	}
	_, err = c.ClearOrCancelQuery(ctx, &enginepb.ClearOrCancelQueryRequest{SessionId: sid, QueryId: qid, EngineIP: ip})
	return rows, err
}
