package chaos

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/e6go/e6data/e6sim"
)

// Mode selects what the flipper does every FlipEvery.
type Mode string

const (
	ModeNone     Mode = "none"     // no flips: steady load
	ModeGraceful Mode = "graceful" // Switch with a drain period
	ModeAbrupt   Mode = "abrupt"   // Switch with no drain: in-flight queries are lost
	ModeMixed    Mode = "mixed"    // a random event of Config.Events each time
)

// ParseMode parses a Mode name.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case ModeNone, ModeGraceful, ModeAbrupt, ModeMixed:
		return m, nil
	}
	return "", fmt.Errorf("chaos: unknown mode %q (want graceful, abrupt, mixed or none)", s)
}

// Events the flipper triggers.
const (
	EventGraceful = "graceful" // Switch(drain, 0)
	EventAbrupt   = "abrupt"   // Switch(0, 0)
	EventAnnounce = "announce" // Switch(drain, announce): announce first, then switch
	EventSuspend  = "suspend"  // Suspend; the connector's auto-resume brings the cluster back
	EventExpire   = "expire"   // ExpireSessions
)

// AllEvents is what ModeMixed chooses among by default.
var AllEvents = []string{EventGraceful, EventAbrupt, EventAnnounce, EventSuspend, EventExpire}

// Mix weighs the query kinds a worker picks from.
type Mix struct{ Agg, Scan, Join, Stream int }

func (m Mix) total() int { return m.Agg + m.Scan + m.Join + m.Stream }

func (m Mix) pick(r *rand.Rand) string {
	n := r.IntN(m.total())
	switch {
	case n < m.Agg:
		return KindAgg
	case n < m.Agg+m.Scan:
		return KindScan
	case n < m.Agg+m.Scan+m.Join:
		return KindJoin
	}
	return KindStream
}

// Config configures Run. Zero values take the defaults noted.
type Config struct {
	Workers   int           // worker goroutines (default 64)
	Streamers int           // of those, workers that only run streaming queries (default 0)
	Duration  time.Duration // how long workers start new queries (default 30 s)
	// Grace bounds how long the queries in flight at the end of Duration
	// may take to finish (default 60 s).
	Grace time.Duration
	// QueryTimeout bounds one query (default 60 s).
	QueryTimeout time.Duration
	Mix          Mix // default Agg 4, Scan 3, Join 2, Stream 0

	AggRows        int           // widest id range of an aggregate (default 200000)
	ScanRows       int           // most rows of a small scan (default 2000)
	StreamRows     int           // rows of a streaming query (default 20000)
	StreamPaceRows int           // a streaming reader pauses after this many rows...
	StreamPace     time.Duration // ...for this long (default: no pause)

	// Target is the cluster the flipper drives; nil means no flipper (and
	// no simulator-side measurements).
	Target    Target
	Mode      Mode          // default ModeNone
	FlipEvery time.Duration // default 2 s
	FirstFlip time.Duration // delay before the first event (default FlipEvery)
	Flips     int           // at most this many events; 0 = until Duration ends
	// WaitForWorkers makes every event after the first wait, beyond
	// FlipEvery, until every worker still working has finished a query
	// since the previous event and, after a deployment, a query has
	// started on its new stack. Events then follow the work, however slow
	// the machine: no query meets two events, and every deployment is
	// reached before the next one.
	WaitForWorkers bool
	Drain          time.Duration // drain of graceful and announced switches (default 5 s)
	Announce       time.Duration // announce phase of EventAnnounce (default 500 ms)
	Events         []string      // what ModeMixed chooses among (default AllEvents)
	// ResumeFallback: after a suspension nobody resumed for this long (no
	// load, auto-resume off), the flipper resumes the cluster itself so the
	// run can go on (default 10 s).
	ResumeFallback time.Duration
	// ConvergePoll is how often the simulator's stats are read after a
	// deployment to see the first query on the new stack (default 1 ms).
	ConvergePoll time.Duration

	// Driver is the connector behind the *sql.DB (see e6chaos.Driver):
	// required, to tell interruptions from failures, find the stack of
	// each query and read the connector's Stats.
	Driver Driver

	Seed uint64 // for the workers' random choices

	// Progress, when set, is called every ProgressEvery (default 1 s) from
	// one goroutine.
	Progress      func(Progress)
	ProgressEvery time.Duration
	// MaxSamples is how many failure texts Result.Samples keeps (default 20).
	MaxSamples int
}

