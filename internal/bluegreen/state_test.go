package bluegreen

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// tally counts the events a State emits (OnEvent), by type.
type tally struct {
	mu sync.Mutex
	n  map[string]int64
}

func (tl *tally) on(e Event) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.n == nil {
		tl.n = map[string]int64{}
	}
	tl.n[e.Type]++
}

func (tl *tally) counts() map[string]int64 {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	out := map[string]int64{}
	for k, v := range tl.n {
		out[k] = v
	}
	return out
}

var errWrong = errors.New("456")

func isWrong(err error) bool { return errors.Is(err, errWrong) }

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestDetectTriesBlueThenGreen(t *testing.T) {
	var tl tally
	s := New(Options{OnEvent: tl.on})
	var tried []string
	st, ran, err := s.Detect(context.Background(), func(_ context.Context, st string) error {
		tried = append(tried, st)
		if st == "blue" {
			return errWrong
		}
		return nil
	}, isWrong)
	if err != nil || st != "green" || !ran {
		t.Fatalf("Detect = %q, %v, %v", st, ran, err)
	}
	if len(tried) != 2 || tried[0] != "blue" || tried[1] != "green" {
		t.Fatalf("tried %v", tried)
	}
	if got, fresh := s.ForNewWork(); got != "green" || !fresh {
		t.Fatalf("ForNewWork = %q %v", got, fresh)
	}
	if tl.counts()[Detected] != 1 {
		t.Fatalf("counts %v", tl.counts())
	}
}

func TestDetectBothWrongAndOtherErrors(t *testing.T) {
	s := New(Options{})
	_, _, err := s.Detect(context.Background(), func(context.Context, string) error { return errWrong }, isWrong)
	if !errors.Is(err, ErrNoStrategy) {
		t.Fatalf("err = %v", err)
	}
	boom := errors.New("boom")
	calls := 0
	_, _, err = s.Detect(context.Background(), func(context.Context, string) error { calls++; return boom }, isWrong)
	if !errors.Is(err, boom) || calls != 1 {
		t.Fatalf("err = %v after %d calls", err, calls)
	}
}

func TestDetectIsSingleFlight(t *testing.T) {
	s := New(Options{})
	var probes atomic.Int32
	release := make(chan struct{})
	started := make(chan struct{})
	var once sync.Once
	probe := func(ctx context.Context, st string) error {
		probes.Add(1)
		once.Do(func() { close(started) })
		<-release
		return nil
	}
	const n = 32
	var wg sync.WaitGroup
	results := make([]string, n)
	ranCount := atomic.Int32{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		st, ran, _ := s.Detect(context.Background(), probe, isWrong)
		results[0] = st
		if ran {
			ranCount.Add(1)
		}
	}()
	<-started
	for i := 1; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			st, ran, _ := s.Detect(context.Background(), probe, isWrong)
			results[i] = st
			if ran {
				ranCount.Add(1)
			}
		}(i)
	}
	// Wait (bounded) until every other caller is parked on the flight.
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		w := s.waiters
		s.mu.Unlock()
		if w == n-1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d waiters parked", w)
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	for i, r := range results {
		if r != "blue" {
			t.Fatalf("caller %d got %q", i, r)
		}
	}
	if probes.Load() != 1 || ranCount.Load() != 1 {
		t.Fatalf("%d probes by %d leaders, want exactly one", probes.Load(), ranCount.Load())
	}
}

func TestDetectWaiterHonoursContext(t *testing.T) {
	s := New(Options{})
	release := make(chan struct{})
	started := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Detect(context.Background(), func(context.Context, string) error { close(started); <-release; return nil }, isWrong)
	}()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.Detect(ctx, func(context.Context, string) error { return nil }, isWrong); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	close(release)
	<-done
}

