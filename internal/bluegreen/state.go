package bluegreen

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Transition types, as they appear in logs, metrics and the timeline.
const (
	Detected     = "detected"
	Announced    = "announced"
	Switched     = "switched"
	Recovered456 = "recovered_456"
	Resumed      = "resumed"
	Rollback     = "rollback"
	Invalidated  = "invalidated"
)

// Event is one entry of the timeline.
type Event struct {
	Time    time.Time
	Type    string // one of the transition types above
	From    string // strategy before ("" when unknown)
	To      string // strategy after
	QueryID string // the query that caused it, when there was one
}

// Options configure a State. Zero values take the defaults noted.
type Options struct {
	CacheTimeout   time.Duration    // how long a confirmed strategy is trusted (default 5 min)
	PinLimit       int              // max in-flight pins kept (default 1000)
	PinTTL         time.Duration    // pins older than this are stale (default 5 min)
	RollbackWindow time.Duration    // a switch back within this window is a rollback (default 2 min)
	TimelineSize   int              // events kept (default 256)
	Now            func() time.Time // clock (default time.Now)
	OnEvent        func(Event)      // called (outside the lock) for every event
	// OnSwitchover is called (outside the lock) once per switch, when the
	// last query pinned to the old stack has finished.
	OnSwitchover func(Switchover)
}

// Switchover is the timeline of one move from one stack to another, for
// the summary log record: offsets are from Announced (or Switched when no
// announcement was seen).
type Switchover struct {
	From, To    string
	Announced   time.Time // first announcement of To (zero if none was seen)
	Switched    time.Time // first successful call on To after it was pending: new work moved
	OldFinished time.Time // the last query pinned to From finished
	OldGone     time.Time // From answered 456 (zero if not seen by then)
	Rollback    bool
}

type pin struct {
	strategy string
	at       time.Time
}

// State is the per-cluster strategy state. All methods are safe for
// concurrent use.
type State struct {
	opts Options

	mu         sync.Mutex
	active     string
	since      time.Time // when active became the active strategy
	confirmed  time.Time
	pending    string
	lastSwitch time.Time
	previous   string
	pins       map[string]pin
	flight     *flight
	waiters    int // callers parked on flight (for tests and stats)
	timeline   []Event
	next       int         // ring position in timeline
	lastBad    string      // the strategy last found not live (detection tries the other first)
	lost       string      // the active strategy a 456 invalidated with nothing pending (an abrupt switch in progress)
	lostAt     time.Time   // when it was invalidated
	announced  time.Time   // when the current pending strategy was announced
	sw         *Switchover // the switchover whose old stack still has queries

	// For Confirm's path without the lock (every successful call takes
	// it): activeFast is active (stored under mu wherever active
	// changes), confirmedFast the UnixNano of confirmed; confirmEvery is
	// how stale confirmed may get before a call's success refreshes it.
	activeFast    atomic.Pointer[string]
	pendingFast   atomic.Pointer[string] // pending, stored under mu wherever it changes
	confirmedFast atomic.Int64
	confirmEvery  time.Duration
}

type flight struct {
	done     chan struct{}
	strategy string
	err      error
}