func (c *Config) defaults() error {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.Workers <= 0 {
		c.Workers = 64
	}
	if c.Streamers < 0 || c.Streamers > c.Workers {
		return fmt.Errorf("chaos: %d streamers of %d workers", c.Streamers, c.Workers)
	}
	def(&c.Duration, 30*time.Second)
	def(&c.Grace, 60*time.Second)
	def(&c.QueryTimeout, 60*time.Second)
	if c.Mix.total() <= 0 {
		c.Mix = Mix{Agg: 4, Scan: 3, Join: 2}
	}
	if c.Mix.Agg < 0 || c.Mix.Scan < 0 || c.Mix.Join < 0 || c.Mix.Stream < 0 {
		return errors.New("chaos: negative weight in Mix")
	}
	if c.AggRows <= 0 {
		c.AggRows = 200_000
	}
	if c.ScanRows <= 0 {
		c.ScanRows = 2000
	}
	if c.StreamRows <= 0 {
		c.StreamRows = 20_000
	}
	c.AggRows, c.ScanRows, c.StreamRows = min(c.AggRows, numbersRows), min(c.ScanRows, numbersRows), min(c.StreamRows, numbersRows)
	if c.Mode == "" {
		c.Mode = ModeNone
	}
	if _, err := ParseMode(string(c.Mode)); err != nil {
		return err
	}
	if c.Mode != ModeNone && c.Target == nil {
		return fmt.Errorf("chaos: mode %s needs a Target", c.Mode)
	}
	def(&c.FlipEvery, 2*time.Second)
	def(&c.FirstFlip, c.FlipEvery)
	def(&c.Drain, 5*time.Second)
	def(&c.Announce, 500*time.Millisecond)
	def(&c.ResumeFallback, 10*time.Second)
	def(&c.ConvergePoll, time.Millisecond)
	def(&c.ProgressEvery, time.Second)
	if len(c.Events) == 0 {
		c.Events = AllEvents
	}
	for _, e := range c.Events {
		if !slices.Contains(AllEvents, e) {
			return fmt.Errorf("chaos: unknown event %q (want one of %s)", e, strings.Join(AllEvents, ", "))
		}
	}
	if c.Driver == nil {
		return errors.New("chaos: Config.Driver is required")
	}
	if c.MaxSamples <= 0 {
		c.MaxSamples = 20
	}
	return nil
}

// Progress is a live view of a run.
type Progress struct {
	Elapsed                             time.Duration
	Queries, Failed, Wrong, Interrupted int64
	Transitions                         int64  // connector switches so far
	Live                                string // the simulator's live stack ("" when unknown)
	Events                              int    // flipper events so far
}

// Deployment is one switch the flipper triggered, as measured.
type Deployment struct {
	Event   string    // EventGraceful, EventAbrupt or EventAnnounce
	From    string    // the stack live before
	To      string    // the stack deployed
	Trigger time.Time // when the flipper started the announcement or the switch
	// FirstQuery is when the simulator was first seen running a query on
	// To (its QueriesStarted grew); zero if it never was.
	FirstQuery time.Time
	// Learned is when the connector first knew of it (its timeline: To
	// announced, switched to or detected, or From invalidated); zero if
	// the connector's Stats were not available or it never learned.
	Learned time.Time
}

// Converge is the time from the trigger to the first query on the new stack.
func (d Deployment) Converge() (time.Duration, bool) {
	if d.FirstQuery.IsZero() {
		return 0, false
	}
	return d.FirstQuery.Sub(d.Trigger), true
}

