//go:build cgo

package engine

import (
	"context"
	"crypto/rand"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/e6go/e6data/internal/enginepb"
)

// Options configures one engine (stack).
type Options struct {
	Name             string        // stack name ("blue"/"green"), used in IDs and logs
	EngineIP         string        // returned as engineIP by prepare (default "127.0.0.1")
	ChunkRows        int           // rows per result batch (default 10000)
	SessionTTL       time.Duration // 0 = sessions never expire; else a session older than this answers INTERNAL "Access denied: session expired"
	QueryIdleTimeout time.Duration // a query nobody touched for this long is cancelled and reclaimed (default 5m)
	MaxOpenQueries   int           // default 10000; beyond it prepare fails RESOURCE_EXHAUSTED
	Users            Users
	Logger           *slog.Logger // nil = discard
	// OnQuery, when set, is told of every query's life events. It is
	// called synchronously and must not call back into the engine.
	OnQuery func(Event)
}

// Defaults of Options.
const (
	DefaultEngineIP         = "127.0.0.1"
	DefaultChunkRows        = 10000
	DefaultQueryIdleTimeout = 5 * time.Minute
	DefaultMaxOpenQueries   = 10000

	// sessionTombstone is how long an expired session is remembered (so
	// that it answers "session expired" and OwnsSession still knows it)
	// before the janitor purges it.
	sessionTombstone = time.Minute
	// maxSQLBytes bounds a query string.
	maxSQLBytes = 16 << 20
)

// Engine is one stack of a simulated cluster: sessions and queries over the
// shared DB. It implements every QueryEngineService rpc the protocol uses.
type Engine struct {
	enginepb.UnimplementedQueryEngineServiceServer

	db  *DB
	o   Options
	log *slog.Logger

	ctx    context.Context // parent of every query's context
	cancel context.CancelCauseFunc

	mu       sync.Mutex
	sessions map[string]*session
	queries  map[string]*query
	closed   bool
	gen      uint64 // counts Resets

	started   atomic.Int64
	cancels   atomic.Int64
	reclaimed atomic.Int64

	stopJanitor chan struct{}
	janitorDone chan struct{}
	closeOnce   sync.Once
}

type session struct {
	id      string
	user    string
	created time.Time

	mu        sync.Mutex
	expiredAt time.Time // set by ExpireSessions
	tz        string    // DuckDB TimeZone set by setProps; "" = UTC
}

func (s *session) timeZone() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tz == "" {
		return "UTC"
	}
	return s.tz
}

// expiry returns when the session expired (zero if it has not).
func (s *session) expiry(now time.Time, ttl time.Duration) time.Time {
	s.mu.Lock()
	at := s.expiredAt
	s.mu.Unlock()
	if ttl > 0 {
		if ttlAt := s.created.Add(ttl); !now.Before(ttlAt) && (at.IsZero() || ttlAt.Before(at)) {
			at = ttlAt
		}
	}
	return at
}

// New returns an engine serving from db. Close it before closing db.
func New(db *DB, o Options) *Engine {
	if o.EngineIP == "" {
		o.EngineIP = DefaultEngineIP
	}
	if o.ChunkRows <= 0 {
		o.ChunkRows = DefaultChunkRows
	}
	if o.QueryIdleTimeout <= 0 {
		o.QueryIdleTimeout = DefaultQueryIdleTimeout
	}
	if o.MaxOpenQueries <= 0 {
		o.MaxOpenQueries = DefaultMaxOpenQueries
	}
	if o.SessionTTL < 0 {
		o.SessionTTL = 0
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{
		db:          db,
		o:           o,
		log:         log.With("stack", o.Name),
		sessions:    map[string]*session{},
		queries:     map[string]*query{},
		stopJanitor: make(chan struct{}),
		janitorDone: make(chan struct{}),
	}
	e.ctx, e.cancel = context.WithCancelCause(context.Background())
	go e.janitor(janitorInterval(o))
	return e
}

// janitorInterval is a quarter of the shortest timeout, within [5ms, 10s].
func janitorInterval(o Options) time.Duration {
	d := o.QueryIdleTimeout
	if o.SessionTTL > 0 && o.SessionTTL < d {
		d = o.SessionTTL
	}
	d /= 4
	return min(max(d, 5*time.Millisecond), 10*time.Second)
}

func (e *Engine) janitor(every time.Duration) {
	defer close(e.janitorDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-e.stopJanitor:
			return
		case now := <-t.C:
			e.sweep(now)
		}
	}
}

