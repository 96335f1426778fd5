package chaos

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

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