// Result is what a run saw.
type Result struct {
	Elapsed time.Duration
	// Queries counts every query a worker finished (any outcome).
	Queries int64
	// Failed: queries that ended in an error other than ErrQueryInterrupted.
	Failed int64
	// Wrong: queries whose rows did not match the known answer (including
	// an interrupted query whose rows so far were not a correct prefix).
	Wrong int64
	// Interrupted: queries that ended in ErrQueryInterrupted after
	// delivering a correct prefix of their rows.
	Interrupted int64
	// InterruptedComplete counts the interrupted queries that had already
	// delivered every row of their result: only the call that would have
	// reported the end of the result failed.
	InterruptedComplete int64
	// OK counts verified queries per kind.
	OK map[string]int64
	// Errors counts failed and interrupted queries per sentinel they match
	// ("strategy_mismatch", "retries_exhausted", "query_interrupted", ...;
	// "untyped" for an error matching none). One error may count under
	// several sentinels.
	Errors map[string]int64
	// Samples are the first failure and wrong-result texts.
	Samples []string
	// Interruptions describe the first few interrupted queries.
	Interruptions []string

	// From the connector's Stats (deltas over the run).
	Transitions int64 // moves of new work to another stack
	Resumes     int64 // cluster resumes the connector performed
	Seen456     int64 // 456 answers the connector met (and recovered from or reported)
	Recoveries  int64 // operations that succeeded after a recovered failure
	Reauths     int64

	// From the simulator's Stats (deltas over the run; 0 without Target).
	SimResumes  int64 // resume calls the cluster received
	SimSwitches int64
	Sent456     int64
	Sent503     int64
	// Stacks counts queries per stack they finally ran on (from the query ID).
	Stacks map[string]int64
	// Log has every query of the run.
	Log []Query

	// Flipper.
	Events        map[string]int // events triggered per kind
	ForcedResumes int            // suspensions the flipper had to resume itself
	FlipperErrors []string       // admin calls that failed
	Deployments   []Deployment

	// Latency of successful queries of the short kinds (agg, scan, join):
	// from the call to the last row. Streams, which the workload may pace,
	// are measured apart.
	P50, P99     time.Duration
	StreamP50    time.Duration
	ConvergeP50  time.Duration
	ConvergeP99  time.Duration
	NotConverged int           // deployments after which no query ran on the new stack before the next event
	LearnP99     time.Duration // trigger -> the connector knew (timeline)
	Late         int64         // queries begun after the connector knew of a deployment that still ran on the old stack
	LateSamples  []string
	// Unexplained counts the interrupted queries that the simulator's
	// record does not explain: no record of the query, or its stack was
	// not torn down while it was open. Only a teardown may interrupt a
	// query, so any other interruption breaks the contract. It is -1 when
	// the Target keeps no record (see Recorder).
	Unexplained        int64
	UnexplainedSamples []string
	InterruptEvents    int // abrupt switches and suspensions: the only events that may interrupt a query
}

// Line is the one-line summary:
// RESULT queries=N failed=N wrong=N interrupted=N transitions=N resumes=N p50=… p99=… converge_p99=…
func (r Result) Line() string {
	return fmt.Sprintf("RESULT queries=%d failed=%d wrong=%d interrupted=%d transitions=%d resumes=%d p50=%s p99=%s converge_p99=%s",
		r.Queries, r.Failed, r.Wrong, r.Interrupted, r.Transitions, r.Resumes, round(r.P50), round(r.P99), round(r.ConvergeP99))
}

// Details is a multi-line account of the run for logs.
func (r Result) Details() string {
	var b strings.Builder
	fmt.Fprintf(&b, "elapsed %s; queries %d (ok %v), failed %d, wrong %d, interrupted %d (%d of them after their last row)\n",
		round(r.Elapsed), r.Queries, r.OK, r.Failed, r.Wrong, r.Interrupted, r.InterruptedComplete)
	fmt.Fprintf(&b, "connector: transitions %d, resumes %d, 456 met %d, recoveries %d, re-auths %d\n",
		r.Transitions, r.Resumes, r.Seen456, r.Recoveries, r.Reauths)
	fmt.Fprintf(&b, "simulator: switches %d, resumes %d, 456 sent %d, 503 sent %d, queries per stack %v\n",
		r.SimSwitches, r.SimResumes, r.Sent456, r.Sent503, r.Stacks)
	fmt.Fprintf(&b, "events %v (forced resumes %d); deployments %d, converge p50 %s p99 %s, not converged %d, learn p99 %s, late %d\n",
		r.Events, r.ForcedResumes, len(r.Deployments), round(r.ConvergeP50), round(r.ConvergeP99), r.NotConverged, round(r.LearnP99), r.Late)
	fmt.Fprintf(&b, "latency p50 %s p99 %s (streams p50 %s)", round(r.P50), round(r.P99), round(r.StreamP50))
	if r.Unexplained > 0 {
		fmt.Fprintf(&b, "\ninterruptions the simulator's record does not explain: %d", r.Unexplained)
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, "\nerrors by sentinel %v", r.Errors)
	}
	for _, s := range r.Samples {
		fmt.Fprintf(&b, "\n  failure: %s", s)
	}
	for _, s := range r.Interruptions {
		fmt.Fprintf(&b, "\n  interrupted: %s", s)
	}
	for _, s := range r.LateSamples {
		fmt.Fprintf(&b, "\n  late: %s", s)
	}
	for _, s := range r.UnexplainedSamples {
		fmt.Fprintf(&b, "\n  unexplained interruption: %s", s)
	}
	return b.String()
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// Query is one query of a run.
type Query struct {
	Worker int
	Begin  time.Time
	Took   time.Duration // from the call to the last row (or the error)
	Kind   string        // KindAgg, KindScan, KindJoin, KindStream
	Stack  string        // the stack it finally ran on ("" when unknown: no prepare succeeded)
	ID     string        // the query ID it finally had ("" when unknown)
	// TornDown: the simulator recorded that the stack of query ID was torn
	// down while the query was open (set for interrupted queries only,
	// when the Target is a Recorder).
	TornDown bool
	Outcome  string // "ok", "failed", "wrong" or "interrupted"
	Rows     int64  // rows the application received
	Err      error  // the error of a query that did not succeed
}