// sweep reclaims idle queries and purges long-expired sessions.
func (e *Engine) sweep(now time.Time) {
	var idle []*query
	e.mu.Lock()
	for id, q := range e.queries {
		if q.busy.Load() == 0 && now.Sub(time.Unix(0, q.lastTouch.Load())) >= e.o.QueryIdleTimeout {
			delete(e.queries, id)
			idle = append(idle, q)
		}
	}
	for id, s := range e.sessions {
		if at := s.expiry(now, e.o.SessionTTL); !at.IsZero() && now.Sub(at) >= sessionTombstone {
			delete(e.sessions, id)
		}
	}
	e.mu.Unlock()
	for _, q := range idle {
		_ = q.abort(errQueryReclaimed)
		e.emit(QueryEnded, q.id, "")
		e.reclaimed.Add(1)
		e.log.Info("query reclaimed", "query_id", q.id, "idle_timeout", e.o.QueryIdleTimeout)
	}
}

// Close stops background work and cancels and frees every query and
// session. It is idempotent; afterwards every rpc answers UNAVAILABLE.
func (e *Engine) Close() {
	e.closeOnce.Do(func() {
		e.mu.Lock()
		e.closed = true
		e.mu.Unlock()
		close(e.stopJanitor)
		<-e.janitorDone
		e.dropAll(errEngineClosed)
		e.cancel(errEngineClosed)
	})
}

// Reset models the stack being torn down: every query is cancelled and
// dropped (reported as QueryLost) and every session forgotten. Calls in
// flight that would register a session or a query afterwards register
// nothing. The engine stays usable.
func (e *Engine) Reset() {
	e.dropAll(errEngineReset)
}

func (e *Engine) dropAll(cause error) {
	e.mu.Lock()
	e.gen++
	qs := e.queries
	e.queries = map[string]*query{}
	e.sessions = map[string]*session{}
	e.mu.Unlock()
	var wg sync.WaitGroup
	kind := QueryEnded
	if cause == errEngineReset {
		kind = QueryLost
	}
	for _, q := range qs {
		e.emit(kind, q.id, "")
		wg.Go(func() { _ = q.abort(cause) })
	}
	wg.Wait()
	if len(qs) > 0 {
		e.log.Info("queries dropped", "count", len(qs), "cause", cause.Error())
	}
}

// ExpireSessions makes every existing session answer "Access denied:
// session expired" from now on. Queries survive: a client that
// re-authenticates continues them with its new session.
func (e *Engine) ExpireSessions() {
	now := time.Now()
	e.mu.Lock()
	for _, s := range e.sessions {
		s.mu.Lock()
		if s.expiredAt.IsZero() {
			s.expiredAt = now
		}
		s.mu.Unlock()
	}
	e.mu.Unlock()
}

// OwnsSession reports whether id is a session this engine issued and still
// remembers; that includes expired sessions (which answer Access denied)
// until the janitor purges them a minute after expiry.
func (e *Engine) OwnsSession(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.sessions[id]
	return ok
}

