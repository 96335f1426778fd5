//go:build cgo

package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bindings "github.com/duckdb/duckdb-go-bindings"
	"github.com/duckdb/duckdb-go/v2/mapping"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/e6go/e6data/internal/enginepb"
	"github.com/e6go/e6data/internal/wire"
)

// Query states.
const (
	qPrepared  int32 = iota // validated, not executed
	qRunning                // executing or streaming; holds a connection
	qDone                   // every row produced; resources freed
	qFailed                 // execution failed; resources freed
	qCancelled              // cancelled; resources freed
)

// maxBatchBytes ends a batch early when its string data grows past this,
// so that rows with huge values never make one enormous message.
const maxBatchBytes = 32 << 20

// query is one prepared statement and, once executed, its streaming result.
type query struct {
	id, user        string
	sql             string // the client's SQL, one trailing ';' removed
	catalog, schema string
	nparams         int
	paramTypes      []string
	chunkRows       int
	// setTimeZone is the session TimeZone a SET TimeZone statement sets
	// when it executes ("" for any other statement).
	setTimeZone string

	ctx    context.Context // cancelled with a cause by cancel/clear/reclaim/reset
	cancel context.CancelCauseFunc

	lastTouch atomic.Int64 // unix nanoseconds of the last call
	busy      atomic.Int32 // calls in progress
	state     atomic.Int32
	rows      atomic.Int64 // rows produced so far
	fields    atomic.Pointer[[]wire.Field]

	// mu serialises execution and fetching and guards everything below.
	mu      sync.Mutex
	cn      *conn
	stmt    mapping.PreparedStatement
	res     mapping.Result
	hasRes  bool
	chunk   mapping.DataChunk
	chSize  int
	chOff   int
	batch   *batch
	wchunk  wire.Chunk
	lastOut int
	failure error                      // status returned by calls after a failure
	params  []*enginepb.ParameterValue // last bound parameters (for explain)
	// callEnded says the execution failed because the call running it
	// ended (the client gave up mid-call): the query had not finished.
	callEnded bool
	// cancelledFrom is the state the query was in when it was cancelled.
	cancelledFrom int32
	// aborted is set by the first abort, the only one that reports what it
	// stopped.
	aborted bool
}

func (q *query) touch() { q.lastTouch.Store(time.Now().UnixNano()) }

// stripSQL trims white space and one trailing ';'.
func stripSQL(sql string) (string, error) {
	if len(sql) > maxSQLBytes {
		return "", status.Errorf(codes.InvalidArgument, "query string is %d bytes; the limit is %d", len(sql), maxSQLBytes)
	}
	s := strings.TrimSpace(sql)
	s = strings.TrimSpace(strings.TrimSuffix(s, ";"))
	if s == "" {
		return "", status.Error(codes.InvalidArgument, "empty query string")
	}
	return s, nil
}

// prepareInfo is what validating a statement tells about it.
type prepareInfo struct {
	plan       []colPlan
	paramTypes []string
	stmtType   mapping.StatementType
}

// describe validates sql on cn and describes its columns and parameters.
func describe(ctx context.Context, cn *conn, sql string) (*prepareInfo, error) {
	defer cn.interruptOn(ctx)()
	var st mapping.PreparedStatement
	defer mapping.DestroyPrepare(&st)
	if mapping.Prepare(cn.c, sql, &st) == mapping.StateError {
		return nil, &duckError{typ: mapping.ErrorTypeParser, msg: mapping.PrepareError(st)}
	}
	info := &prepareInfo{stmtType: mapping.PreparedStatementType(st)}
	info.plan = preparedPlan(st)
	n := int(mapping.NParams(st))
	for i := 1; i <= n; i++ {
		lt := mapping.ParamLogicalType(st, mapping.IdxT(i))
		name := "UNKNOWN"
		if lt.Ptr != nil {
			if p := planType(lt); p.kind != kUnknown {
				name = p.wt.String()
			}
			mapping.DestroyLogicalType(&lt)
		}
		info.paramTypes = append(info.paramTypes, name)
	}
	return info, nil
}