// runState is shared by the workers, the flipper and the progress reporter.
type runState struct {
	cfg   Config
	db    *sql.DB
	start time.Time

	queries, failed, wrong, interrupted atomic.Int64
	interruptedComplete                 atomic.Int64
	events                              atomic.Int64

	// finished counts each worker's finished queries; stopped marks the
	// workers that start no more (for Config.WaitForWorkers).
	finished []atomic.Int64
	stopped  []atomic.Bool

	mu            sync.Mutex
	errs          map[string]int64
	samples       []string
	interruptions []string
}

// maxInterruptionSamples is how many interrupted queries Result describes.
const maxInterruptionSamples = 5

func (s *runState) sample(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) < s.cfg.MaxSamples {
		s.samples = append(s.samples, msg)
	}
}

func (s *runState) countErr(err error) {
	names := s.cfg.Driver.Sentinels(err)
	s.mu.Lock()
	for _, n := range names {
		s.errs[n]++
	}
	s.mu.Unlock()
}

// Run runs the workload on db until cfg.Duration has passed (then lets the
// queries in flight finish, within cfg.Grace) while the flipper acts on
// cfg.Target, and returns what happened. It fails only for a bad Config or
// when ctx ends first.
func Run(ctx context.Context, db *sql.DB, cfg Config) (Result, error) {
	if err := cfg.defaults(); err != nil {
		return Result{}, err
	}
	s := &runState{cfg: cfg, db: db, start: time.Now(), errs: map[string]int64{},
		finished: make([]atomic.Int64, cfg.Workers), stopped: make([]atomic.Bool, cfg.Workers)}
	runCtx, cancel := context.WithDeadline(ctx, s.start.Add(cfg.Duration+cfg.Grace))
	defer cancel()
	// Work starts until stopAt; the flipper acts until then too.
	stopAt := s.start.Add(cfg.Duration)
	workCtx, stopWork := context.WithDeadline(runCtx, stopAt)
	defer stopWork()

	ctr0 := cfg.Driver.Stats()
	sim0, simOK := targetStats(runCtx, cfg.Target)

	var wg sync.WaitGroup
	records := make([][]Query, cfg.Workers)
	for i := range cfg.Workers {
		wg.Go(func() {
			records[i] = s.worker(workCtx, runCtx, i)
		})
	}
	watchCtx, workersDone := context.WithCancel(runCtx)
	defer workersDone()
	fl := &flipper{s: s, watchCtx: watchCtx}
	flipDone := make(chan struct{})
	if cfg.Mode != ModeNone {
		go func() {
			defer close(flipDone)
			fl.run(workCtx, runCtx)
		}()
	} else {
		close(flipDone)
	}
	progressDone := make(chan struct{})
	stopProgress := make(chan struct{})
	go func() {
		defer close(progressDone)
		s.progress(runCtx, stopProgress)
	}()

	wg.Wait()
	workersDone()
	<-flipDone
	close(stopProgress)
	<-progressDone
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}

	res := Result{
		Elapsed:             time.Since(s.start),
		Queries:             s.queries.Load(),
		Failed:              s.failed.Load(),
		Wrong:               s.wrong.Load(),
		Interrupted:         s.interrupted.Load(),
		InterruptedComplete: s.interruptedComplete.Load(),
		OK:                  map[string]int64{},
		Errors:              s.errs,
		Samples:             s.samples,
		Interruptions:       s.interruptions,
		Stacks:              map[string]int64{},
		Events:              fl.events,
		ForcedResumes:       fl.forced,
		FlipperErrors:       fl.errs,
	}
	if res.Events == nil {
		res.Events = map[string]int{}
	}
	res.InterruptEvents = res.Events[EventAbrupt] + res.Events[EventSuspend]
	c := cfg.Driver.Stats()
	res.Transitions = c.Transitions - ctr0.Transitions
	res.Resumes = c.Resumes - ctr0.Resumes
	res.Seen456 = c.WrongStrategy - ctr0.WrongStrategy
	res.Recoveries = c.Recoveries - ctr0.Recoveries
	res.Reauths = c.Reauths - ctr0.Reauths
	fl.collect(c.Timeline)
	fl.learn()
	if sim1, ok := targetStats(runCtx, cfg.Target); ok && simOK {
		res.SimResumes = sim1.Resumes - sim0.Resumes
		res.SimSwitches = sim1.Switches - sim0.Switches
		res.Sent456 = sim1.Sent456 - sim0.Sent456
		res.Sent503 = sim1.Sent503 - sim0.Sent503
	}
	res.Deployments = fl.deployments

	var all []Query
	for _, rs := range records {
		all = append(all, rs...)
	}
	var short, streams []time.Duration
	res.Log = all
	for _, r := range all {
		if r.Stack != "" {
			res.Stacks[r.Stack]++
		}
		if r.Outcome != "ok" {
			continue
		}
		res.OK[r.Kind]++
		if r.Kind == KindStream {
			streams = append(streams, r.Took)
		} else {
			short = append(short, r.Took)
		}
	}
	res.P50, res.P99 = percentile(short, 0.50), percentile(short, 0.99)
	res.StreamP50 = percentile(streams, 0.50)

	var conv, learn []time.Duration
	for _, d := range res.Deployments {
		if c, ok := d.Converge(); ok {
			conv = append(conv, c)
		} else {
			res.NotConverged++
		}
		if !d.Learned.IsZero() {
			learn = append(learn, d.Learned.Sub(d.Trigger))
		}
	}
	res.ConvergeP50, res.ConvergeP99 = percentile(conv, 0.50), percentile(conv, 0.99)
	res.LearnP99 = percentile(learn, 0.99)
	res.Late, res.LateSamples = late(res.Deployments, all, cfg.MaxSamples)
	res.Unexplained, res.UnexplainedSamples = explain(ctx, cfg.Target, all, cfg.MaxSamples)
	return res, nil
}

