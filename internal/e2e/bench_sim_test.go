package e2e

import (
	"bufio"
	"context"
	"database/sql"
	"database/sql/driver"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	rtmetrics "runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/e6go/e6data"
)

// Benchmarks against e6sim running as a separate process, so the client's
// and the simulator's CPU time can be told apart. The binary is built once
// per test run (see simBinary); every benchmark here is skipped with -short.

var benchProfiles = flag.String("e6bench.profiles", "", "directory for the mutex and block profiles of BenchmarkConcurrency (default: a temporary directory)")

var simBuild struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// simBinary builds ./cmd/e6sim once; TestMain removes it.
func simBinary(b *testing.B) string {
	simBuild.once.Do(func() {
		simBuild.dir, simBuild.err = os.MkdirTemp("", "e6sim-bench-")
		if simBuild.err != nil {
			return
		}
		simBuild.path = filepath.Join(simBuild.dir, "e6sim")
		out, err := exec.Command("go", "build", "-o", simBuild.path, "./cmd/e6sim").CombinedOutput()
		if err != nil {
			simBuild.err = fmt.Errorf("go build ./cmd/e6sim: %v\n%s", err, out)
		}
	})
	if simBuild.err != nil {
		b.Fatal(simBuild.err)
	}
	return simBuild.path
}

func removeSimBinary() {
	if simBuild.dir != "" {
		os.RemoveAll(simBuild.dir)
	}
}

// simProc is a running e6sim process.
type simProc struct {
	cmd   *exec.Cmd
	addr  string
	admin string
}

func startSimProc(b *testing.B, args ...string) *simProc {
	b.Helper()
	if testing.Short() {
		b.Skip("needs an e6sim process; skipped with -short")
	}
	bin := simBinary(b)
	args = append([]string{"-addr", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-log-level", "error"}, args...)
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p := &simProc{cmd: cmd}
	b.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "e6sim: e6data engine on ") {
				line <- sc.Text()
			}
		}
	}()
	select {
	case l := <-line:
		// "e6sim: e6data engine on ADDR, admin on http://ADMIN, live strategy blue"
		f := strings.Fields(strings.NewReplacer(",", " ", "http://", "").Replace(l))
		p.addr, p.admin = f[4], f[7]
	case <-time.After(2 * time.Minute):
		b.Fatal("e6sim did not start")
	}
	return p
}

// cpu returns the process's user+system CPU time from /proc.
func (p *simProc) cpu(b *testing.B) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // fields from 3 (state) on
	ut, _ := strconv.ParseInt(f[11], 10, 64)                 // field 14
	st, _ := strconv.ParseInt(f[12], 10, 64)                 // field 15
	const clockTicks = 100                                   // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / clockTicks
}

func (p *simProc) setFaults(b *testing.B, rules string) {
	resp, err := http.Post("http://"+p.admin+"/faults", "application/json", strings.NewReader(rules))
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("POST /faults: %s", resp.Status)
	}
}