func preparedPlan(st mapping.PreparedStatement) []colPlan {
	n := int(mapping.PreparedStatementColumnCount(st))
	plan := make([]colPlan, n)
	for i := range plan {
		lt := mapping.PreparedStatementColumnLogicalType(st, mapping.IdxT(i))
		plan[i] = planType(lt)
		mapping.DestroyLogicalType(&lt)
		plan[i].name = mapping.PreparedStatementColumnName(st, mapping.IdxT(i))
	}
	return plan
}

// execute (re)starts the query. It returns once the result is streaming:
// for a pipeline that can stream that is immediate; a query that must finish
// a blocking operator first (an aggregate, a sort) runs until it has.
func (q *query) execute(ctx context.Context, db *DB, tz string, params []*enginepb.ParameterValue) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.ctx.Err(); err != nil {
		q.freeLocked(qCancelled)
		return cancelStatus(context.Cause(q.ctx))
	}
	q.freeLocked(qPrepared) // a re-execution starts over
	q.rows.Store(0)
	q.failure = nil
	q.callEnded = false
	cn, err := db.connect(q.catalog, q.schema, tz)
	if err != nil {
		return sqlStatus(err)
	}
	q.cn = cn
	q.state.Store(qRunning)
	stop1, stop2 := cn.interruptOn(q.ctx), cn.interruptOn(ctx)
	plan, err := q.start(params)
	stop2()
	stop1()
	err = interrupted(err, q.ctx, ctx)
	if err != nil {
		return q.failLocked(ctx, err)
	}
	q.params = params
	fields := make([]wire.Field, len(plan))
	for i, p := range plan {
		fields[i] = wire.Field{Name: p.name, Type: p.wt.String()}
		if p.wt == wire.TimestampTZ {
			fields[i].Zone = tz
		}
	}
	q.fields.Store(&fields)
	q.batch = newBatch(plan, tz)
	return nil
}

// start prepares (wrapping the query to cast odd types to VARCHAR), binds
// and starts a streaming execution. Called with mu held and q.cn set.
func (q *query) start(params []*enginepb.ParameterValue) ([]colPlan, error) {
	if err := q.prepareLocked(q.sql); err != nil {
		return nil, err
	}
	if mapping.PreparedStatementType(q.stmt) != mapping.StatementTypeSelect {
		// It may change the connection's state (USE, SET, BEGIN, ...).
		q.cn.taint()
	}
	base := preparedPlan(q.stmt)
	for attempt := 0; attempt < 2; attempt++ {
		wrapped := needsCast(base)
		if wrapped {
			mapping.DestroyPrepare(&q.stmt)
			if err := q.prepareLocked(wrapSQL(q.sql, base)); err != nil {
				return nil, fmt.Errorf("cannot convert the result's column types for the wire: %w", err)
			}
		}
		if err := bindParams(q.stmt, params); err != nil {
			return nil, err
		}
		if err := q.runLocked(); err != nil {
			return nil, err
		}
		plan, retry := resultPlan(&q.res, base, wrapped)
		if !retry {
			return plan, nil
		}
		// A column whose type was unknown before binding turned out to
		// need a cast: run again, wrapped.
		mapping.DestroyResult(&q.res)
		q.hasRes = false
		base = plan
	}
	return nil, errors.New("cannot convert the result's column types for the wire")
}

func needsCast(plan []colPlan) bool {
	for _, p := range plan {
		if p.cast {
			return true
		}
	}
	return false
}

// resultPlan derives the wire plan from the result's column types. base
// is the plan the statement was prepared with and wrapped says whether its
// cast columns were wrapped in CAST(... AS VARCHAR). retry reports a column
// that still needs a cast; the returned plan then marks it.
func resultPlan(res *mapping.Result, base []colPlan, wrapped bool) (plan []colPlan, retry bool) {
	n := int(mapping.ColumnCount(res))
	plan = make([]colPlan, n)
	for i := range plan {
		lt := mapping.ColumnLogicalType(res, mapping.IdxT(i))
		p := planType(lt)
		mapping.DestroyLogicalType(&lt)
		switch {
		case wrapped && i < len(base) && base[i].cast:
			p = colPlan{name: base[i].name, wt: base[i].wt, kind: kVarchar, cast: true}
		case wrapped && i < len(base):
			p.name = base[i].name
		default:
			p.name = mapping.ColumnName(res, mapping.IdxT(i))
		}
		if p.kind == kText || p.kind == kUnknown {
			p.cast, retry = true, true
		}
		plan[i] = p
	}
	return plan, retry
}

