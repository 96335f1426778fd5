package e6arrow

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/e6go/e6data/internal/batches"
)

// ErrNotE6data is returned for a connection of another driver.
var ErrNotE6data = errors.New("e6arrow: not an e6data connection")

// Query runs query on a connection of db and returns its result as Arrow
// records. The connection is held until the reader reaches the end, fails,
// or is released, then returned to db's pool. args are the query's
// parameters and settings, as for db.QueryContext.
func Query(ctx context.Context, db *sql.DB, query string, args ...any) (array.RecordReader, error) {
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	r, err := start(ctx, rawLock(c), query, args)
	if err != nil {
		c.Close()
		return nil, err
	}
	r.after = c.Close
	return r, nil
}

// QueryConn is Query on a connection the caller holds. The caller must not
// use c for anything else until the reader is done (end, error or release).
func QueryConn(ctx context.Context, c *sql.Conn, query string, args ...any) (array.RecordReader, error) {
	r, err := start(ctx, rawLock(c), query, args)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// QueryDriverConn is Query on a connection made by the connector directly
// (e6data.Connector.Connect), without database/sql. Like every driver
// connection it must be used by one goroutine at a time, and for nothing
// else until the reader is done.
func QueryDriverConn(ctx context.Context, c driver.Conn, query string, args ...any) (array.RecordReader, error) {
	q, ok := c.(batches.Querier)
	if !ok {
		return nil, fmt.Errorf("%w (%T)", ErrNotE6data, c)
	}
	lock := func(f func(batches.Querier) error) error { return f(q) }
	r, err := start(ctx, lock, query, args)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// lockFunc runs f with the connection to itself.
type lockFunc func(f func(batches.Querier) error) error

// rawLock reaches the driver connection of c through Raw, which holds it
// for the call: the reader uses it inside Raw only, a batch at a time.
func rawLock(c *sql.Conn) lockFunc {
	return func(f func(batches.Querier) error) error {
		return c.Raw(func(dc any) error {
			q, ok := dc.(batches.Querier)
			if !ok {
				return fmt.Errorf("%w (%T)", ErrNotE6data, dc)
			}
			return f(q)
		})
	}
}

func start(ctx context.Context, lock lockFunc, query string, args []any) (*reader, error) {
	var src batches.Source
	err := lock(func(q batches.Querier) error {
		var err error
		src, err = q.QueryBatches(ctx, query, args)
		return err
	})
	if err != nil {
		return nil, err
	}
	b, err := newBuilder(src.Columns())
	if err != nil {
		_ = lock(func(batches.Querier) error { return src.Close() })
		return nil, err
	}
	r := &reader{b: b, lock: lock, src: src}
	r.refs.Store(1)
	return r, nil
}

// reader is the array.RecordReader of one query.
type reader struct {
	refs  atomic.Int64
	b     *builder
	lock  lockFunc
	src   batches.Source // nil once closed
	after func() error   // run once the query is closed (returns a pooled connection)
	cur   arrow.RecordBatch
	err   error
}

var _ array.RecordReader = (*reader)(nil)

func (r *reader) Schema() *arrow.Schema { return r.b.schema }

func (r *reader) Retain() { r.refs.Add(1) }

// Release drops a reference; the last one releases the current record and
// ends the query (freeing it on the server) if it has not ended yet.
func (r *reader) Release() {
	if r.refs.Add(-1) != 0 {
		return
	}
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	r.close()
}

// Next moves to the next record; false at the end or on an error (Err).
func (r *reader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.src == nil {
		return false
	}
	var rec arrow.RecordBatch
	err := r.lock(func(batches.Querier) error {
		c, err := r.src.Next()
		if err != nil {
			return err
		}
		rec, err = r.b.record(c)
		return err
	})
	if err != nil {
		if !errors.Is(err, io.EOF) {
			r.err = err
		}
		r.close()
		return false
	}
	r.cur = rec
	return true
}

// RecordBatch returns the current record, valid until the next call of Next
// (Retain it to keep it longer).
func (r *reader) RecordBatch() arrow.RecordBatch { return r.cur }

// Record returns the current record.
//
// Deprecated: use RecordBatch.
func (r *reader) Record() arrow.RecordBatch { return r.cur }

// Err returns the error that ended the reader, nil at a normal end.
func (r *reader) Err() error { return r.err }

// close ends the query and gives the connection back.
func (r *reader) close() {
	if r.src == nil {
		return
	}
	src := r.src
	r.src = nil
	_ = r.lock(func(batches.Querier) error { return src.Close() })
	if r.after != nil {
		if err := r.after(); err != nil && r.err == nil {
			r.err = err
		}
		r.after = nil
	}
}
