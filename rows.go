package e6data

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/e6go/e6data/internal/rpc"
	"github.com/e6go/e6data/internal/wire"
)

// rows streams a result batch by batch: only the current batch is held.
type rows struct {
	cn        *conn
	q         *query
	ctx       context.Context
	cancel    context.CancelFunc
	cols      []column
	names     []string
	chunk     wire.Chunk // the batch being scanned
	ahead     wire.Chunk // the next batch, when hasAhead (read ahead at the start)
	hasAhead  bool
	depth     int            // PrefetchDepth: batches fetched ahead in the background (0 = off)
	pf        *prefetcher    // the background fetch, once the rows are with the application
	strs      []batchStrings // per column, the current batch's strings copied out so far (see copyStrings)
	pos       int
	delivered int64
	done      bool
	closed    bool
	read      bool // the statement only reads (safe for the application to re-run)
	batched   bool // read a batch at a time (QueryBatches): no value is boxed (see recycle)
	err       error
}

var (
	_ driver.Rows                           = (*rows)(nil)
	_ driver.RowsColumnTypeScanType         = (*rows)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*rows)(nil)
	_ driver.RowsColumnTypeNullable         = (*rows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*rows)(nil)
)

func newRows(cn *conn, q *query, meta *wire.Metadata) *rows {
	r := &rows{cn: cn, q: q, cols: make([]column, len(meta.Fields)), names: make([]string, len(meta.Fields)),
		depth: cn.ctr.cfg.PrefetchDepth, strs: make([]batchStrings, len(meta.Fields))}
	for i, f := range meta.Fields {
		t, ok := wire.ParseVectorType(f.Type)
		if !ok {
			t = wire.VectorType(-1)
		}
		r.cols[i] = column{name: f.Name, typ: t, typeName: f.Type, zone: f.Zone, format: f.Format}
		r.names[i] = f.Name
	}
	return r
}

func (r *rows) Columns() []string { return r.names }

func (r *rows) Next(dest []driver.Value) error {
	if err := r.ready(); err != nil {
		return err
	}
	for i := range dest {
		if r.fastValue(i, r.pos, &dest[i]) {
			continue
		}
		v, err := valueAt(&r.cols[i], &r.chunk.Vectors[i], r.pos)
		if err != nil {
			r.err = err
			return err
		}
		dest[i] = v
	}
	r.pos++
	r.delivered++
	return nil
}

// ready makes r.pos a row of the current batch, fetching the next batch
// when this one is used up; io.EOF after the last row.
func (r *rows) ready() error {
	if r.err != nil {
		return r.err
	}
	for r.pos >= int(r.chunk.Rows) {
		if r.done || r.closed {
			return io.EOF
		}
		if err := r.fetch(r.ctx, r.fetchOp()); err != nil {
			r.err = r.interrupted(err)
			return r.err
		}
	}
	return nil
}

// interrupted turns a failure after rows were delivered into the error the
// application sees: never a silent re-run that would repeat rows. Only a
// query that is gone (its stack torn down, lost, the connection cut
// mid-stream) is ErrQueryInterrupted; a refusal that kept coming until the
// budget ran out is ErrRetriesExhausted with the refusal's sentinel.
func (r *rows) interrupted(err error) error {
	var f *failure
	spentOut := errors.As(err, &f) && f.spent
	var fe errFinal
	if errors.As(err, &fe) {
		err = fe.err
	} else if f != nil {
		err = f.err
	}
	e := newError("fetch", r.q.id, err)
	if spentOut {
		// The query is still there; its calls kept being refused.
		e.cause = fmt.Errorf("%w: %w", ErrRetriesExhausted, err)
		e.Rows, e.Retryable, e.Attempts = r.delivered, r.read, max(r.cn.ctr.cfg.MaxRetryAttempts, 1)
		return e
	}
	kind := rpc.Classify(err)
	if kind == rpc.KindWrongStrategy || kind == rpc.KindNotFound || transportFailure(err) {
		if r.cn.ctr.closed.Load() {
			return e
		}
		e = &Error{Op: "fetch", QueryID: r.q.id, Strategy: r.q.strategy, Rows: r.delivered, sentinel: ErrQueryInterrupted,
			cause: err, Code: e.Code, Message: e.Message, Retryable: r.read}
		r.cn.ctr.count(r.ctx, cInterrupted, 1, e)
		if kind == rpc.KindWrongStrategy {
			r.cn.ctr.count(r.ctx, cWrongStrategy, 1, e) // surfaced: rows were delivered, so no retry
		}
	}
	return e
}

// Close frees the query on the server: clearOrCancelQuery, preceded by a
// cancelQuery when the caller's context ended while it ran. Both go out on a
// detached context in the background, so Close returns at once.
func (r *rows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	// The caller's context ended while the query ran: a scan that failed
	// on it counts even if Close comes a moment before the context's own
	// timer fires (the server may give up on a propagated deadline first).
	interrupted := !r.done && (r.ctx != nil && r.ctx.Err() != nil ||
		errors.Is(r.err, context.DeadlineExceeded) || errors.Is(r.err, context.Canceled))
	switch {
	case r.err != nil:
		r.q.tel.finish(r.ctx, failedOutcome(r.ctx, r.err), r.err)
	case interrupted:
		r.q.tel.finish(r.ctx, outcomeCancelled, r.ctx.Err())
	default:
		r.q.tel.finish(r.ctx, outcomeOK, nil)
	}
	if r.cancel != nil {
		r.cancel()
	}
	r.stopPrefetch()
	r.cn.ctr.forget(r.q, r.q.sid, interrupted)
	return nil
}

func (r *rows) ColumnTypeScanType(i int) reflect.Type { return scanType(r.cols[i].typ) }

func (r *rows) ColumnTypeDatabaseTypeName(i int) string {
	if r.cols[i].typ >= 0 {
		return r.cols[i].typ.String()
	}
	return strings.ToUpper(r.cols[i].typeName)
}

// ColumnTypeNullable: e6data's metadata does not say; every column may hold NULL.
func (r *rows) ColumnTypeNullable(int) (nullable, ok bool) { return true, false }

func (r *rows) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	c := &r.cols[i]
	if c.typ != wire.Decimal128 {
		return 0, 0, false
	}
	if !c.haveScale {
		return 38, 0, false
	}
	return 38, int64(c.scale), true
}