func (q *query) prepareLocked(sql string) error {
	if mapping.Prepare(q.cn.c, sql, &q.stmt) == mapping.StateError {
		err := &duckError{typ: mapping.ErrorTypeParser, msg: mapping.PrepareError(q.stmt)}
		mapping.DestroyPrepare(&q.stmt)
		return err
	}
	return nil
}

// runLocked executes the prepared statement as a streaming result.
func (q *query) runLocked() error {
	var pending mapping.PendingResult
	// The streaming variant is what keeps a big result out of memory:
	// chunks are computed as FetchChunk asks for them.
	if bindings.PendingPreparedStreaming(q.stmt, &pending) == mapping.StateError {
		err := &duckError{msg: mapping.PendingError(pending)}
		mapping.DestroyPending(&pending)
		return err
	}
	defer mapping.DestroyPending(&pending)
	if mapping.ExecutePending(pending, &q.res) == mapping.StateError {
		err := resultError(&q.res)
		mapping.DestroyResult(&q.res)
		return err
	}
	q.hasRes = true
	return nil
}

// fetch produces the next batch: up to chunkRows rows as Thrift Chunk bytes,
// or nil at the end (and after it).
func (q *query) fetch(ctx context.Context) ([]byte, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch q.state.Load() {
	case qPrepared:
		return nil, status.Errorf(codes.FailedPrecondition, "query %q has not been executed", q.id)
	case qDone:
		return nil, nil
	case qFailed:
		return nil, q.failure
	case qCancelled:
		return nil, cancelStatus(context.Cause(q.ctx))
	}
	if q.ctx.Err() != nil {
		q.freeLocked(qCancelled)
		return nil, cancelStatus(context.Cause(q.ctx))
	}
	stop1, stop2 := q.cn.interruptOn(q.ctx), q.cn.interruptOn(ctx)
	b := q.batch
	b.reset()
	var err error
	eof := false
	for b.rows < q.chunkRows && b.bytes() < maxBatchBytes {
		if q.chunk.Ptr == nil {
			ch := mapping.FetchChunk(q.res)
			if ch.Ptr == nil {
				if mapping.ResultError(&q.res) != "" {
					err = resultError(&q.res)
				}
				eof = true
				break
			}
			q.chunk, q.chOff, q.chSize = ch, 0, int(mapping.DataChunkGetSize(ch))
		}
		n := min(q.chSize-q.chOff, q.chunkRows-b.rows)
		n = b.fit(q.chunk, q.chSize, q.chOff, n, maxBatchBytes-b.bytes())
		b.appendChunk(q.chunk, q.chSize, q.chOff, n)
		q.chOff += n
		if q.chOff >= q.chSize {
			mapping.DestroyDataChunk(&q.chunk)
		}
	}
	stop2()
	stop1()
	if err == nil {
		err = b.err() // a value with no wire form
	}
	if err = interrupted(err, q.ctx, ctx); err != nil {
		return nil, q.failLocked(ctx, err)
	}
	if b.rows == 0 {
		q.freeLocked(qDone)
		return nil, nil
	}
	rows := b.rows
	b.finish(&q.wchunk)
	out, err := wire.AppendChunk(make([]byte, 0, q.lastOut+q.lastOut/8), &q.wchunk)
	b.reset()
	if err != nil {
		return nil, q.failLocked(ctx, fmt.Errorf("encoding result batch: %w", err))
	}
	q.lastOut = len(out)
	q.rows.Add(int64(rows))
	if eof {
		// Release the connection now; the next call returns the end.
		q.freeLocked(qDone)
	}
	return out, nil
}

