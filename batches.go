package e6data

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"

	"github.com/e6go/e6data/internal/batches"
	"github.com/e6go/e6data/internal/wire"
)

// The batch seam: package e6arrow reads results a batch at a time through
// the driver connection's QueryBatches, which is the rows' own lifecycle
// (runOnce's recovery, fetch, prefetch, interrupted, Close) seen a batch
// at a time. The method's types live in an internal package, so it is not
// part of the public API.

var _ batches.Querier = (*conn)(nil)

// QueryBatches runs query like QueryContext and returns its result as a
// batch source. args are converted as database/sql would convert them.
func (cn *conn) QueryBatches(ctx context.Context, query string, args []any) (batches.Source, error) {
	if cn.closed {
		return nil, &Error{Op: "query", sentinel: ErrConnClosed}
	}
	named := make([]driver.NamedValue, 0, len(args))
	for i, a := range args {
		nv := driver.NamedValue{Ordinal: i + 1, Value: a}
		if na, ok := a.(sql.NamedArg); ok {
			nv.Name, nv.Value = na.Name, na.Value
		}
		switch err := cn.CheckNamedValue(&nv); err {
		case nil:
		case driver.ErrSkip:
			v, err := driver.DefaultParameterConverter.ConvertValue(nv.Value)
			if err != nil {
				return nil, fmt.Errorf("e6data: argument %d: %w", i+1, err)
			}
			nv.Value = v
		default:
			return nil, err
		}
		named = append(named, nv)
	}
	opts, err := cn.queryOptions(named)
	if err != nil {
		return nil, err
	}
	r, err := cn.query(ctx, query, opts, false)
	if err != nil {
		return nil, err
	}
	r.batched = true
	return batchRows{r}, nil
}

// batchRows is rows read a batch at a time.
type batchRows struct{ r *rows }

func (b batchRows) Columns() []batches.Column {
	cols := make([]batches.Column, len(b.r.cols))
	for i, c := range b.r.cols {
		cols[i] = batches.Column{Name: c.name, Type: c.typ, TypeName: c.typeName, Zone: c.zone, Scale: c.scale}
	}
	return cols
}

// Next delivers the rest of the current batch (all of it, as Next never
// mixes with row reads) and moves on as rows.Next does: a failure once the
// caller has a batch is final, ErrQueryInterrupted where a deployment
// change caused it.
func (b batchRows) Next() (*wire.Chunk, error) {
	r := b.r
	if r.err != nil {
		return nil, r.err
	}
	for r.pos >= int(r.chunk.Rows) {
		if r.done || r.closed {
			return nil, io.EOF
		}
		if err := r.fetch(r.ctx, r.fetchOp()); err != nil {
			r.err = r.interrupted(err)
			return nil, r.err
		}
	}
	r.delivered += int64(int(r.chunk.Rows) - r.pos)
	r.pos = int(r.chunk.Rows)
	return &r.chunk, nil
}

func (b batchRows) Close() error { return b.r.Close() }