func TestAnnounceConfirmSwitchAndRollback(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	var events []Event
	var tl tally
	s := New(Options{Now: c.now, OnEvent: func(e Event) { events = append(events, e); tl.on(e) }})
	s.Confirm("blue", "")
	s.Announce("blue", "green", "q1")
	if st, _ := s.ForNewWork(); st != "green" {
		t.Fatalf("new work goes to %q, want the pending green at once", st)
	}
	if s.Active() != "blue" || s.Pending() != "green" {
		t.Fatalf("active %q pending %q", s.Active(), s.Pending())
	}
	s.Confirm("blue", "q1") // the old stack still serving its query changes nothing
	if s.Active() != "blue" {
		t.Fatal("confirm on the old stack switched")
	}
	c.advance(time.Second)
	s.Confirm("green", "q2")
	if s.Active() != "green" || s.Pending() != "" {
		t.Fatalf("after confirm: active %q pending %q", s.Active(), s.Pending())
	}
	c.advance(time.Minute)
	s.Announce("green", "blue", "")
	s.Confirm("blue", "")
	counts := tl.counts()
	if counts[Switched] != 2 || counts[Rollback] != 1 || counts[Announced] != 2 || counts[Detected] != 1 {
		t.Fatalf("counts %v", counts)
	}
	want := []string{Detected, Announced, Switched, Announced, Switched, Rollback}
	if len(events) != len(want) {
		t.Fatalf("events %+v", events)
	}
	for i, e := range events {
		if e.Type != want[i] {
			t.Fatalf("event %d = %s, want %s", i, e.Type, want[i])
		}
	}
	if tl := s.Timeline(); len(tl) != len(want) || tl[2].From != "blue" || tl[2].To != "green" || tl[2].QueryID != "q2" {
		t.Fatalf("timeline %+v", tl)
	}
}

func TestInvalidate(t *testing.T) {
	s := New(Options{})
	s.Confirm("blue", "")
	s.Invalidate("blue", "")
	if st, _ := s.ForNewWork(); st != "" {
		t.Fatalf("after 456 new work goes to %q", st)
	}
	s.Confirm("green", "")
	s.Announce("green", "blue", "")
	s.Invalidate("green", "") // the old stack went away: the pending one takes over
	if s.Active() != "blue" || s.Pending() != "" {
		t.Fatalf("active %q pending %q", s.Active(), s.Pending())
	}
}

func TestCacheTimeout(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	s := New(Options{Now: c.now, CacheTimeout: time.Minute})
	s.Confirm("green", "")
	if _, fresh := s.ForNewWork(); !fresh {
		t.Fatal("just confirmed is not fresh")
	}
	c.advance(2 * time.Minute)
	if st, fresh := s.ForNewWork(); fresh || st != "green" {
		t.Fatalf("stale strategy: %q fresh=%v; want the cached one, not fresh", st, fresh)
	}
	s.Confirm("green", "")
	if _, fresh := s.ForNewWork(); !fresh {
		t.Fatal("re-confirmation did not refresh")
	}
}

func TestPinsBoundedAndSwept(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	s := New(Options{Now: c.now, PinLimit: 3, PinTTL: time.Minute})
	s.Pin("a", "blue")
	c.advance(time.Second)
	s.Pin("b", "blue")
	s.Pin("c", "green")
	s.Pin("d", "green") // over the limit: the oldest ("a") goes
	if _, ok := s.PinOf("a"); ok {
		t.Fatal("oldest pin kept over the limit")
	}
	if st, ok := s.PinOf("d"); !ok || st != "green" {
		t.Fatal("new pin missing")
	}
	if f := s.InFlight(); f["blue"] != 1 || f["green"] != 2 {
		t.Fatalf("in flight %v", f)
	}
	c.advance(2 * time.Minute)
	if n := s.Sweep(); n != 3 {
		t.Fatalf("swept %d, want 3 stale", n)
	}
	s.Pin("e", "blue")
	s.Unpin("e")
	if len(s.InFlight()) != 0 {
		t.Fatalf("in flight %v", s.InFlight())
	}
}

func TestTimelineRing(t *testing.T) {
	var seen tally
	s := New(Options{TimelineSize: 4, OnEvent: seen.on})
	for i := 0; i < 10; i++ {
		s.Record(Event{Type: Resumed, QueryID: string(rune('a' + i))})
	}
	tl := s.Timeline()
	if len(tl) != 4 || tl[0].QueryID != "g" || tl[3].QueryID != "j" {
		t.Fatalf("timeline %+v", tl)
	}
	if seen.counts()[Resumed] != 10 {
		t.Fatal("count")
	}
}

