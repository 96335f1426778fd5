package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/e6go/e6data/e6sim"
)

// flipper triggers the deployment events of the run's Mode and measures,
// for each switch, when the first query reached the new stack.
type flipper struct {
	s *runState

	events   map[string]int
	forced   int
	errs     []string
	timeline []Event
	seen     map[string]bool

	mu          sync.Mutex // guards deployments (watchers set FirstQuery)
	deployments []Deployment
	watchers    sync.WaitGroup
	watchCtx    context.Context // ends when the workers are done
	watchStop   chan struct{}   // closed when the next deployment starts
}

func (f *flipper) run(workCtx, runCtx context.Context) {
	cfg := f.s.cfg
	f.events = map[string]int{}
	r := rand.New(rand.NewPCG(cfg.Seed, 0))
	defer f.watchers.Wait()
	defer f.settle(runCtx)
	stopAt, _ := workCtx.Deadline()
	next := f.s.start.Add(cfg.FirstFlip)
	var mark []int64 // each worker's finished queries at the last event
	for n := 0; cfg.Flips == 0 || n < cfg.Flips; n++ {
		if !sleepUntil(workCtx, next) {
			return
		}
		if cfg.WaitForWorkers && n > 0 && !f.awaitWork(workCtx, mark) {
			return
		}
		// An event in the last moments would have no work to measure.
		if time.Until(stopAt) < min(cfg.FlipEvery/2, time.Second) {
			return
		}
		ev := string(cfg.Mode)
		if cfg.Mode == ModeMixed {
			ev = cfg.Events[r.IntN(len(cfg.Events))]
		}
		mark = mark[:0]
		for i := range f.s.finished {
			mark = append(mark, f.s.finished[i].Load())
		}
		f.do(runCtx, ev)
		f.s.events.Add(1)
		f.collect(cfg.Driver.Stats().Timeline)
		next = next.Add(cfg.FlipEvery)
		if now := time.Now(); next.Before(now) {
			next = now
		}
	}
}

// awaitWork polls until every worker still working has finished a query
// since mark was taken and the last deployment has reached its new stack
// (Config.WaitForWorkers). It reports false if ctx ended first.
func (f *flipper) awaitWork(ctx context.Context, mark []int64) bool {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		ready := true
		for i := range mark {
			if !f.s.stopped[i].Load() && f.s.finished[i].Load() <= mark[i] {
				ready = false
				break
			}
		}
		if ready {
			f.mu.Lock()
			if n := len(f.deployments); n > 0 && f.deployments[n-1].FirstQuery.IsZero() {
				ready = false
			}
			f.mu.Unlock()
		}
		if ready {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}

func sleepUntil(ctx context.Context, at time.Time) bool {
	t := time.NewTimer(time.Until(at))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (f *flipper) fail(what string, err error) {
	if len(f.errs) < f.s.cfg.MaxSamples {
		f.errs = append(f.errs, fmt.Sprintf("%s: %v", what, err))
	}
}

func other(s string) string {
	if s == e6sim.Blue {
		return e6sim.Green
	}
	return e6sim.Blue
}

// do triggers one event.
func (f *flipper) do(ctx context.Context, ev string) {
	cfg := f.s.cfg
	t := cfg.Target
	f.events[ev]++
	switch ev {
	case EventGraceful, EventAbrupt, EventAnnounce:
		st, err := t.Stats(ctx)
		if err != nil {
			f.fail("stats", err)
			return
		}
		drain, announce := cfg.Drain, time.Duration(0)
		switch ev {
		case EventAbrupt:
			drain = 0
		case EventAnnounce:
			announce = cfg.Announce
		}
		d := Deployment{Event: ev, From: st.Live, To: other(st.Live), Trigger: time.Now()}
		f.mu.Lock()
		f.deployments = append(f.deployments, d)
		i := len(f.deployments) - 1
		f.mu.Unlock()
		if f.watchStop != nil {
			close(f.watchStop)
		}
		f.watchStop = make(chan struct{})
		f.watch(i, d.To, st.Stacks[d.To].QueriesStarted, f.watchStop)
		sctx, cancel := context.WithTimeout(ctx, announce+30*time.Second)
		defer cancel()
		if err := t.Switch(sctx, drain, announce); err != nil {
			f.fail("switch", err)
		}
	case EventSuspend:
		if err := t.Suspend(ctx); err != nil {
			f.fail("suspend", err)
			return
		}
		f.awaitActive(ctx, true)
	case EventExpire:
		if err := t.ExpireSessions(ctx); err != nil {
			f.fail("expire", err)
		}
	}
}

// watch polls the simulator until the stack to has started a query more
// than it had at the trigger, until the next deployment (stop) or until the
// workers are done.
func (f *flipper) watch(i int, to string, base int64, stop <-chan struct{}) {
	f.watchers.Go(func() {
		ctx := f.watchCtx
		t := time.NewTicker(f.s.cfg.ConvergePoll)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			default:
			}
			st, err := f.s.cfg.Target.Stats(ctx)
			if err == nil && st.Stacks[to].QueriesStarted > base {
				now := time.Now()
				f.mu.Lock()
				f.deployments[i].FirstQuery = now
				f.mu.Unlock()
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
}

// awaitActive waits until the cluster is active again. A suspension that
// nobody resumes within ResumeFallback is resumed by the flipper itself
// (when fallback is set).
func (f *flipper) awaitActive(ctx context.Context, fallback bool) {
	t := f.s.cfg.Target
	since := time.Now()
	resumed := false
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := t.Stats(ctx)
		if err == nil {
			switch st.ClusterStatus {
			case e6sim.StatusActive:
				return
			case e6sim.StatusSuspended:
				if !resumed && (!fallback || time.Since(since) >= f.s.cfg.ResumeFallback) {
					if err := t.Resume(ctx); err != nil {
						f.fail("resume", err)
					} else {
						f.forced++
						resumed = true
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// settle leaves the cluster active at the end of the run.
func (f *flipper) settle(ctx context.Context) {
	st, err := f.s.cfg.Target.Stats(ctx)
	if err == nil && st.ClusterStatus != e6sim.StatusActive {
		f.awaitActive(ctx, false)
	}
}

// collect merges a snapshot of the connector's timeline into f.timeline.
func (f *flipper) collect(tl []Event) {
	if f.seen == nil {
		f.seen = map[string]bool{}
	}
	for _, e := range tl {
		k := fmt.Sprintf("%d|%s|%s|%s|%s", e.Time.UnixNano(), e.Type, e.From, e.To, e.QueryID)
		if !f.seen[k] {
			f.seen[k] = true
			f.timeline = append(f.timeline, e)
		}
	}
}

// learn sets each deployment's Learned: the first timeline event after its
// trigger (and before the next) that shows the connector knew: the new
// stack announced, switched to or detected, or the old one invalidated.
func (f *flipper) learn() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.deployments {
		d := &f.deployments[i]
		var until time.Time
		if i+1 < len(f.deployments) {
			until = f.deployments[i+1].Trigger
		}
		for _, e := range f.timeline {
			if e.Time.Before(d.Trigger) || (!until.IsZero() && !e.Time.Before(until)) {
				continue
			}
			knew := false
			switch e.Type {
			case "announced", "switched", "detected", "rollback":
				knew = e.To == d.To
			case "invalidated":
				knew = e.From == d.From
			}
			if knew && (d.Learned.IsZero() || e.Time.Before(d.Learned)) {
				d.Learned = e.Time
			}
		}
	}
}
