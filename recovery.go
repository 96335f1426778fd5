package e6data

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"google.golang.org/grpc/status"

	"github.com/e6go/e6data/internal/bluegreen"
	"github.com/e6go/e6data/internal/rpc"
)

// The recovery engine. Every application call (a query, an Exec, a ping,
// a status) runs as an op: attempts of one function that report, when they
// fail, how far they got (the stage) and the error of the call that failed.
// From that record and the statement's class (read or write), judge
// decides, in this one place, whether the work is run again from the start
// (a new session if needed, prepare, execute), whether the error surfaces,
// or whether the application is told that the statement's outcome is
// unknown. Calls refused before routing on a query that still exists are
// sent again on that query by resend, which spends the same budget.
//
// What a failed call may have done:
//   - the gateway's refusals (456, 503, Access denied) were never routed
//     to an engine: nothing ran;
//   - an engine's answer that the query does not exist, to an execute:
//     nothing ran;
//   - anything else once the request may have reached the engine
//     (UNAVAILABLE, a reset, a deadline, an unexpected failure) leaves the
//     outcome unknown: a read is run again, a write is never sent again.

// stage is how far an attempt got when it failed.
type stage uint8

const (
	stageSession stage = iota // authenticating: nothing of the statement was sent
	stagePrepare              // preparing (or a call that runs nothing): the engine registers the query and runs nothing
	stageExecute              // the execute call was sent and failed
	stageResult               // execute answered: the statement ran; its result was being read
	stageQuery                // a call about an existing query by ID (status, cancel)
)

// failure is what a failed attempt reports: the error of the call that
// failed, the stage, the query involved (nil before prepare) and whether
// the attempt budget ran out while re-sending the call.
type failure struct {
	err   error
	stage stage
	q     *query
	spent bool
}

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// failAt records err as the failure of an attempt at stage st. An error
// that already is a failure keeps its record.
func failAt(st stage, q *query, err error) error {
	if err == nil {
		return nil
	}
	var f *failure
	if errors.As(err, &f) {
		return err
	}
	return &failure{err: err, stage: st, q: q}
}

// op is one application call under recovery: its one attempt budget
// (MaxRetryAttempts, every re-run and every re-sent call included) and
// what its calls met.
type op struct {
	name    string
	read    bool      // the statement only reads: running it again is safe whatever happened
	tel     *queryTel // the query's telemetry (nil for calls that are not queries)
	max     int
	attempt int    // attempts made, the current one included
	n456    int64  // 456 answers met
	stale   string // a strategy that answered 456
	queryID string // the query of the current attempt
	backoff rpc.Backoff
}

func (cn *conn) newOp(name string, read bool, tel *queryTel) *op {
	cfg := cn.ctr.cfg
	return &op{name: name, read: read, tel: tel, max: max(cfg.MaxRetryAttempts, 1), attempt: 1,
		backoff: rpc.Backoff{Base: cfg.RetryBackoff, Max: 10 * time.Second}}
}

// spend takes one more attempt from the budget; false when none is left.
func (o *op) spend() bool {
	if o.attempt >= o.max {
		return false
	}
	o.attempt++
	return true
}

// verdict is what judge decides about a failed attempt.
type verdict uint8

const (
	surface  verdict = iota // the error goes to the application
	rerun                   // repair the cause and run the work again from its start
	unknown                 // a write whose outcome is unknown: ErrOutcomeUnknown
	canceled                // the caller's context ended
	closed                  // the connector was closed
	spent                   // the budget ran out
)

// isFinal reports whether err is one no attempt can change.
func isFinal(err error) bool {
	var f errFinal
	return errors.As(err, &f)
}

// transportFailure reports whether err is a failure of the connection
// rather than an answer: UNAVAILABLE, or an error that is no gRPC status
// at all (an EOF, a reset).
func transportFailure(err error) bool {
	switch rpc.Classify(err) {
	case rpc.KindTransient:
		return true
	case rpc.KindOther:
		var re *rpc.Error
		if errors.As(err, &re) {
			_, isStatus := status.FromError(re.Err)
			return !isStatus
		}
	}
	return false
}