func TestSwitchoverTimeline(t *testing.T) {
	c := &clock{t: time.Unix(100, 0)}
	var got []Switchover
	s := New(Options{Now: c.now, OnSwitchover: func(sw Switchover) { got = append(got, sw) }})
	s.Confirm("blue", "")
	s.Pin("old1", "blue")
	s.Pin("old2", "blue")
	c.advance(time.Second)
	s.Announce("blue", "green", "old1") // t=101
	c.advance(time.Second)
	s.Pin("new1", "green")
	s.Confirm("green", "new1") // t=102: switched
	s.Unpin("new1")
	if len(got) != 0 {
		t.Fatal("switchover reported while old queries still run")
	}
	c.advance(time.Second)
	s.Unpin("old1")
	c.advance(time.Second)
	s.Invalidate("blue", "") // t=104: the old stack is gone
	if _, ok := s.Switchover(); !ok {
		t.Fatal("switchover should still be in progress")
	}
	c.advance(time.Second)
	s.Unpin("old2") // t=105
	if len(got) != 1 {
		t.Fatalf("switchovers %+v", got)
	}
	sw := got[0]
	if sw.From != "blue" || sw.To != "green" || sw.Announced.Unix() != 101 || sw.Switched.Unix() != 102 ||
		sw.OldGone.Unix() != 104 || sw.OldFinished.Unix() != 105 || sw.Rollback {
		t.Fatalf("switchover %+v", sw)
	}
	if _, ok := s.Switchover(); ok {
		t.Fatal("switchover still in progress after it was reported")
	}
}

func TestDetectTriesOtherOfLastBadFirst(t *testing.T) {
	s := New(Options{})
	s.Confirm("green", "")
	s.Invalidate("green", "")
	var tried []string
	st, _, err := s.Detect(context.Background(), func(_ context.Context, st string) error { tried = append(tried, st); return nil }, isWrong)
	if err != nil || st != "blue" || len(tried) != 1 {
		t.Fatalf("Detect = %q %v after trying %v", st, err, tried)
	}
}

func TestAbruptSwitchIsATransition(t *testing.T) {
	c := &clock{t: time.Unix(100, 0)}
	var got []Switchover
	var tl tally
	s := New(Options{Now: c.now, OnEvent: tl.on, OnSwitchover: func(sw Switchover) { got = append(got, sw) }})
	s.Confirm("blue", "")
	s.Pin("old", "blue")
	c.advance(time.Second)
	s.Invalidate("blue", "q1") // t=101: blue is gone, nothing was announced
	c.advance(time.Second)
	s.Confirm("green", "q2") // t=102: new work succeeds on green
	counts := tl.counts()
	if s.Active() != "green" || counts[Switched] != 1 || counts[Detected] != 1 || counts[Invalidated] != 1 {
		t.Fatalf("active %q, counts %v", s.Active(), counts)
	}
	s.Unpin("old") // t=102: the query lost with blue is given up
	if len(got) != 1 || got[0].From != "blue" || got[0].To != "green" || !got[0].Announced.IsZero() ||
		got[0].OldGone.Unix() != 101 || got[0].Switched.Unix() != 102 || got[0].Rollback {
		t.Fatalf("switchovers %+v", got)
	}
	// And back again, abruptly, within the rollback window.
	c.advance(time.Second)
	s.Invalidate("green", "")
	s.Confirm("blue", "")
	if counts := tl.counts(); counts[Switched] != 2 || counts[Rollback] != 1 || s.Active() != "blue" {
		t.Fatalf("active %q, counts %v", s.Active(), counts)
	}
	// The same stack coming back after a stray 456 is no switch.
	s.Invalidate("blue", "")
	s.Confirm("blue", "")
	if counts := tl.counts(); counts[Switched] != 2 || counts[Detected] != 2 {
		t.Fatalf("counts %v", counts)
	}
}

