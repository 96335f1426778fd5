package e6data

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/e6go/e6data/internal/bluegreen"
	"github.com/e6go/e6data/internal/enginepb"
	"github.com/e6go/e6data/internal/rpc"
)

// conn is one e6data session. database/sql uses a conn from one goroutine
// at a time.
type conn struct {
	ctr           *Connector
	created       time.Time
	life          context.Context // ends when the connector closes: one of ctr.lives
	sid           string          // session ID; "" = none
	strategy      string          // the stack the session belongs to
	bad           bool            // broken beyond repair: database/sql must discard it
	closed        bool
	ownsConnector bool
	lastQueryID   string
	cur           *queryTel // telemetry of the query being started (set by query)
	met456        int64     // 456 answers authenticate met and recovered from, for withRecovery to count

	// Guarded by ctr.pool (see sessionPool).
	slot      bool      // holds one of the connector's MaxConnections slots
	retired   bool      // its session was handed to another connection
	inIdle    bool      // in the pool's idle list
	idleSince time.Time // when database/sql last put it back in its pool
}

var (
	_ driver.Conn               = (*conn)(nil)
	_ driver.ConnPrepareContext = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.Pinger             = (*conn)(nil)
	_ driver.SessionResetter    = (*conn)(nil)
	_ driver.Validator          = (*conn)(nil)
	_ driver.NamedValueChecker  = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
)

// permanent marks an error that no retry may follow (the server may have
// acted on the statement, or the failure is not one a retry can fix).
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// withRecovery runs f and, on a failure the zero-downtime rules recover
// from (456, Access denied, 503, a transport blip), repairs the cause and
// runs f again: at most MaxRetryAttempts times in all, with jittered
// exponential backoff, never past ctx. f returns a permanent error to stop.
func (cn *conn) withRecovery(ctx context.Context, op, queryID string, read bool, f func(ctx context.Context) error) (result error) {
	cfg := cn.ctr.cfg
	var n456 int64 // 456 answers met, counted by outcome when the operation ends
	defer func() { cn.ctr.metrics.wrong456(ctx, n456, result) }()
	attempts := max(cfg.MaxRetryAttempts, 1)
	backoff := rpc.Backoff{Base: cfg.RetryBackoff, Max: 10 * time.Second}
	var err error
	stale, lastQuery := "", cn.lastQueryID // stale: a strategy that answered 456 on an earlier attempt
	attempt := 1
	for ; ; attempt++ {
		cn.met456 = 0
		err = f(ctx)
		n456 += cn.met456
		if err == nil {
			if attempt > 1 {
				cn.ctr.state.Count("recoveries", 1)
			}
			if stale != "" {
				qid := queryID
				if qid == "" && cn.lastQueryID != lastQuery {
					qid = cn.lastQueryID // the query this operation ran
				}
				cn.ctr.state.Record(bluegreen.Event{Type: bluegreen.Recovered456, From: stale, To: cn.strategy, QueryID: qid})
			}
			return nil
		}
		var p permanent
		if errors.As(err, &p) {
			return newError(op, queryID, p.err)
		}
		kind := rpc.Classify(err)
		if kind == rpc.KindWrongStrategy {
			n456++
			stale = cn.strategy
			if re := (*rpc.Error)(nil); errors.As(err, &re) && re.Strategy != "" {
				stale = re.Strategy
			}
		}
		repairStart := time.Now()
		if ok, rerr := cn.repair(ctx, err); !ok {
			if rerr != nil {
				// Say why the repair failed (e.g. the resume timed out),
				// keeping the original failure in the chain.
				e := newError(op, queryID, err)
				msg := rerr.Error()
				var re *Error
				if errors.As(rerr, &re) && re.Message != "" {
					msg = re.Message
				}
				e.Message = "auto-resume failed: " + msg
				e.cause = errors.Join(rerr, err)
				return e
			}
			return newError(op, queryID, err)
		}
		if attempt >= attempts {
			break
		}
		cn.cur.retry(retryReason(err, kind), attempt, retryAttrs(kind, stale, time.Since(repairStart))...)
		if werr := rpc.Wait(ctx, backoff.Delay(attempt-1)); werr != nil {
			e := newError(op, queryID, errors.Join(werr, err))
			e.Attempts = attempt
			return e
		}
	}
	e := newError(op, queryID, fmt.Errorf("%w: %w", ErrRetriesExhausted, err))
	if inner := newError(op, queryID, err); inner.sentinel != nil {
		e.sentinel, e.Code, e.Message, e.Strategy = inner.sentinel, inner.Code, inner.Message, inner.Strategy
	}
	e.Attempts = attempt
	e.Retryable = true
	return e
}