// notRun reports whether the connector knows that the statement did not
// run: the attempt failed before execute, or the execute was refused
// before routing, or the engine did not know the query, or it answered
// that it rejected the statement.
func notRun(f *failure) bool {
	switch f.stage {
	case stageSession, stagePrepare:
		return true
	case stageExecute:
		switch rpc.Classify(f.err) {
		case rpc.KindWrongStrategy, rpc.KindClusterUnavailable, rpc.KindAccessDenied, rpc.KindNotFound,
			rpc.KindInvalid, rpc.KindResourceExhausted, rpc.KindUnimplemented, rpc.KindUnauthenticated, rpc.KindTLS:
			return true
		}
	}
	return false
}

// statementTouched reports whether the failure leaves a statement that may
// have run: the execute was sent and nothing says it did not run.
func statementTouched(f *failure) bool {
	return (f.stage == stageExecute || f.stage == stageResult) && !notRun(f)
}

// judge decides what follows a failed attempt.
func (cn *conn) judge(ctx context.Context, o *op, f *failure) verdict {
	switch {
	case cn.life.Err() != nil && ctx.Err() == nil:
		return closed
	case ctxEnded(ctx):
		return canceled
	case isFinal(f.err):
		return surface
	case f.spent:
		if !o.read && statementTouched(f) {
			return unknown
		}
		return spent
	}
	kind := rpc.Classify(f.err)
	switch f.stage {
	case stageSession, stagePrepare:
		switch kind {
		case rpc.KindWrongStrategy, rpc.KindClusterUnavailable, rpc.KindAccessDenied, rpc.KindTransient:
			return rerun
		}
		if transportFailure(f.err) {
			return rerun
		}
	case stageExecute:
		switch {
		case notRun(f):
			switch kind {
			case rpc.KindWrongStrategy, rpc.KindClusterUnavailable, rpc.KindAccessDenied, rpc.KindNotFound:
				return rerun
			}
		case transportFailure(f.err), kind == rpc.KindDeadline:
			if o.read {
				return rerun
			}
			return unknown
		case !o.read:
			return unknown // an answer no one can read as "did not run"
		}
	case stageResult:
		// Refusals of a call on a live query were sent again by resend;
		// what reaches here is a query that is gone or an answer lost.
		switch {
		case kind == rpc.KindWrongStrategy, kind == rpc.KindNotFound, kind == rpc.KindAccessDenied,
			kind == rpc.KindClusterUnavailable, kind == rpc.KindDeadline, transportFailure(f.err):
			if o.read {
				return rerun
			}
			return unknown
		case !o.read:
			return unknown
		}
	case stageQuery:
		if kind == rpc.KindTransient || transportFailure(f.err) {
			return rerun
		}
	}
	return surface
}

// run runs attempt until it succeeds or judge says stop, within o's budget.
func (cn *conn) run(ctx context.Context, o *op, attempt func(ctx context.Context) error) (result error) {
	defer func() { cn.ctr.count(ctx, cWrongStrategy, o.n456, result) }()
	for {
		err := attempt(ctx)
		if err == nil {
			if o.attempt > 1 {
				cn.ctr.count(ctx, cRecovery, 1, nil)
			}
			if o.stale != "" {
				cn.ctr.state.Record(bluegreen.Event{Type: bluegreen.Recovered456, From: o.stale, To: cn.strategy, QueryID: o.queryID})
			}
			return nil
		}
		var f *failure
		if !errors.As(err, &f) {
			f = &failure{err: err, stage: stageSession}
		}
		if rpc.Classify(f.err) == rpc.KindWrongStrategy && !isFinal(f.err) {
			o.n456++
			if o.stale = strategyOf(f.err); o.stale == "" {
				o.stale = cn.strategy
			}
		}
		switch cn.judge(ctx, o, f) {
		case surface:
			return cn.surfaced(o, f)
		case unknown:
			return o.outcomeUnknown(f)
		case canceled:
			return o.cancelled(ctx, f)
		case closed:
			return o.connClosed(f)
		case spent:
			return o.exhausted(f)
		}
		if !o.spend() {
			return o.exhausted(f)
		}
		took := time.Now()
		if rerr := cn.repair(ctx, o, f); rerr != nil {
			return rerr
		}
		if err := cn.pause(ctx, o, f.err, "rerun", time.Since(took)); err != nil {
			return err
		}
	}
}

