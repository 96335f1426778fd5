package e2e

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
	"github.com/e6go/e6data/internal/chaos"
	"github.com/e6go/e6data/internal/chaos/e6chaos"
)

// The soak run (issue 7): not part of CI. Run it with
//
//	go test -run TestSoak -soak 10m -v .
//
// It is skipped unless -soak is set.
var soakFor = flag.Duration("soak", 0, "run TestSoak for this long (0 = skip)")

// TestSoak runs mixed load against one simulator for -soak: the chaos
// workload (aggregates, scans, joins, long streams, each checked row by row)
// under random graceful, abrupt and announced switches, suspensions and
// session expiry, plus side workers that cancel queries at random points
// (mid-scan cancels, early Close, timeouts) and call the metadata API. It
// prints a report and fails on any wrong row, any untyped error, any error
// a workload does not allow, a query left open on the server, or
// goroutines that do not return to their starting count.
func TestSoak(t *testing.T) {
	if *soakFor <= 0 {
		t.Skip("soak run: set -soak (e.g. -soak 10m)")
	}
	const (
		chaosWorkers = 32
		sideWorkers  = 8
		metaWorkers  = 2
	)
	startG := runtime.NumGoroutine()
	startHeap := heapInUse()
	// Small batches: the cancelling workers' results (up to 400 rows) span
	// several, so their cancels land between batches too.
	srv := startSim(t, e6sim.Config{ChunkRows: 128})
	db, ctr := chaosDB(t, srv, chaosWorkers+sideWorkers+metaWorkers, e6data.WithSetting("ResumePollInterval", "0.1"))
	t.Logf("start: goroutines %d, heap in use %s", startG, mib(startHeap))

	ctx, stop := context.WithTimeout(context.Background(), *soakFor)
	defer stop()
	var (
		wg        sync.WaitGroup
		side      = newTally()
		meta      = newTally()
		unexpectd atomic.Int64
	)
	bad := func(what string, err error) {
		if unexpectd.Add(1) <= 10 {
			t.Errorf("%s: unexpected error: %v", what, err)
		}
	}
	// Errors any query may meet under chaos, all typed: an abrupt switch
	// interrupts a query that had delivered rows; a deployment that keeps
	// happening may use up the retries.
	chaosTyped := func(err error) bool {
		return errors.Is(err, e6data.ErrQueryInterrupted) || errors.Is(err, e6data.ErrRetriesExhausted)
	}
	for w := range sideWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for ctx.Err() == nil {
				kind, err, ok := leakOne(db, rng)
				switch {
				case ok && err == nil:
					side.add(kind + "/ok")
				case ok:
					side.add(kind + "/stopped")
				case chaosTyped(err):
					side.add(kind + "/" + sentinelNames(err))
				default:
					side.add(kind + "/unexpected")
					bad(kind, err)
				}
			}
		}()
	}
	for w := range metaWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 11))
			for ctx.Err() == nil {
				kind, err := metadataCall(db, rng)
				switch {
				case err == nil:
					meta.add(kind + "/ok")
				case chaosTyped(err):
					meta.add(kind + "/" + sentinelNames(err))
				default:
					meta.add(kind + "/unexpected")
					bad(kind, err)
				}
			}
		}()
	}
	var lastProgress atomic.Int64
	res, err := chaos.Run(context.Background(), db, chaos.Config{
		Workers: chaosWorkers, Duration: *soakFor, Grace: time.Minute, QueryTimeout: time.Minute,
		Mix: chaos.Mix{Agg: 4, Scan: 3, Join: 2, Stream: 1}, StreamRows: 20000,
		Target: chaos.Sim(srv), Driver: e6chaos.Driver(ctr),
		Mode: chaos.ModeMixed, FlipEvery: 3 * time.Second, Drain: 2 * time.Second, Announce: 300 * time.Millisecond,
		ProgressEvery: 30 * time.Second,
		Progress: func(p chaos.Progress) {
			if int64(p.Elapsed/(30*time.Second)) > lastProgress.Load() {
				lastProgress.Store(int64(p.Elapsed / (30 * time.Second)))
				t.Logf("%v: chaos queries %d failed %d interrupted %d, side %d, metadata %d, events %d, live %s, goroutines %d, heap %s",
					p.Elapsed.Round(time.Second), p.Queries, p.Failed, p.Interrupted, side.total(), meta.total(), p.Events, p.Live,
					runtime.NumGoroutine(), mib(heapInUse()))
			}
		},
	})
	stop()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}

	// Every query freed on the server, then the client back to where it
	// started once the pool and the simulator are closed.
	waitQueriesFreed(t, srv)
	st := srv.Stats()
	endHeapOpen, endGOpen := heapInUse(), runtime.NumGoroutine()
	db.Close()
	srv.Close()
	waitGoroutines(t, startG, "where they were at the start, after Close")
	endHeap := heapInUse()

	var b strings.Builder
	fmt.Fprintf(&b, "soak %v: %d queries in all\n", *soakFor, res.Queries+side.total()+meta.total())
	fmt.Fprintf(&b, "  chaos workload: %d queries, ok %v, failed %d, wrong %d, interrupted %d; errors by kind %v\n",
		res.Queries, res.OK, res.Failed, res.Wrong, res.Interrupted, res.Errors)
	fmt.Fprintf(&b, "  chaos events %v (forced resumes %d), deployments %d, connector transitions %d, resumes %d, re-auths %d\n",
		res.Events, res.ForcedResumes, len(res.Deployments), res.Transitions, res.Resumes, res.Reauths)
	fmt.Fprintf(&b, "  cancelling workers: %d queries %s\n", side.total(), side)
	fmt.Fprintf(&b, "  metadata workers: %d calls %s\n", meta.total(), meta)
	fmt.Fprintf(&b, "  e6sim at the end: open queries %d, sessions %d, queries started %d, cancels %d, switches %d, suspends %d, resumes %d\n",
		openQueriesOf(st), sessionsOf(st), startedOf(st), st.Cancels, st.Switches, st.Suspends, st.Resumes)
	fmt.Fprintf(&b, "  goroutines: start %d, end with the pool open %d, after Close %d\n", startG, endGOpen, runtime.NumGoroutine())
	fmt.Fprintf(&b, "  heap in use: start %s, end with the pool open %s, after Close %s\n", mib(startHeap), mib(endHeapOpen), mib(endHeap))
	t.Log(b.String())

	if res.Wrong != 0 {
		t.Errorf("%d queries returned wrong rows (samples %v)", res.Wrong, res.Samples)
	}
	if res.Unexplained != 0 {
		t.Errorf("%d interruptions not caused by a teardown the simulator recorded: %v", res.Unexplained, res.UnexplainedSamples)
	}
	if n := res.Errors["untyped"]; n != 0 {
		t.Errorf("%d untyped errors (samples %v)", n, res.Samples)
	}
	for _, q := range res.Log {
		if q.Err != nil && !chaosTyped(q.Err) {
			bad(q.Kind, q.Err)
		}
	}
	if n := unexpectd.Load(); n != 0 {
		t.Errorf("%d unexpected errors in all", n)
	}
}