// explain looks every interrupted query up in the simulator's record (and
// sets its TornDown) and counts those the record does not explain.
func explain(ctx context.Context, t Target, all []Query, maxSamples int) (int64, []string) {
	rec, ok := t.(Recorder)
	if !ok {
		return -1, nil
	}
	var n int64
	var samples []string
	for i := range all {
		q := &all[i]
		if q.Outcome != "interrupted" {
			continue
		}
		why := ""
		if q.ID == "" {
			why = "no query ID"
		} else {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			r, found, err := rec.QueryRecord(ctx, q.ID)
			cancel()
			switch {
			case err != nil:
				why = "record unavailable: " + err.Error()
			case !found:
				why = "the simulator has no record of it"
			case !r.TornDown:
				why = fmt.Sprintf("its stack %s was not torn down while it was open (ended %s after it was prepared)",
					r.Stack, round(r.Ended.Sub(r.Prepared)))
			}
			q.TornDown = found && r.TornDown
		}
		if why == "" {
			continue
		}
		n++
		if len(samples) < maxSamples {
			samples = append(samples, fmt.Sprintf("%s query %s after %d rows: %s: %v", q.Kind, q.ID, q.Rows, why, q.Err))
		}
	}
	return n, samples
}

// late counts the queries that began after the connector knew of a
// deployment and ended before the next one was triggered, yet ran on the
// old stack: new work must move at once. (A query that outlived the next
// trigger may legitimately have been re-run on the stack that deployment
// made live, which is the first one's old stack: it is not judged.)
func late(deps []Deployment, all []Query, maxSamples int) (int64, []string) {
	var n int64
	var samples []string
	for i, d := range deps {
		if d.Learned.IsZero() {
			continue
		}
		var until time.Time
		if i+1 < len(deps) {
			until = deps[i+1].Trigger
		}
		for _, r := range all {
			if r.Stack != d.From || r.Begin.Before(d.Learned) || (!until.IsZero() && r.Begin.Add(r.Took).After(until)) {
				continue
			}
			n++
			if len(samples) < maxSamples {
				samples = append(samples, fmt.Sprintf("%s query begun %s after the connector knew of the %s switch %s -> %s ran on %s",
					r.Kind, round(r.Begin.Sub(d.Learned)), d.Event, d.From, d.To, r.Stack))
			}
		}
	}
	return n, samples
}