// repair acts on the cause of a failure before the work runs again.
func (cn *conn) repair(ctx context.Context, o *op, f *failure) error {
	strategy := strategyOf(f.err)
	kind := rpc.Classify(f.err)
	if kind == rpc.KindNotFound || f.stage == stageResult && kind == rpc.KindWrongStrategy {
		// The stack lost the query; if it was torn down, the session
		// went with it: a fresh one costs less than an attempt.
		cn.ctr.count(ctx, cLostQuery, 1, nil)
		if cn.strategy == strategy {
			cn.sid = ""
		}
	}
	switch kind {
	case rpc.KindWrongStrategy:
		if strategy != "" {
			// Ignored if the strategy went live again (a new deployment
			// of that stack) after the failed call was sent.
			cn.ctr.state.InvalidateAt(strategy, "", sentAt(f.err))
		}
		if cn.strategy == strategy || strategy == "" {
			cn.sid = ""
		}
	case rpc.KindAccessDenied:
		cn.logReauth(ctx, strategy, o)
		cn.sid = ""
	case rpc.KindClusterUnavailable:
		if err := cn.resumeCluster(ctx, o, f); err != nil {
			return err
		}
		cn.sid = ""
	}
	return nil
}

// resumeCluster resumes a suspended cluster for o (rule 8), ending with
// the connector.
func (cn *conn) resumeCluster(ctx context.Context, o *op, f *failure) error {
	if !cn.ctr.cfg.AutoResume {
		return cn.surfaced(o, f)
	}
	rctx, stop := cn.untilClosed(ctx)
	rerr := cn.ctr.resume(rctx)
	stop()
	if rerr == nil {
		return nil
	}
	switch {
	case cn.life.Err() != nil && ctx.Err() == nil:
		return o.connClosed(f)
	case ctxEnded(ctx):
		return o.cancelled(ctx, f)
	}
	cn.ctr.log.Warn("auto-resume failed", "error", rerr)
	e := o.errorOf(f)
	msg := rerr.Error()
	var re *Error
	if errors.As(rerr, &re) && re.Message != "" {
		msg = re.Message
	}
	e.Message = "auto-resume failed: " + msg
	e.cause = errors.Join(rerr, f.err)
	return e
}

// untilClosed returns ctx ending also when the connector closes.
func (cn *conn) untilClosed(ctx context.Context) (context.Context, func()) {
	c, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(cn.life, cancel)
	return c, func() { stop(); cancel() }
}

