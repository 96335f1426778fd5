package chaos

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
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