func TestInvalidateAtIgnoresStale456(t *testing.T) {
	c := &clock{t: time.Unix(100, 0)}
	s := New(Options{Now: c.now})
	s.Confirm("blue", "") // t=100: blue active
	sentBefore := c.now()
	c.advance(time.Second)
	s.Announce("blue", "green", "") // t=101: green pending
	// A 456 from green for a call sent before green was announced (its
	// previous deployment, torn down since) says nothing about it now.
	if s.InvalidateAt("green", "", sentBefore) || s.Pending() != "green" {
		t.Fatalf("stale 456 acted on: pending %q", s.Pending())
	}
	c.advance(time.Second)
	s.Confirm("green", "") // t=102: switched
	if s.InvalidateAt("green", "", sentBefore) || s.Active() != "green" {
		t.Fatalf("stale 456 acted on: active %q", s.Active())
	}
	// A 456 for a call sent after green went live is news.
	sentAfter := c.now()
	c.advance(time.Second)
	if !s.InvalidateAt("green", "", sentAfter) || s.Active() != "" {
		t.Fatalf("456 ignored: active %q", s.Active())
	}
	// A zero send time is never stale.
	s.Confirm("blue", "")
	if !s.InvalidateAt("blue", "", time.Time{}) || s.Active() != "" {
		t.Fatalf("456 without a send time ignored: active %q", s.Active())
	}
}

// Confirm on the active strategy within the refresh interval changes
// nothing and takes no lock; after it, the confirmation time moves on; a
// confirm of the other strategy while one is pending still switches.
func TestConfirmSteadyPath(t *testing.T) {
	now := time.Unix(1000, 0)
	var evs []Event
	s := New(Options{CacheTimeout: time.Minute, Now: func() time.Time { return now }, OnEvent: func(e Event) { evs = append(evs, e) }})
	s.Confirm("blue", "q1")
	if a := s.Active(); a != "blue" || len(evs) != 1 || evs[0].Type != Detected {
		t.Fatalf("active %q events %+v, want blue detected", a, evs)
	}
	s.mu.Lock() // the steady path does not need it
	now = now.Add(500 * time.Millisecond)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Confirm("blue", "q2")
	}()
	select {
	case <-done:
		s.mu.Unlock()
	case <-time.After(10 * time.Second):
		s.mu.Unlock()
		<-done
		t.Fatal("Confirm on the steady path waited for the lock")
	}
	if got := s.confirmed; !got.Equal(time.Unix(1000, 0)) {
		t.Fatalf("confirmed %v refreshed within the interval", got)
	}
	now = now.Add(time.Second)
	s.Confirm("blue", "q3")
	if got := s.confirmed; !got.Equal(now) {
		t.Fatalf("confirmed %v, want %v", got, now)
	}
	if st, fresh := s.ForNewWork(); st != "blue" || !fresh {
		t.Fatalf("ForNewWork %q %v", st, fresh)
	}
	s.Announce("blue", "green", "q4")
	s.Confirm("green", "q5")
	if a := s.Active(); a != "green" {
		t.Fatalf("active %q after green confirmed while pending, want green", a)
	}
	now = now.Add(100 * time.Millisecond)
	s.Confirm("blue", "q6") // an old query's success on blue: not active, takes the slow path
	if a := s.Active(); a != "green" {
		t.Fatalf("active %q, want green", a)
	}
}

// ForNewWork's steady case (nothing announced, active confirmed within the
// cache timeout) does not wait for the lock; an announcement, a stale
// confirmation or an invalidation take the locked path and are seen at once.
func TestForNewWorkSteadyPath(t *testing.T) {
	now := time.Unix(1000, 0)
	s := New(Options{CacheTimeout: time.Minute, Now: func() time.Time { return now }})
	s.Confirm("blue", "q1")
	s.mu.Lock()
	got := make(chan string, 1)
	go func() { st, _ := s.ForNewWork(); got <- st }()
	select {
	case st := <-got:
		s.mu.Unlock()
		if st != "blue" {
			t.Fatalf("ForNewWork = %q, want blue", st)
		}
	case <-time.After(10 * time.Second):
		s.mu.Unlock()
		<-got
		t.Fatal("ForNewWork on the steady path waited for the lock")
	}
	s.Announce("blue", "green", "q2")
	if st, fresh := s.ForNewWork(); st != "green" || !fresh {
		t.Fatalf("after an announcement: %q fresh=%v, want green", st, fresh)
	}
	s.Confirm("green", "q3") // the switch
	now = now.Add(2 * time.Minute)
	if st, fresh := s.ForNewWork(); st != "green" || fresh {
		t.Fatalf("after the cache timeout: %q fresh=%v, want green, not fresh", st, fresh)
	}
	s.Invalidate("green", "q4")
	if st, _ := s.ForNewWork(); st != "" {
		t.Fatalf("after invalidation: %q, want none", st)
	}
}