// pause logs and records a retry of o after err and waits the backoff,
// ending early with the caller's context or the connector.
func (cn *conn) pause(ctx context.Context, o *op, err error, how string, repairTook time.Duration) error {
	kind := rpc.Classify(err)
	d := o.backoff.Delay(o.attempt - 2)
	reason := kind.String()
	if kind == rpc.KindNotFound {
		reason = "query_lost"
	}
	o.tel.retry(reason, o.attempt-1, retryAttrs(kind, o.stale, repairTook)...)
	attrs := []any{"operation", o.name, "attempt", o.attempt, "reason", reason, "backoff", d, "how", how,
		"strategy", strategyOf(err), "query_id", o.queryID}
	if kind == rpc.KindWrongStrategy {
		attrs = append(attrs, "transition_type", bluegreen.Recovered456)
	}
	cn.ctr.log.Debug("retrying", attrs...)
	if d <= 0 {
		if cn.life.Err() != nil {
			return o.connClosed(&failure{err: err})
		}
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return o.cancelled(ctx, &failure{err: err})
	case <-cn.life.Done():
		return o.connClosed(&failure{err: err})
	}
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

// resend sends a call about the existing query q (send reads q.sid) and,
// while the gateway refuses it before routing (503, Access denied),
// resumes the cluster or re-authenticates on q's own stack and sends the
// same call again, under o's budget. The query is not run again: the
// refused call never reached it. first, when not nil, is the refusal of a
// call already made (the prefetch goroutine's). Every other failure comes
// back as a failure at st.
func (cn *conn) resend(ctx context.Context, o *op, q *query, st stage, first error, send func(ctx context.Context) error) error {
	err := first
	if err == nil {
		err = send(ctx)
	}
	for err != nil {
		kind := rpc.Classify(err)
		if isFinal(err) || kind != rpc.KindAccessDenied && kind != rpc.KindClusterUnavailable || ctxEnded(ctx) || cn.life.Err() != nil {
			return failAt(st, q, err)
		}
		if !o.spend() {
			return &failure{err: err, stage: st, q: q, spent: true}
		}
		took := time.Now()
		switch kind {
		case rpc.KindAccessDenied:
			sid, aerr := cn.sessionFor(ctx, q.strategy, q.sid, o)
			if aerr != nil {
				return failAt(st, q, aerr)
			}
			q.sid = sid
		case rpc.KindClusterUnavailable:
			if rerr := cn.resumeCluster(ctx, o, &failure{err: err, stage: st, q: q}); rerr != nil {
				return errFinal{rerr}
			}
		}
		if perr := cn.pause(ctx, o, err, "resend", time.Since(took)); perr != nil {
			return errFinal{perr}
		}
		err = send(ctx)
	}
	return nil
}

// strategyOf is the stack the failed call behind err went to.
func strategyOf(err error) string {
	var re *rpc.Error
	if errors.As(err, &re) {
		return re.Strategy
	}
	return ""
}

// sentAt is when the failed call behind err was sent (zero if unknown).
func sentAt(err error) time.Time {
	var re *rpc.Error
	if errors.As(err, &re) {
		return re.Sent
	}
	return time.Time{}
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

// queryIDOf is the ID of the failure's query, or the op's.
func (o *op) queryIDOf(f *failure) string {
	if f.q != nil && f.q.id != "" {
		return f.q.id
	}
	return o.queryID
}

// errorOf is the *Error for f, with Retryable exact: true only when the
// connector knows the statement did not run, or it only reads.
func (o *op) errorOf(f *failure) *Error {
	err := f.err
	var fe errFinal
	if errors.As(err, &fe) {
		err = fe.err
	}
	e := newError(o.name, o.queryIDOf(f), err)
	if e.QueryID == "" {
		e.QueryID = o.queryIDOf(f)
	}
	if e.Attempts == 0 && o.attempt > 1 {
		e.Attempts = o.attempt
	}
	if statementTouched(f) && !o.read {
		e.Retryable, e.unknown = false, true
	}
	return e
}

// surfaced is the error of a failure no retry can help.
func (cn *conn) surfaced(o *op, f *failure) error {
	e := o.errorOf(f)
	if e.Retryable && !o.read && !notRun(f) {
		e.Retryable = false
	}
	return e
}

// exhausted is the error when the budget ran out.
func (o *op) exhausted(f *failure) error {
	inner := o.errorOf(f)
	e := &Error{Op: o.name, QueryID: inner.QueryID, cause: fmt.Errorf("%w: %w", ErrRetriesExhausted, f.err),
		sentinel: inner.sentinel, Code: inner.Code, Message: inner.Message, Strategy: inner.Strategy,
		Attempts: o.attempt, unknown: inner.unknown}
	if e.sentinel == nil {
		e.sentinel = ErrRetriesExhausted
	}
	e.Retryable = (o.read || notRun(f)) && !e.unknown
	return e
}

// outcomeUnknown is the error of a write that may or may not have run.
func (o *op) outcomeUnknown(f *failure) error {
	inner := o.errorOf(f)
	msg := inner.Message
	if msg == "" {
		msg = f.err.Error()
	}
	return &Error{Op: o.name, QueryID: inner.QueryID, Strategy: inner.Strategy, Code: inner.Code,
		sentinel: ErrOutcomeUnknown, cause: f.err, Message: msg, Attempts: inner.Attempts}
}

// cancelled is the error when the caller's context ended during o: it
// matches ErrQueryCancelled and the context's error, never the kind of the
// failure being recovered from.
func (o *op) cancelled(ctx context.Context, f *failure) error {
	cause := ctx.Err()
	if cause == nil {
		cause = context.DeadlineExceeded // its deadline has passed, its timer not yet fired
	}
	e := &Error{Op: o.name, QueryID: o.queryIDOf(f), sentinel: ErrQueryCancelled, cause: cause,
		Message: cause.Error(), Attempts: o.attempt}
	if f.err != nil && rpc.Classify(f.err) != rpc.KindCanceled && rpc.Classify(f.err) != rpc.KindDeadline {
		e.Message = fmt.Sprintf("%v (while recovering from: %v)", cause, f.err)
	}
	e.unknown = !o.read && statementTouched(f)
	return e
}

// connClosed is the error when the connector closed during o.
func (o *op) connClosed(f *failure) error {
	e := &Error{Op: o.name, QueryID: o.queryIDOf(f), sentinel: ErrConnClosed, Message: "connector closed", Attempts: o.attempt}
	e.unknown = !o.read && statementTouched(f)
	return e
}
