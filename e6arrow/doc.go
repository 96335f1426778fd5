// Package e6arrow reads e6data query results as Apache Arrow record
// batches: one arrow.RecordBatch per batch the engine sends, built from the
// columnar wire format without a per-row step, ready for Parquet, DuckDB or
// any Arrow tool.
//
//	rdr, err := e6arrow.Query(ctx, db, "SELECT id, x, s FROM numbers")
//	if err != nil { ... }
//	defer rdr.Release()
//	for rdr.Next() {
//		rec := rdr.RecordBatch() // valid until the next call of Next
//		...
//	}
//	if err := rdr.Err(); err != nil { ... }
//
// The query runs exactly as through database/sql: a failure (a blue/green
// switch, an expired session, a lost query) is recovered by running the
// query again as long as no record has reached the caller; once one has,
// the reader stops with an error matching e6data.ErrQueryInterrupted. The
// connector's prefetch, telemetry and query timeout apply; cancelling ctx
// cancels the query on the server. Release (or reading to the end, or an
// error) frees the query on the server and, for Query, returns the
// connection to the pool. A reader holds a connection until then.
//
// # Types
//
//	e6data type     Arrow type
//	BOOLEAN         Boolean
//	INTEGER         Int32
//	LONG            Int64
//	FLOAT           Float32
//	DOUBLE          Float64
//	DECIMAL128      Decimal128(38, scale); String when the scale lies outside 0..38
//	STRING          String (UTF-8 as sent; not validated)
//	BINARY          Binary
//	DATE            Date32
//	DATETIME,
//	TIMESTAMP       Timestamp(µs, "UTC")
//	TIMESTAMP_TZ    Timestamp(µs, zone of the result metadata, "UTC" if none)
//	ARRAY, MAP,
//	STRUCT          String, the text the engine sends
//	NULL            Null
//
// An Arrow timestamp carries one zone per column. A TIMESTAMP_TZ value is
// an instant, and the instant is kept exactly; where the engine sends a zone
// per row, that zone (which database/sql's time.Time shows as its location)
// is not kept. A DECIMAL128 column takes the scale of its first batch; a
// later batch with another scale is rescaled when that is exact and
// reported as an error otherwise. A column whose type the connector does not
// know is read as String if its values are bytes, and is an error
// otherwise.
//
// # Memory
//
// Every value is copied once per batch, straight into the record's
// buffers. The buffers of fixed-width values (numbers, dates, times,
// decimals) and of string offsets come from a pool of the reader's: when
// the caller releases a record (Next releases the previous one), they are
// used again for a later record, so a reader allocates next to nothing per
// batch for them and the garbage collector seldom runs. A record is
// therefore valid until it is released, as the Arrow API says: Retain one
// to keep it, and do not keep slices of its buffers (Int64Values,
// ValueOffsets) after releasing it. The bytes of strings and binaries are
// not pooled: a string from String.Value stays valid after the release. A
// reader holds one batch being read and the connector's prefetch depth
// ahead, so memory stays flat for any result size as long as the caller
// releases the records it has finished with.
package e6arrow