func (p *simProc) db(b *testing.B, opts ...e6data.Option) *sql.DB {
	b.Helper()
	host, port, err := net.SplitHostPort(p.addr)
	if err != nil {
		b.Fatal(err)
	}
	n, _ := strconv.Atoi(port)
	cfg, err := e6data.LoadConfig("", nil, append([]e6data.Option{e6data.WithSetting("Host", host), e6data.WithSetting("Port", strconv.Itoa(n)), e6data.WithCredentials("bench@example.com", "t0ken"),
		e6data.WithSetting("Catalog", "sample"), e6data.WithSetting("Database", "main"), e6data.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	ctr, err := e6data.NewConnector(cfg)
	if err != nil {
		b.Fatal(err)
	}
	db := sql.OpenDB(ctr)
	b.Cleanup(func() { db.Close() })
	return db
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// selfSyscalls returns this process's read and write system call counts
// (syscr and syscw in /proc/self/io), 0 where they cannot be read.
func selfSyscalls() (reads, writes uint64) {
	raw, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(raw), "\n") {
		k, v, _ := strings.Cut(l, ": ")
		n, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		switch k {
		case "syscr":
			reads = n
		case "syscw":
			writes = n
		}
	}
	return reads, writes
}

// heapPeak samples the heap (bytes in live and not yet swept objects)
// every millisecond until stopped and returns the largest value seen.
func heapPeak() (stop func() uint64) {
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		s := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var max uint64
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			rtmetrics.Read(s)
			max = maxU(max, s[0].Value.Uint64())
			select {
			case <-done:
				peak <- max
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); return <-peak }
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

const e2eQuery = "SELECT range AS l, CAST(range AS DOUBLE) / 3 AS d, 'customer-' || range AS s FROM range(%d)"

// BenchmarkEndToEnd10M fetches LONG+DOUBLE+STRING results of 1M and 10M
// rows from an e6sim process over loopback and scans every row into Go
// values. It reports the connector's CPU time (this process) against the
// simulator's (its /proc counters), rows/s and the peak heap, which must
// not grow with the row count, and this process's read and write system
// calls (/proc/self/io).
func BenchmarkEndToEnd10M(b *testing.B) {
	p := startSimProc(b)
	db := p.db(b)
	ctx := context.Background()
	if err := db.PingContext(ctx); err != nil {
		b.Fatal(err)
	}
	type scanner func(b *testing.B, text string) int
	viaSQL := func(b *testing.B, text string) int {
		rows, err := db.QueryContext(ctx, text)
		if err != nil {
			b.Fatal(err)
		}
		var (
			l   int64
			d   float64
			s   string
			got int
		)
		for rows.Next() {
			if err := rows.Scan(&l, &d, &s); err != nil {
				b.Fatal(err)
			}
			got++
		}
		if err := rows.Close(); err != nil || rows.Err() != nil {
			b.Fatal(err, rows.Err())
		}
		return got
	}
	// viaDriver reads the same rows through the driver interface alone:
	// the connector's own share, without database/sql's per-row locking
	// and conversions.
	viaDriver := func(b *testing.B, text string) int {
		cn, err := db.Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer cn.Close()
		got := 0
		err = cn.Raw(func(dc any) error {
			r, err := dc.(driver.QueryerContext).QueryContext(ctx, text, nil)
			if err != nil {
				return err
			}
			defer r.Close()
			dest := make([]driver.Value, 3)
			for {
				switch err := r.Next(dest); err {
				case nil:
					got++
				case io.EOF:
					return nil
				default:
					return err
				}
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		return got
	}
	for _, tc := range []struct {
		name string
		n    int
		scan scanner
	}{{"sql/rows=1M", 1_000_000, viaSQL}, {"sql/rows=10M", 10_000_000, viaSQL}, {"driver/rows=10M", 10_000_000, viaDriver}} {
		n := tc.n
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			runtime.GC()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			stopPeak := heapPeak()
			r0, w0 := selfSyscalls()
			c0, s0 := selfCPU(), p.cpu(b)
			for b.Loop() {
				if got := tc.scan(b, fmt.Sprintf(e2eQuery, n)); got != n {
					b.Fatalf("%d rows, want %d", got, n)
				}
			}
			client, server := selfCPU()-c0, p.cpu(b)-s0
			r1, w1 := selfSyscalls()
			peak := stopPeak()
			runtime.ReadMemStats(&m1)
			total := float64(n) * float64(b.N)
			b.ReportMetric(client.Seconds()/float64(b.N), "client_cpu_s/op")
			b.ReportMetric(server.Seconds()/float64(b.N), "server_cpu_s/op")
			b.ReportMetric(100*client.Seconds()/server.Seconds(), "client_%_of_server")
			b.ReportMetric(total/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak_heap_MB")
			b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/total, "allocs/row")
			b.ReportMetric(float64(r1-r0)/float64(b.N), "read_syscalls/op")
			b.ReportMetric(float64(w1-w0)/float64(b.N), "write_syscalls/op")
		})
	}
}

// BenchmarkPrefetch reads 40 batches of 5,000 rows through a link that
// adds 5 ms to every getNextResultBatch, with 1 µs-ish of application work
// per row, at prefetch depths 0 (off), 1 (the default) and 2.
func BenchmarkPrefetch(b *testing.B) {
	p := startSimProc(b, "-chunk-rows", "5000")
	p.setFaults(b, `[{"method":"getNextResultBatch","kind":"latency","latency":"5ms"}]`)
	const n = 200_000
	ctx := context.Background()
	for _, depth := range []int{0, 1, 2} {
		b.Run(fmt.Sprintf("depth=%d", depth), func(b *testing.B) {
			db := p.db(b, e6data.WithSetting("PrefetchDepth", strconv.Itoa(depth)))
			if err := db.PingContext(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var sink uint64
			for b.Loop() {
				rows, err := db.QueryContext(ctx, fmt.Sprintf(e2eQuery, n))
				if err != nil {
					b.Fatal(err)
				}
				var l int64
				var d float64
				var s string
				got := 0
				for rows.Next() {
					if err := rows.Scan(&l, &d, &s); err != nil {
						b.Fatal(err)
					}
					sink += work(uint64(l), s)
					got++
				}
				if err := rows.Close(); err != nil || got != n {
					b.Fatalf("%d rows, %v", got, err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/query")
			if sink == 42 {
				b.Log(sink)
			}
		})
	}
}

// work is the application's per-row processing: a few hundred
// nanoseconds of hashing.
func work(x uint64, s string) uint64 {
	h := x
	for range 40 {
		for i := 0; i < len(s); i++ {
			h = h*1099511628211 ^ uint64(s[i])
		}
	}
	return h
}

// BenchmarkConcurrency runs small queries from 1, 10, 100 and 1000
// goroutines through one Connector (one sql.DB with as many connections)
// over 1 and 4 gRPC connections (GRPCConnections) and reports queries/s
// and the simulator's CPU use. At 1000 goroutines it records mutex and
// block profiles (see -e6bench.profiles) for each number N of gRPC
// connections: mutex-grpcN.pprof and block-grpcN.pprof, cumulative for the
// process, and the same with -start written before the run; the run alone
// is go tool pprof -diff_base DIR/mutex-grpcN-start.pprof DIR/mutex-grpcN.pprof.
func BenchmarkConcurrency(b *testing.B) {
	p := startSimProc(b)
	for _, g := range []int{1, 10, 100, 1000} {
		for _, nc := range []int{1, 4} {
			b.Run(fmt.Sprintf("goroutines=%d/grpc-conns=%d", g, nc), func(b *testing.B) {
				concurrency(b, p, g, nc)
			})
		}
	}
}

// concurrency is one BenchmarkConcurrency run: g goroutines, nc gRPC connections.
func concurrency(b *testing.B, p *simProc, g, nc int) {
	ctx := context.Background()
	db := p.db(b, e6data.WithSetting("GRPCConnections", strconv.Itoa(nc)), e6data.WithSetting("max-connections", strconv.Itoa(g)))
	db.SetMaxOpenConns(g)
	db.SetMaxIdleConns(g)
	// Every goroutine's connection and session first.
	var warm sync.WaitGroup
	conns := make([]*sql.Conn, g)
	for i := range g {
		warm.Go(func() {
			c, err := db.Conn(ctx)
			if err == nil {
				err = c.PingContext(ctx)
			}
			if err != nil {
				b.Error(err)
			}
			conns[i] = c
		})
	}
	warm.Wait()
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	if b.Failed() {
		return
	}
	profile := g == 1000
	dir := *benchProfiles
	if profile && dir == "" {
		dir = b.TempDir()
	}
	if profile {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	// The profiles are the process's since profiling began: the -start
	// ones, written before this run, are the base to subtract
	// (go tool pprof -diff_base).
	writeProfiles := func(suffix string) {
		for _, name := range []string{"mutex", "block"} {
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-grpc%d%s.pprof", name, nc, suffix)))
			if err != nil {
				b.Fatal(err)
			}
			pprof.Lookup(name).WriteTo(f, 0)
			f.Close()
		}
	}
	if profile {
		runtime.SetMutexProfileFraction(1)
		runtime.SetBlockProfileRate(int(10 * time.Microsecond))
		defer runtime.SetMutexProfileFraction(0)
		defer runtime.SetBlockProfileRate(0)
		writeProfiles("-start")
	}
	b.ReportAllocs()
	s0, c0 := p.cpu(b), selfCPU()
	b.ResetTimer()
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	for range g {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				var v int64
				if err := db.QueryRowContext(ctx, "SELECT 42 AS v").Scan(&v); err != nil || v != 42 {
					failed.Store(fmt.Errorf("got %d, %v", v, err))
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(err)
	}
	server, client := p.cpu(b)-s0, selfCPU()-c0
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
	b.ReportMetric(server.Seconds()/b.Elapsed().Seconds(), "server_cores")
	b.ReportMetric(client.Seconds()/b.Elapsed().Seconds(), "client_cores")
	b.ReportMetric(float64(client.Microseconds())/float64(b.N), "client_cpu_µs/query")
	if profile {
		writeProfiles("")
	}
}