// retryReason names the failure a retry follows (attribute reason of the
// e6data.retry span event).
func retryReason(err error, kind rpc.Kind) string {
	var lost lostQuery
	if errors.As(err, &lost) {
		return "query_lost"
	}
	return kind.String()
}

// retryAttrs are the event attributes particular to a kind of failure: the
// stale strategy of a 456, the time a resume took.
func retryAttrs(kind rpc.Kind, stale string, repairTook time.Duration) []attribute.KeyValue {
	switch kind {
	case rpc.KindWrongStrategy:
		return []attribute.KeyValue{attribute.String("stale_strategy", stale)}
	case rpc.KindClusterUnavailable:
		return []attribute.KeyValue{attribute.Float64("resume_wait_s", repairTook.Seconds())}
	}
	return nil
}

// repair acts on a recoverable failure and reports whether a retry may help;
// when a repair itself failed (a resume), it says why.
func (cn *conn) repair(ctx context.Context, err error) (bool, error) {
	var re *rpc.Error
	strategy := ""
	if errors.As(err, &re) {
		strategy = re.Strategy
	}
	var lost lostQuery
	if errors.As(err, &lost) {
		// The stack lost the query; if it was torn down, the session
		// went with it: a fresh one costs less than an attempt.
		cn.ctr.state.Count("lost_queries", 1)
		if cn.strategy == strategy {
			cn.sid = ""
		}
		return true, nil
	}
	switch rpc.Classify(err) {
	case rpc.KindWrongStrategy:
		cn.ctr.state.Count("456", 1)
		if strategy != "" {
			// Ignored if the strategy went live again (a new deployment
			// of that stack) after the failed call was sent.
			cn.ctr.state.InvalidateAt(strategy, "", sentAt(err))
		}
		if cn.strategy == strategy || strategy == "" {
			cn.sid = ""
		}
		return true, nil
	case rpc.KindAccessDenied:
		cn.ctr.state.Count("reauth", 1)
		cn.ctr.metrics.reauth(ctx)
		cn.sid = ""
		return true, nil
	case rpc.KindClusterUnavailable:
		if !cn.ctr.cfg.AutoResume {
			return false, nil
		}
		if rerr := cn.ctr.resume(ctx); rerr != nil {
			cn.ctr.log.Warn("auto-resume failed", "error", rerr)
			return false, rerr
		}
		cn.sid = ""
		return true, nil
	case rpc.KindTransient:
		return true, nil
	}
	return false, nil
}

// sentAt is when the failed call behind err was sent (zero if unknown).
func sentAt(err error) time.Time {
	var re *rpc.Error
	if errors.As(err, &re) {
		return re.Sent
	}
	return time.Time{}
}