// interrupted returns err, or when the query or the call ended during a
// DuckDB call, the reason. Such an end may have interrupted the connection
// even if the call itself succeeded, leaving DuckDB's interrupt flag set for
// the rest of the result (and a batch produced for a call that is gone is
// lost anyway), so the execution cannot go on.
func interrupted(err error, queryCtx, callCtx context.Context) error {
	if err != nil {
		return err
	}
	if queryCtx.Err() != nil {
		return context.Cause(queryCtx)
	}
	return callCtx.Err()
}

// failLocked records why the execution ended and frees its resources. A
// cancellation of the query (or of the call) wins over the error DuckDB
// reports for the interrupt.
func (q *query) failLocked(ctx context.Context, err error) error {
	if q.ctx.Err() != nil {
		q.freeLocked(qCancelled)
		return cancelStatus(context.Cause(q.ctx))
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("query interrupted: the call was cancelled by the client (%w)", ctx.Err())
		q.failure = status.Error(codes.Canceled, err.Error())
		q.callEnded = true
	} else {
		q.failure = sqlStatus(err)
	}
	q.freeLocked(qFailed)
	return q.failure
}

// freeLocked releases the DuckDB resources and moves to state st (a final
// state is kept: done/failed/cancelled never turn into one another).
func (q *query) freeLocked(st int32) {
	if q.chunk.Ptr != nil {
		mapping.DestroyDataChunk(&q.chunk)
	}
	if q.hasRes {
		mapping.DestroyResult(&q.res)
		q.hasRes = false
	}
	if q.stmt.Ptr != nil {
		mapping.DestroyPrepare(&q.stmt)
	}
	if q.cn != nil {
		if st == qDone {
			q.cn.release() // reused unless tainted or interrupted
		} else {
			q.cn.close() // stopped mid-result, or failed
		}
		q.cn = nil
	}
	q.batch = nil
	if cur := q.state.Load(); cur == qPrepared || cur == qRunning || st == qPrepared {
		if st == qCancelled {
			q.cancelledFrom = cur
		}
		q.state.Store(st)
	}
}

// abort cancels the query with cause and frees it, waiting for a call in
// progress to notice (it is interrupted). It returns what the cancellation
// stopped: qPrepared for a query never executed, qRunning for one executing
// or streaming (including one whose execution was interrupted because its
// call ended, which had not finished either), qDone or qFailed for one that
// had already ended, and qCancelled when an earlier abort came first, so
// that a query is reported stopped at most once (cancelQuery followed by
// clearOrCancelQuery, or both at once).
//
// The answer is read under mu after the cancellation, once an interrupted
// call has recorded how it ended: reading the state before cancelling would
// race with that call and with a concurrent abort.
func (q *query) abort(cause error) int32 {
	q.cancel(cause)
	q.mu.Lock()
	defer q.mu.Unlock()
	q.freeLocked(qCancelled)
	if q.aborted {
		return qCancelled
	}
	q.aborted = true
	switch st := q.state.Load(); {
	case st == qCancelled:
		return q.cancelledFrom
	case st == qFailed && q.callEnded:
		return qRunning
	default:
		return st
	}
}

// alive reports what status answers: not failed and not cancelled.
func (q *query) alive() bool {
	st := q.state.Load()
	return st == qPrepared || st == qRunning || st == qDone
}

// metadata encodes the result metadata; RowCount is -1 until every row has
// been produced, then the total.
func (q *query) metadata() ([]byte, error) {
	f := q.fields.Load()
	if f == nil {
		return nil, status.Errorf(codes.FailedPrecondition, "query %q has not been executed", q.id)
	}
	rc := int64(-1)
	if q.state.Load() == qDone {
		rc = q.rows.Load()
	}
	b, err := wire.AppendMetadata(nil, &wire.Metadata{RowCount: rc, Fields: *f})
	if err != nil {
		return nil, status.Errorf(codes.Internal, "encoding result metadata: %v", err)
	}
	return b, nil
}