// HasOpenQueries reports whether user has a query open on this engine.
func (e *Engine) HasOpenQueries(user string) bool {
	if user == "" {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, q := range e.queries {
		if q.user == user {
			return true
		}
	}
	return false
}

// Stats is a snapshot of an engine's counters.
type Stats struct {
	Sessions, OpenQueries              int   // live (unexpired) sessions; queries not yet cleared or reclaimed
	QueriesStarted, Cancels, Reclaimed int64 // executions started; queries stopped before their last row by cancelQuery or clearOrCancelQuery, each once (see the package doc); queries reclaimed idle
}

// Stats returns a snapshot of the engine's counters.
func (e *Engine) Stats() Stats {
	now := time.Now()
	e.mu.Lock()
	st := Stats{OpenQueries: len(e.queries)}
	for _, s := range e.sessions {
		if s.expiry(now, e.o.SessionTTL).IsZero() {
			st.Sessions++
		}
	}
	e.mu.Unlock()
	st.QueriesStarted = e.started.Load()
	st.Cancels = e.cancels.Load()
	st.Reclaimed = e.reclaimed.Load()
	return st
}

// newID returns an unguessable identifier (128 random bits).
func (e *Engine) newID(kind string) string {
	name := e.o.Name
	if name == "" {
		name = "e6sim"
	}
	return name + "-" + kind + "-" + rand.Text()
}

// newSession creates a session for an authenticated user.
func (e *Engine) newSession(ctx context.Context, user string) (*session, error) {
	s := &session{id: e.newID("s"), user: user, created: time.Now()}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, errClosed()
	}
	if e.staleLocked(ctx) {
		return nil, errReset()
	}
	e.sessions[s.id] = s
	return s, nil
}

// session returns the valid session id or an "Access denied" error.
func (e *Engine) session(id string) (*session, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, errClosed()
	}
	s := e.sessions[id]
	e.mu.Unlock()
	switch {
	case id == "":
		return nil, accessDenied("no session id; authenticate first")
	case s == nil:
		return nil, accessDenied("unknown session")
	case !s.expiry(time.Now(), e.o.SessionTTL).IsZero():
		return nil, accessDenied("session expired")
	}
	return s, nil
}

// useQuery validates the session and finds its user's query. The returned
// release function must be called when the call is over; while a call is
// in progress the janitor leaves the query alone.
func (e *Engine) useQuery(sessionID, queryID string) (*session, *query, func(), error) {
	s, err := e.session(sessionID)
	if err != nil {
		return nil, nil, nil, err
	}
	e.mu.Lock()
	q := e.queries[queryID]
	if q != nil && q.user == s.user {
		q.busy.Add(1)
	} else {
		q = nil
	}
	e.mu.Unlock()
	if q == nil {
		if queryID == "" {
			return nil, nil, nil, status.Error(codes.NotFound, "no query id given")
		}
		return nil, nil, nil, status.Errorf(codes.NotFound, "query %q not found on stack %q (never prepared here, cleared, or reclaimed)", queryID, e.o.Name)
	}
	q.touch()
	return s, q, func() { q.touch(); q.busy.Add(-1) }, nil
}

// removeQuery unregisters a query of user; it reports nil if there is none.
func (e *Engine) removeQuery(user, queryID string) *query {
	e.mu.Lock()
	defer e.mu.Unlock()
	q := e.queries[queryID]
	if q == nil || q.user != user {
		return nil
	}
	delete(e.queries, queryID)
	return q
}

// addQuery registers q unless MaxOpenQueries are already open or the call
// was routed to an engine generation a reset has ended.
func (e *Engine) addQuery(ctx context.Context, q *query) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.roomLocked(); err != nil {
		return err
	}
	if e.staleLocked(ctx) {
		return errReset()
	}
	e.queries[q.id] = q
	return nil
}

// roomForQuery reports RESOURCE_EXHAUSTED when MaxOpenQueries are open.
func (e *Engine) roomForQuery() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.roomLocked()
}

func (e *Engine) roomLocked() error {
	if e.closed {
		return errClosed()
	}
	if len(e.queries) >= e.o.MaxOpenQueries {
		return status.Errorf(codes.ResourceExhausted, "too many open queries on stack %q (limit %d): clear finished queries", e.o.Name, e.o.MaxOpenQueries)
	}
	return nil
}
