package e6sim

import (
	"slices"
	"sync"
	"time"

	"github.com/e6go/e6data/e6sim/internal/engine"
)

// DefaultQueryHistory is how many query records a Server keeps when
// Config.QueryHistory is 0.
const DefaultQueryHistory = 1 << 17

// maxRecordSQL bounds the statement text kept in a QueryRecord.
const maxRecordSQL = 4 << 10

// QueryRecord is what the simulator recorded of one query. Tests judge from
// it whether an interruption was allowed: a query may be lost only if its
// stack was torn down while it was open (TornDown).
type QueryRecord struct {
	ID       string    `json:"id"`
	Stack    string    `json:"stack"` // "blue" or "green": the stack that prepared it
	SQL      string    `json:"sql"`   // the statement text (cut after 4 KiB)
	Prepared time.Time `json:"prepared"`
	// Executed says executeStatement(V2) ran the statement on the engine
	// (whatever the client was answered afterwards).
	Executed bool `json:"executed"`
	// Ended is zero while the query is open; it is set when the query is
	// cleared, cancelled, reclaimed idle, or lost with its stack.
	Ended time.Time `json:"ended"`
	// TornDown says its stack was torn down (or the cluster suspended)
	// while the query was still open.
	TornDown bool `json:"torn_down"`
}

// Teardown records one stack being torn down: its sessions and queries
// were dropped at At.
type Teardown struct {
	Stack string    `json:"stack"`
	At    time.Time `json:"at"`
	// Reason says what tore it down: "abrupt switch", "drain period
	// over", "new switch", "suspend", ...
	Reason string `json:"reason"`
}

// queryLog is the bounded history of query records (the newest kept) and
// of teardowns.
type queryLog struct {
	mu        sync.Mutex
	max       int
	byID      map[string]*QueryRecord
	order     []string // ring of IDs in the order prepared
	next      int      // where the next ID goes once the ring is full
	teardowns []Teardown
}

func newQueryLog(max int) *queryLog {
	return &queryLog{max: max, byID: make(map[string]*QueryRecord)}
}

// maxTeardowns bounds the teardown history (the newest kept).
const maxTeardowns = 1 << 14

// observe returns the engine hook that records the events of stack.
func (l *queryLog) observe(stack string) func(engine.Event) {
	return func(ev engine.Event) {
		if l.max <= 0 {
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if ev.Kind == engine.QueryPrepared {
			l.addLocked(&QueryRecord{ID: ev.ID, Stack: stack, SQL: cut(ev.SQL, maxRecordSQL), Prepared: ev.At})
			return
		}
		r := l.byID[ev.ID]
		if r == nil {
			return // evicted
		}
		switch ev.Kind {
		case engine.QueryExecuted:
			r.Executed = true
		case engine.QueryEnded, engine.QueryLost:
			if r.Ended.IsZero() {
				r.Ended = ev.At
				r.TornDown = ev.Kind == engine.QueryLost
			}
		}
	}
}

func (l *queryLog) addLocked(r *QueryRecord) {
	if len(l.order) < l.max {
		l.order = append(l.order, r.ID)
	} else {
		delete(l.byID, l.order[l.next])
		l.order[l.next] = r.ID
		l.next = (l.next + 1) % l.max
	}
	l.byID[r.ID] = r
}

func (l *queryLog) tornDown(stack, reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.teardowns) == maxTeardowns {
		l.teardowns = slices.Delete(l.teardowns, 0, maxTeardowns/4)
	}
	l.teardowns = append(l.teardowns, Teardown{Stack: stack, At: time.Now(), Reason: reason})
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Query returns the record of one query, if the simulator still keeps it.
func (s *Server) Query(id string) (QueryRecord, bool) {
	s.record.mu.Lock()
	defer s.record.mu.Unlock()
	r := s.record.byID[id]
	if r == nil {
		return QueryRecord{}, false
	}
	return *r, true
}

// Queries returns every query record kept, oldest first (by preparation).
func (s *Server) Queries() []QueryRecord {
	s.record.mu.Lock()
	defer s.record.mu.Unlock()
	out := make([]QueryRecord, 0, len(s.record.order))
	n := len(s.record.order)
	for i := range n {
		id := s.record.order[(s.record.next+i)%n]
		if r := s.record.byID[id]; r != nil {
			out = append(out, *r)
		}
	}
	return out
}

// Teardowns returns every recorded stack teardown, oldest first.
func (s *Server) Teardowns() []Teardown {
	s.record.mu.Lock()
	defer s.record.mu.Unlock()
	return slices.Clone(s.record.teardowns)
}
