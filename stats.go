package e6data

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/e6go/e6data/internal/bluegreen"
)

// Stats describes a Connector's view of its cluster's blue/green state.
type Stats struct {
	Cluster  string         // host:port[/cluster-name]
	Active   string         // strategy for new work ("" while unknown)
	Pending  string         // strategy announced but not yet confirmed
	InFlight map[string]int // queries in flight per strategy (their pins)

	Detections    int64 // live strategy found by probing
	Announcements int64 // new_strategy announcements acted on
	Transitions   int64 // moves of new work to another stack
	Rollbacks     int64 // transitions back to the previous stack within the rollback window
	WrongStrategy int64 // 456 answers received (detection probes excepted), counted when their operation ends
	Recoveries    int64 // operations that succeeded after a recovered failure
	Reauths       int64 // re-authentications after "Access denied"
	Resumes       int64 // cluster resumes this connector performed
	Interrupted   int64 // queries ended by ErrQueryInterrupted

	Timeline []TimelineEvent // recent transitions, oldest first
}

// TimelineEvent is one transition of the strategy state.
type TimelineEvent struct {
	Time    time.Time
	Type    string // detected, announced, switched, invalidated, resumed, rollback
	From    string
	To      string
	QueryID string
}

// counter is one kind of event a cluster counts. Each event is counted once,
// where it happens, through cluster.count or Connector.count, which feed
// both Stats and the connector's OpenTelemetry instruments.
type counter uint8

const (
	cDetected      counter = iota // live strategy found by probing (bluegreen.Detected)
	cAnnounced                    // announcement acted on (bluegreen.Announced)
	cSwitched                     // new work moved to another stack (bluegreen.Switched)
	cRollback                     // a switch back within the rollback window (bluegreen.Rollback)
	cWrongStrategy                // 456 answers met by operations (detection probes excepted)
	cRecovery                     // operations that succeeded after a recovered failure
	cReauth                       // re-authentications after "Access denied"
	cResume                       // cluster resumes this process performed
	cInterrupted                  // queries ended by ErrQueryInterrupted
	cLostQuery                    // queries a stack lost, run again
	numCounters
)

// counters is a cluster's event counts, shared by its Connectors.
type counters struct{ n [numCounters]atomic.Int64 }

func (cs *counters) add(k counter, n int64) { cs.n[k].Add(n) }
func (cs *counters) get(k counter) int64    { return cs.n[k].Load() }

// transitionCounter is the counter of a strategy event type, if Stats
// reports it.
func transitionCounter(typ string) (counter, bool) {
	switch typ {
	case bluegreen.Detected:
		return cDetected, true
	case bluegreen.Announced:
		return cAnnounced, true
	case bluegreen.Switched:
		return cSwitched, true
	case bluegreen.Rollback:
		return cRollback, true
	}
	return 0, false
}

// count counts n events k of one operation whose outcome is err, in the
// cluster's counters and on the connector's instruments.
func (c *Connector) count(ctx context.Context, k counter, n int64, err error) {
	if n <= 0 {
		return
	}
	c.cl.counts.add(k, n)
	switch k {
	case cWrongStrategy:
		c.metrics.wrong456(ctx, n, err)
	case cReauth:
		c.metrics.reauths.Add(ctx, n, c.metrics.base...)
	}
}

// Stats returns a snapshot of the strategy state and counters of the
// connector's cluster: every Connector of the process to the same cluster
// shares them.
func (c *Connector) Stats() Stats {
	counts := &c.cl.counts
	st := Stats{
		Cluster:       clusterLabel(c.cfg, c.target),
		Active:        c.state.Active(),
		Pending:       c.state.Pending(),
		InFlight:      c.state.InFlight(),
		Detections:    counts.get(cDetected),
		Announcements: counts.get(cAnnounced),
		Transitions:   counts.get(cSwitched),
		Rollbacks:     counts.get(cRollback),
		WrongStrategy: counts.get(cWrongStrategy),
		Recoveries:    counts.get(cRecovery),
		Reauths:       counts.get(cReauth),
		Resumes:       counts.get(cResume),
		Interrupted:   counts.get(cInterrupted),
	}
	for _, e := range c.state.Timeline() {
		st.Timeline = append(st.Timeline, TimelineEvent(e))
	}
	return st
}

// logSwitchover writes the INFO summary of a finished switchover: when the
// move was announced, when new work first succeeded on the new stack, when
// the last query on the old stack finished and when the old stack was seen
// gone, as offsets from the announcement (or, for an abrupt deployment, from
// the first 456 of the old stack, or else from the switch).
func (c *Connector) logSwitchover(sw bluegreen.Switchover) {
	c.lastSwitchover.Store(&sw)
	start := sw.Announced
	if start.IsZero() {
		start = sw.Switched
		if !sw.OldGone.IsZero() && sw.OldGone.Before(start) {
			start = sw.OldGone
		}
	}
	off := func(t time.Time) any {
		if t.IsZero() {
			return "not seen"
		}
		return t.Sub(start).Round(time.Millisecond).String()
	}
	typ := bluegreen.Switched
	if sw.Rollback {
		typ = bluegreen.Rollback
	}
	c.stratLog.LogAttrs(context.Background(), slog.LevelInfo, "switchover complete: "+sw.From+" -> "+sw.To,
		slog.String("transition_type", typ),
		slog.String("strategy", sw.To),
		slog.String("from", sw.From),
		slog.Any("announced", off(sw.Announced)),
		slog.Any("first_query_on_new", off(sw.Switched)),
		slog.Any("last_query_on_old_finished", off(sw.OldFinished)),
		slog.Any("old_stack_gone", off(sw.OldGone)),
	)
}