// metadataCall makes one metadata call of a random kind.
func metadataCall(db *sql.DB, rng *rand.Rand) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	kind := [...]string{"catalogs", "schemas", "tables", "columns"}[rng.IntN(4)]
	err := e6data.Raw(ctx, db, func(c e6data.Conn) error {
		var err error
		switch kind {
		case "catalogs":
			var cs []e6data.Catalog
			if cs, err = c.Catalogs(ctx); err == nil && len(cs) == 0 {
				err = errors.New("no catalogs")
			}
		case "schemas":
			var ss []string
			if ss, err = c.Schemas(ctx, ""); err == nil && len(ss) == 0 {
				err = errors.New("no schemas")
			}
		case "tables":
			var ts []string
			if ts, err = c.Tables(ctx, "", "main"); err == nil && len(ts) == 0 {
				err = errors.New("no tables")
			}
		case "columns":
			var cols []e6data.ColumnInfo
			if cols, err = c.Columns(ctx, "", "main", "all_types"); err == nil && len(cols) == 0 {
				err = errors.New("no columns")
			}
		}
		return err
	})
	return kind, err
}

// tally counts outcomes by name.
type tally struct {
	mu sync.Mutex
	n  map[string]int64
}

func newTally() *tally { return &tally{n: map[string]int64{}} }

func (t *tally) add(k string) {
	t.mu.Lock()
	t.n[k]++
	t.mu.Unlock()
}

func (t *tally) total() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var n int64
	for _, v := range t.n {
		n += v
	}
	return n
}

func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]string, 0, len(t.n))
	for k := range t.n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, t.n[k])
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// sentinelNames names the sentinels err matches ("untyped" for none).
func sentinelNames(err error) string {
	return strings.Join(e6chaos.Driver(nil).Sentinels(err), "+")
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