// New returns an empty State.
func New(o Options) *State {
	if o.CacheTimeout <= 0 {
		o.CacheTimeout = 5 * time.Minute
	}
	if o.PinLimit <= 0 {
		o.PinLimit = 1000
	}
	if o.PinTTL <= 0 {
		o.PinTTL = 5 * time.Minute
	}
	if o.RollbackWindow <= 0 {
		o.RollbackWindow = 2 * time.Minute
	}
	if o.TimelineSize <= 0 {
		o.TimelineSize = 256
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &State{opts: o, pins: make(map[string]pin),
		confirmEvery: min(time.Second, o.CacheTimeout/8)}
}

// ForNewWork returns the strategy new work must use: the pending one if the
// server announced one, else the active one ("" when none is known). fresh
// reports whether that strategy was confirmed within the cache timeout.
func (s *State) ForNewWork() (strategy string, fresh bool) {
	// The steady case, nothing announced and the active strategy confirmed
	// within the cache timeout, is read without the lock every new query
	// would otherwise queue on. A change racing with it is seen by the next
	// call, as if this one had come a moment earlier.
	if p := s.pendingFast.Load(); p == nil || *p == "" {
		if a := s.activeFast.Load(); a != nil && *a != "" {
			if d := s.opts.Now().UnixNano() - s.confirmedFast.Load(); d >= 0 && d < int64(s.opts.CacheTimeout) {
				return *a, true
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending != "" {
		return s.pending, true
	}
	return s.active, s.active != "" && s.opts.Now().Sub(s.confirmed) < s.opts.CacheTimeout
}

// Active and Pending report the current strategies.
func (s *State) Active() string  { s.mu.Lock(); defer s.mu.Unlock(); return s.active }
func (s *State) Pending() string { s.mu.Lock(); defer s.mu.Unlock(); return s.pending }

// Confirm records that a call on strategy succeeded without any announcement
// of another strategy. It makes a pending strategy active (a switch), or
// sets the first active strategy (a detection), and refreshes the
// confirmation time. After the active strategy was invalidated with nothing
// pending (an abrupt deployment), success on the other strategy is a switch
// too: counted, checked for a rollback and summarised like an announced one.
// The confirmation time of the active strategy is refreshed at most once per
// second (per CacheTimeout/8 when that is shorter).
func (s *State) Confirm(strategy string, queryID string) {
	if strategy == "" {
		return
	}
	// The steady case, a success on the active strategy confirmed a
	// moment ago, changes nothing: it is decided without the lock, which
	// every concurrent caller would otherwise queue on.
	if a := s.activeFast.Load(); a != nil && *a == strategy {
		if d := s.opts.Now().UnixNano() - s.confirmedFast.Load(); d >= 0 && d < int64(s.confirmEvery) {
			return
		}
	}
	var evs []Event
	s.mu.Lock()
	now := s.opts.Now()
	switch {
	case s.active == "" && s.lost != "" && s.lost != strategy:
		// The active stack went away with no announcement (an abrupt
		// deployment) and new work now succeeds on the other one: that
		// is a switch, not a first detection.
		s.setActiveLocked(s.lost)
		evs = append(evs, s.switchLocked(now, strategy, queryID)...)
		if s.sw != nil {
			s.sw.OldGone = s.lostAt
		}
	case s.active == "":
		s.setActiveLocked(strategy)
		s.since, s.lost = now, ""
		if s.pending == strategy {
			s.setPendingLocked("")
		}
		evs = append(evs, s.record(Event{Time: now, Type: Detected, To: strategy, QueryID: queryID}))
	case s.pending == strategy && s.active != strategy:
		evs = append(evs, s.switchLocked(now, strategy, queryID)...)
	}
	if s.active == strategy {
		s.confirmed = now
		s.confirmedFast.Store(now.UnixNano())
	}
	s.mu.Unlock()
	s.emit(evs)
}

func (s *State) switchLocked(now time.Time, to, queryID string) []Event {
	from := s.active
	s.setActiveLocked(to)
	s.since, s.confirmed, s.lost = now, now, ""
	s.setPendingLocked("")
	s.confirmedFast.Store(now.UnixNano())
	if from != "" {
		s.sw = &Switchover{From: from, To: to, Announced: s.announced, Switched: now}
	}
	s.announced = time.Time{}
	evs := []Event{s.record(Event{Time: now, Type: Switched, From: from, To: to, QueryID: queryID})}
	if to == s.previous && !s.lastSwitch.IsZero() && now.Sub(s.lastSwitch) < s.opts.RollbackWindow {
		evs = append(evs, s.record(Event{Time: now, Type: Rollback, From: from, To: to, QueryID: queryID}))
		if s.sw != nil {
			s.sw.Rollback = true
		}
	}
	s.previous, s.lastSwitch = from, now
	return evs
}

// Announce records a new_strategy announcement seen on a call that used
// strategy used. New work moves to the announced strategy at once.
func (s *State) Announce(used, announced, queryID string) {
	if announced == "" || announced == used {
		return
	}
	var evs []Event
	s.mu.Lock()
	if announced != s.active && announced != s.pending {
		s.setPendingLocked(announced)
		s.announced = s.opts.Now()
		evs = append(evs, s.record(Event{Time: s.opts.Now(), Type: Announced, From: s.active, To: announced, QueryID: queryID}))
	}
	s.mu.Unlock()
	s.emit(evs)
}

// Invalidate records that strategy is not live (a 456 on it): it stops being
// active or pending. If the other strategy was pending, it becomes active;
// otherwise no strategy is active until the next detection.
func (s *State) Invalidate(strategy string, queryID string) {
	s.InvalidateAt(strategy, queryID, time.Time{})
}

// InvalidateAt is Invalidate for a 456 answering a call sent at sent. A 456
// is news only about what the state knew when the call was sent: if strategy
// became active, or was announced, after that, the answer is stale (it comes
// from the stack's previous deployment, torn down since) and is ignored. It
// reports whether the 456 was acted on. A zero sent is never stale.
func (s *State) InvalidateAt(strategy, queryID string, sent time.Time) bool {
	var evs []Event
	s.mu.Lock()
	if !sent.IsZero() && (strategy == s.active && s.since.After(sent) || strategy == s.pending && s.announced.After(sent)) {
		s.mu.Unlock()
		return false
	}
	now := s.opts.Now()
	s.lastBad = strategy
	if s.sw != nil && s.sw.From == strategy && s.sw.OldGone.IsZero() {
		s.sw.OldGone = now
	}
	if s.pending == strategy {
		s.setPendingLocked("")
	}
	if s.active == strategy {
		if s.pending != "" {
			evs = append(evs, s.switchLocked(now, s.pending, queryID)...)
		} else {
			s.setActiveLocked("")
			s.lost, s.lostAt = strategy, now
			evs = append(evs, s.record(Event{Time: now, Type: Invalidated, From: strategy, QueryID: queryID}))
		}
	}
	s.mu.Unlock()
	s.emit(evs)
	return true
}

// ErrNoStrategy is returned by Detect when no strategy accepted the probe.
var ErrNoStrategy = errors.New("no strategy is live")

// Detect finds the live strategy with probe, once per State at a time:
// callers arriving while a detection runs wait for its result (or their
// context). probe is tried with the last known strategy first (else "blue"),
// then the other; isWrongStrategy tells a 456 (try the next) from any other
// failure (returned as is). ran reports whether this caller's probe ran
// (and so, for example, whether its session is valid).
func (s *State) Detect(ctx context.Context, probe func(ctx context.Context, strategy string) error, isWrongStrategy func(error) bool) (strategy string, ran bool, err error) {
	s.mu.Lock()
	if f := s.flight; f != nil {
		s.waiters++
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.waiters--
			s.mu.Unlock()
		}()
		select {
		case <-f.done:
			return f.strategy, false, f.err
		case <-ctx.Done():
			return "", false, ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	s.flight = f
	first := s.active
	if first == "" && s.lastBad != "" {
		first = other(s.lastBad)
	}
	if first == "" {
		first = "blue"
	}
	s.mu.Unlock()

	defer func() {
		s.mu.Lock()
		s.flight = nil
		s.mu.Unlock()
		close(f.done)
	}()
	f.err = ErrNoStrategy
	for _, st := range [2]string{first, other(first)} {
		perr := probe(ctx, st)
		if perr == nil {
			f.strategy, f.err = st, nil
			s.mu.Lock()
			if s.pending == st {
				s.setPendingLocked("")
			}
			s.mu.Unlock()
			s.Confirm(st, "")
			s.forceActive(st)
			break
		}
		if !isWrongStrategy(perr) {
			f.err = perr
			break
		}
	}
	return f.strategy, true, f.err
}

// forceActive makes st active after a successful detection even if another
// strategy was active before (the detection proved it wrong).
func (s *State) forceActive(st string) {
	var evs []Event
	s.mu.Lock()
	if s.active != st {
		evs = s.switchLocked(s.opts.Now(), st, "")
	}
	s.mu.Unlock()
	s.emit(evs)
}

// setPendingLocked sets the pending strategy; s.mu is held.
func (s *State) setPendingLocked(st string) {
	s.pending = st
	s.pendingFast.Store(&st)
}

// setActiveLocked sets the active strategy; s.mu is held.
func (s *State) setActiveLocked(st string) {
	s.active = st
	s.activeFast.Store(&st)
}

func other(s string) string {
	if s == "blue" {
		return "green"
	}
	return "blue"
}

// Pin records that queryID runs on strategy. When the limit is reached, the
// oldest stale pins are dropped first; if none is stale the oldest goes.
func (s *State) Pin(queryID, strategy string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pins) >= s.opts.PinLimit {
		s.sweepLocked(s.opts.Now())
		if len(s.pins) >= s.opts.PinLimit {
			oldestID, oldest := "", time.Time{}
			for id, p := range s.pins {
				if oldestID == "" || p.at.Before(oldest) {
					oldestID, oldest = id, p.at
				}
			}
			delete(s.pins, oldestID)
		}
	}
	s.pins[queryID] = pin{strategy: strategy, at: s.opts.Now()}
}

// Unpin forgets queryID. When it was the last query on the old stack of a
// switchover, the switchover is complete and reported.
func (s *State) Unpin(queryID string) {
	s.mu.Lock()
	delete(s.pins, queryID)
	done := s.switchoverDoneLocked()
	s.mu.Unlock()
	if done != nil && s.opts.OnSwitchover != nil {
		s.opts.OnSwitchover(*done)
	}
}

// switchoverDoneLocked ends the current switchover if no pin is left on its
// old stack, and returns it.
func (s *State) switchoverDoneLocked() *Switchover {
	sw := s.sw
	if sw == nil {
		return nil
	}
	for _, p := range s.pins {
		if p.strategy == sw.From {
			return nil
		}
	}
	sw.OldFinished = s.opts.Now()
	s.sw = nil
	return sw
}

// Switchover returns the switchover in progress, if any.
func (s *State) Switchover() (Switchover, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sw == nil {
		return Switchover{}, false
	}
	return *s.sw, true
}

// PinOf returns the strategy queryID is pinned to.
func (s *State) PinOf(queryID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pins[queryID]
	return p.strategy, ok
}

// Sweep drops pins older than the pin TTL and returns how many it dropped.
func (s *State) Sweep() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sweepLocked(s.opts.Now())
}

func (s *State) sweepLocked(now time.Time) int {
	n := 0
	for id, p := range s.pins {
		if now.Sub(p.at) >= s.opts.PinTTL {
			delete(s.pins, id)
			n++
		}
	}
	return n
}

// InFlight returns the number of pinned queries per strategy.
func (s *State) InFlight() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, p := range s.pins {
		out[p.strategy]++
	}
	return out
}

// Timeline returns the recorded events, oldest first.
func (s *State) Timeline() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.timeline) < s.opts.TimelineSize {
		return append([]Event(nil), s.timeline...)
	}
	out := make([]Event, 0, len(s.timeline))
	out = append(out, s.timeline[s.next:]...)
	return append(out, s.timeline[:s.next]...)
}

// Record adds an event that the state itself cannot see (a resume, a
// recovered 456) to the timeline.
func (s *State) Record(e Event) {
	if e.Time.IsZero() {
		e.Time = s.opts.Now()
	}
	s.mu.Lock()
	e = s.record(e)
	s.mu.Unlock()
	s.emit([]Event{e})
}

func (s *State) record(e Event) Event {
	if len(s.timeline) < s.opts.TimelineSize {
		s.timeline = append(s.timeline, e)
	} else {
		s.timeline[s.next] = e
		s.next = (s.next + 1) % s.opts.TimelineSize
	}
	return e
}

func (s *State) emit(evs []Event) {
	if s.opts.OnEvent == nil {
		return
	}
	for _, e := range evs {
		s.opts.OnEvent(e)
	}
}