func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds))*q+0.999999) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

func targetStats(ctx context.Context, t Target) (e6sim.Stats, bool) {
	if t == nil {
		return e6sim.Stats{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := t.Stats(ctx)
	return st, err == nil
}

func (s *runState) progress(ctx context.Context, stop <-chan struct{}) {
	if s.cfg.Progress == nil {
		return
	}
	t := time.NewTicker(s.cfg.ProgressEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-t.C:
		}
		p := Progress{
			Elapsed:     time.Since(s.start),
			Queries:     s.queries.Load(),
			Failed:      s.failed.Load(),
			Wrong:       s.wrong.Load(),
			Interrupted: s.interrupted.Load(),
			Events:      int(s.events.Load()),
		}
		p.Transitions = s.cfg.Driver.Stats().Transitions
		if st, ok := targetStats(ctx, s.cfg.Target); ok {
			p.Live = st.Live
		}
		s.cfg.Progress(p)
	}
}

// worker runs queries until workCtx ends; each query is bounded by
// QueryTimeout and by runCtx (the run's hard deadline).
func (s *runState) worker(workCtx, runCtx context.Context, i int) []Query {
	r := rand.New(rand.NewPCG(s.cfg.Seed, uint64(i)+1))
	streamer := i < s.cfg.Streamers
	defer s.stopped[i].Store(true)
	var out []Query
	for workCtx.Err() == nil {
		kind := KindStream
		if !streamer {
			kind = s.cfg.Mix.pick(r)
		}
		j := newJob(kind, r, &s.cfg)
		rec := s.one(runCtx, i, j)
		if rec.Outcome == "aborted" {
			break
		}
		out = append(out, rec)
		s.finished[i].Add(1)
	}
	return out
}

// one runs one query on a connection of its own (so that the query ID, and
// from it the stack, can be read afterwards) and classifies the outcome.
func (s *runState) one(runCtx context.Context, worker int, j job) Query {
	ctx, cancel := context.WithTimeout(runCtx, s.cfg.QueryTimeout)
	defer cancel()
	rec := Query{Worker: worker, Begin: time.Now(), Kind: j.kind}
	var o outcome
	sc, err := s.db.Conn(ctx)
	if err != nil {
		o.err = err
	} else {
		before := s.cfg.Driver.QueryID(sc)
		o = j.run(ctx, sc)
		if after := s.cfg.Driver.QueryID(sc); after != before {
			rec.Stack, rec.ID = stackOf(after), after
		}
		sc.Close()
	}
	rec.Took = time.Since(rec.Begin)
	rec.Rows, rec.Err = o.rows, o.err
	switch {
	case o.err == nil:
		rec.Outcome = "ok"
	case runCtx.Err() != nil:
		// The run's hard deadline (or the caller) ended it: not the
		// connector's doing, not counted.
		rec.Outcome = "aborted"
		return rec
	case isWrong(o.err):
		rec.Outcome = "wrong"
		s.wrong.Add(1)
		s.sample(fmt.Sprintf("%s: %v", j.kind, o.err))
	case s.interruptedErr(o.err):
		rec.Outcome = "interrupted"
		s.countErr(o.err)
		if n, _ := s.cfg.Driver.Interrupted(o.err); n != o.rows {
			rec.Outcome = "wrong"
			s.wrong.Add(1)
			s.sample(fmt.Sprintf("%s: interrupted error says %d rows were delivered, the application received %d: %v", j.kind, n, o.rows, o.err))
			break
		}
		s.interrupted.Add(1)
		if o.rows == j.rows() {
			s.interruptedComplete.Add(1)
		}
		s.mu.Lock()
		if len(s.interruptions) < maxInterruptionSamples {
			s.interruptions = append(s.interruptions, fmt.Sprintf("%s after %d rows: %v", j.kind, o.rows, o.err))
		}
		s.mu.Unlock()
	default:
		rec.Outcome = "failed"
		s.failed.Add(1)
		s.countErr(o.err)
		s.sample(fmt.Sprintf("%s after %d rows: %v", j.kind, o.rows, o.err))
	}
	s.queries.Add(1)
	return rec
}

func (s *runState) interruptedErr(err error) bool {
	_, ok := s.cfg.Driver.Interrupted(err)
	return ok
}

// stackOf reads the stack from an e6sim query ID ("blue-q-...").
func stackOf(queryID string) string {
	st, _, ok := strings.Cut(queryID, "-")
	if ok && (st == "blue" || st == "green") {
		return st
	}
	return ""
}