// authOn authenticates on strategy and returns the new session ID. Bad
// credentials come back as a permanent ErrAuth.
func (cn *conn) authOn(ctx context.Context, strategy string) (string, error) {
	ctr := cn.ctr
	token, err := ctr.token(ctx)
	if err != nil {
		return "", permanent{err}
	}
	var resp enginepb.AuthenticateResponse
	err = ctr.rpc.Invoke(ctx, rpc.Call{Method: enginepb.QueryEngineService_Authenticate_FullMethodName, Strategy: strategy},
		&enginepb.AuthenticateRequest{User: ctr.cfg.User, Password: token}, &resp)
	if err != nil {
		switch rpc.Classify(err) {
		case rpc.KindAccessDenied, rpc.KindUnauthenticated:
			e := newError("authenticate", "", err)
			e.sentinel, e.Retryable = ErrAuth, false
			e.Message = fmt.Sprintf("user %q was not accepted: %s", ctr.cfg.User, e.Message)
			return "", permanent{e}
		}
		return "", err
	}
	if resp.GetSessionId() == "" {
		return "", permanent{&Error{Op: "authenticate", sentinel: ErrAuth, Strategy: strategy,
			Message: fmt.Sprintf("user %q was not accepted: the server returned no session", ctr.cfg.User)}}
	}
	return resp.GetSessionId(), nil
}

// authenticateOn gives the connection a new session on strategy.
func (cn *conn) authenticateOn(ctx context.Context, strategy string) error {
	sid, err := cn.authOn(ctx, strategy)
	if err != nil {
		return err
	}
	cn.sid, cn.strategy = sid, strategy
	return nil
}

// ctxEnded reports whether ctx is done or its deadline has passed: a server
// that got the deadline in grpc-timeout may give up a moment before the
// caller's own timer fires.
func ctxEnded(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// authenticate opens a new session on the strategy new work must use,
// detecting the live strategy first when none is known (rule 2).
func (cn *conn) authenticate(ctx context.Context) error {
	ctr := cn.ctr
	if st, _ := ctr.state.ForNewWork(); st != "" {
		err := cn.authenticateOn(ctx, st)
		if err == nil || rpc.Classify(err) != rpc.KindWrongStrategy {
			return err
		}
		ctr.state.Count("456", 1)
		ctr.state.InvalidateAt(st, "", sentAt(err))
		cn.met456++ // the operation around this counts it when it ends
	}
	dctx := ctx
	if t := ctr.cfg.StrategyDetectionTimeout; t > 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	var sid string
	st, ran, err := ctr.state.Detect(dctx, func(ctx context.Context, s string) error {
		id, err := cn.authOn(ctx, s)
		if err == nil {
			sid = id
		}
		return err
	}, func(err error) bool { return rpc.Classify(err) == rpc.KindWrongStrategy })
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && !ctxEnded(ctx) {
			return permanent{&Error{Op: "detect strategy", sentinel: ErrStrategyMismatch, cause: err,
				Message: fmt.Sprintf("no live strategy found within %v", ctr.cfg.StrategyDetectionTimeout)}}
		}
		if errors.Is(err, bluegreen.ErrNoStrategy) {
			return &Error{Op: "detect strategy", sentinel: ErrStrategyMismatch, Retryable: true,
				Message: "both blue and green answered 456"}
		}
		return err
	}
	if !ran {
		return cn.authenticateOn(ctx, st)
	}
	cn.sid, cn.strategy = sid, st
	return nil
}

// ensureSession makes sure the connection has a session on the stack new
// work must use (rule 5: sessions belong to a stack).
func (cn *conn) ensureSession(ctx context.Context) error {
	if cn.closed {
		return permanent{&Error{Op: "query", sentinel: ErrConnClosed}}
	}
	if cn.ctr.closed.Load() {
		cn.bad = true
		return permanent{&Error{Op: "query", sentinel: ErrConnClosed, Message: "connector closed"}}
	}
	want, _ := cn.ctr.state.ForNewWork()
	if cn.sid != "" && (want == "" || want == cn.strategy) {
		return nil
	}
	return cn.authenticate(ctx)
}

// Prepare returns a statement; e6data prepares and runs a statement in one
// go, so nothing is sent until it is executed.
func (cn *conn) Prepare(query string) (driver.Stmt, error) {
	return cn.PrepareContext(context.Background(), query)
}

