//go:build cgo

package engine

import (
	"context"
	"time"
)

// EventKind names what happened to a query.
type EventKind int

// Query events, reported through Options.OnQuery.
const (
	// QueryPrepared: prepareStatement registered the query.
	QueryPrepared EventKind = iota + 1
	// QueryExecuted: executeStatement ran the statement (its result is
	// streaming, or for a statement without rows, it is done).
	QueryExecuted
	// QueryEnded: the query was cleared, cancelled, reclaimed idle, or
	// dropped because the engine closed.
	QueryEnded
	// QueryLost: the query was dropped by Reset (its stack torn down)
	// while still open.
	QueryLost
)

// Event is one thing that happened to a query.
type Event struct {
	Kind EventKind
	ID   string
	SQL  string // set for QueryPrepared
	At   time.Time
}

func (e *Engine) emit(kind EventKind, id, sql string) {
	if e.o.OnQuery != nil {
		e.o.OnQuery(Event{Kind: kind, ID: id, SQL: sql, At: time.Now()})
	}
}

// Generation counts the engine's resets. A call that registers a session
// or a query checks that the engine is still in the generation the call was
// routed to (see WithGeneration), so that nothing of a call that a reset
// interrupted stays behind.
func (e *Engine) Generation() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.gen
}

type genKey struct{}

// WithGeneration returns ctx carrying the engine generation a call was
// routed to. A call whose generation has passed by the time it would
// register a session or a query fails UNAVAILABLE and registers nothing.
func WithGeneration(ctx context.Context, gen uint64) context.Context {
	return context.WithValue(ctx, genKey{}, gen)
}

// staleLocked reports whether ctx was routed to an earlier generation.
// e.mu must be held.
func (e *Engine) staleLocked(ctx context.Context) bool {
	gen, ok := ctx.Value(genKey{}).(uint64)
	return ok && gen != e.gen
}
