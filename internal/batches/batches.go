// Package batches is the narrow seam between the driver and readers that
// want a result batch by batch instead of row by row (package e6arrow).
//
// The driver's connection implements Querier; a Source is the driver's own
// rows seen a batch at a time, so it follows exactly the rows' query
// lifecycle: recovery before the first batch reaches the caller,
// ErrQueryInterrupted after, prefetch, telemetry, cancellation and the
// release of the query on Close. Nothing here is part of the public API.
package batches

import (
	"context"

	"github.com/e6go/e6data/internal/wire"
)

// Column describes one result column, as the result metadata gives it.
type Column struct {
	Name     string
	Type     wire.VectorType // -1 when the metadata names a type the driver does not know
	TypeName string          // the type as the metadata names it
	Zone     string          // TIMESTAMP_TZ default zone
	Scale    int32           // DECIMAL128 scale, -1 while unknown (no batch seen)
}

// Source streams one query's result.
type Source interface {
	// Columns describes the result; it is known once the query returned.
	Columns() []Column
	// Next returns the next batch (Rows > 0), or io.EOF after the last.
	// The chunk and everything it refers to stay valid until the next call
	// of Next or Close, and no longer: the driver decodes a later batch
	// into the same arrays and receive buffer. Copy what must outlive it.
	Next() (*wire.Chunk, error)
	// Close ends the query and frees it on the server; it is safe to call
	// more than once.
	Close() error
}

// Querier is implemented by the driver's connection. args are the query's
// arguments as database/sql would take them (values, sql.NamedArg settings);
// the connection converts them itself.
type Querier interface {
	QueryBatches(ctx context.Context, query string, args []any) (Source, error)
}