func (cn *conn) PrepareContext(_ context.Context, query string) (driver.Stmt, error) {
	if cn.closed {
		return nil, &Error{Op: "prepare", sentinel: ErrConnClosed}
	}
	return &stmt{cn: cn, query: query}, nil
}

// Begin is not supported: e6data has no transactions.
func (cn *conn) Begin() (driver.Tx, error) { return nil, errNoTx }

func (cn *conn) BeginTx(context.Context, driver.TxOptions) (driver.Tx, error) { return nil, errNoTx }

var errNoTx = errors.New("e6data: transactions are not supported")

func (cn *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	opts, err := cn.queryOptions(args)
	if err != nil {
		return nil, err
	}
	return cn.query(ctx, query, opts)
}

func (cn *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	opts, err := cn.queryOptions(args)
	if err != nil {
		return nil, err
	}
	r, err := cn.query(ctx, query, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	n, err := r.drain()
	if err != nil {
		return nil, err
	}
	return result(n), nil
}

// result reports the number of rows the statement returned as rows affected
// (DML on e6data returns its count as a one-row result).
type result int64

func (r result) LastInsertId() (int64, error) {
	return 0, errors.New("e6data: LastInsertId is not supported")
}
func (r result) RowsAffected() (int64, error) { return int64(r), nil }

// Ping checks that the cluster answers and the session is usable.
func (cn *conn) Ping(ctx context.Context) error {
	if cn.closed {
		return driver.ErrBadConn
	}
	err := cn.withRecovery(ctx, "ping", "", true, func(ctx context.Context) error {
		if err := cn.ensureSession(ctx); err != nil {
			return err
		}
		var resp enginepb.GetCatalogesResponse
		return cn.ctr.rpc.Invoke(ctx, rpc.Call{Method: enginepb.QueryEngineService_GetCataloges_FullMethodName, Strategy: cn.strategy},
			&enginepb.GetCatalogesRequest{}, &resp)
	})
	if err != nil && cn.ctr.closed.Load() {
		return driver.ErrBadConn
	}
	return err
}

// ResetSession runs before a pooled connection is reused. A connection
// whose session was handed to another connection, or that is past the idle
// timeout or its lifetime, is refused: database/sql closes it and opens
// another.
func (cn *conn) ResetSession(context.Context) error {
	if cn.bad || cn.closed || cn.ctr.closed.Load() || !cn.ctr.pool.checkout(cn) {
		return driver.ErrBadConn
	}
	return nil
}

// IsValid tells database/sql whether to keep the connection in the pool;
// a connection it keeps is idle from then on (its session may be handed
// to a Connect waiting for a slot).
func (cn *conn) IsValid() bool {
	return !cn.bad && !cn.closed && !cn.ctr.closed.Load() && cn.ctr.pool.checkin(cn)
}

// Close ends the connection. e6data has no logout call; the server expires
// the session on its own.
func (cn *conn) Close() error {
	if cn.closed {
		return nil
	}
	cn.closed = true
	cn.ctr.pool.release(cn, !cn.bad && !cn.ownsConnector && !cn.ctr.closed.Load())
	if cn.ownsConnector {
		return cn.ctr.Close()
	}
	return nil
}

// CheckNamedValue accepts the connector's own value types and per-query
// settings; everything else goes through database/sql's default conversion.
func (cn *conn) CheckNamedValue(nv *driver.NamedValue) error {
	if nv.Name != "" {
		if _, ok := querySettings[strings.ToLower(nv.Name)]; ok {
			return nil
		}
		return fmt.Errorf("e6data: unknown named argument %q (parameters are positional '?'; known settings: %s)", nv.Name, settingNames())
	}
	switch v := nv.Value.(type) {
	case Decimal, int32, float32, uint64:
		return nil
	case uint:
		nv.Value = uint64(v)
		return nil
	case int:
		nv.Value = int64(v)
		return nil
	}
	return driver.ErrSkip
}
