//go:build cgo

// Package engine is the query engine of e6sim: one stack ("blue" or
// "green") of a simulated e6data cluster, serving the QueryEngineService
// rpcs (sessions and queries) over an embedded, in-memory DuckDB database.
//
// # Database and catalogs
//
// OpenDB creates one DuckDB database shared by every Engine of a cluster.
// Catalogs are DuckDB databases: an in-memory database named "sample" is
// the default (and, unless a client attaches more, the only) catalog;
// DuckDB's own "system" and "temp" catalogs are not listed. The built-in
// sample dataset lives in schema sample.main (see DATASET.md: all_types,
// numbers, customers, orders). With DBOptions.DataDir, every *.parquet and
// *.csv file of that folder becomes a view sample.data.<file stem> over
// read_parquet / read_csv_auto.
//
// # Query lifecycle
//
// prepareStatement[V2] validates the SQL with DuckDB (errors are
// INVALID_ARGUMENT with DuckDB's message) in the requested catalog.schema;
// executeStatement[V2] takes a DuckDB connection for the query (see
// Connections), binds V2 parameters server-side and starts a streaming
// execution; every
// getNextResultBatch then pulls only the DuckDB chunks it needs for
// ChunkRows rows and converts them column by column into a wire.Chunk, so a
// result of any size is never held in memory. The connection is released as
// soon as the result is exhausted, fails, or is cancelled or cleared.
// (duckdb-go's database/sql rows materialise the whole result before the
// first row — measured: 100M rows, 4 GB and 18 s — so the engine drives
// DuckDB's C API through duckdb-go's mapping package, with the bindings'
// duckdb_pending_prepared_streaming and duckdb_fetch_chunk, and reads the
// vectors' memory directly.) execute returns once the result is streaming:
// at once for a pipeline that can stream, after the blocking operators for
// an aggregate or a sort.
// cancelQuery interrupts DuckDB mid-statement (the interrupt is re-asserted
// until the running call returns); later batches fail with CANCELLED.
// Stats.Cancels counts every query that a cancelQuery or a
// clearOrCancelQuery stopped before its last row, once (the connector sends
// both when a caller's context ends): a cancelQuery of a query executing,
// streaming or not yet executed, a clearOrCancelQuery of one executing or
// streaming; a query whose execute or batch call was interrupted because
// the call itself ended (the client gave up) had not finished either and
// counts when it is then cancelled or cleared. Queries that produced every
// row or failed do not count.
// getResultMetadata reports rowCount -1 until every row has been produced
// and the total afterwards (-1 is DB-API's "unknown"; the e6data Python
// connector only stores the value as cursor.rowcount).
//
// # Types
//
// DuckDB types map to wire vector types as follows: BOOLEAN -> BOOLEAN;
// TINYINT, SMALLINT, INTEGER, UTINYINT, USMALLINT -> INTEGER; BIGINT,
// UINTEGER -> LONG; HUGEINT, UBIGINT, DECIMAL -> DECIMAL128 (scale of the
// type, 0 for the integers); FLOAT -> FLOAT; DOUBLE -> DOUBLE; VARCHAR ->
// STRING; BLOB -> BINARY (raw bytes); DATE -> DATE (microseconds at UTC
// midnight); TIMESTAMP, TIMESTAMP_S/_MS/_NS -> DATETIME (microseconds UTC,
// nanoseconds floored); TIMESTAMPTZ -> TIMESTAMP_TZ (microseconds UTC, with
// the session's TimeZone, default UTC, as zone); LIST and ARRAY -> ARRAY,
// MAP -> MAP, STRUCT -> STRUCT and every other type (UUID, ENUM, INTERVAL,
// TIME, BIT, UHUGEINT, ...) -> STRING, as DuckDB's VARCHAR text (the query
// is wrapped in a SELECT that casts those columns); the NULL type -> NULL.
//
// # Connections
//
// Every prepare, execution, catalog call and explain uses a DuckDB
// connection of its own, set up with USE catalog.schema and the session's
// TimeZone. Connections are pooled: one returned clean is kept idle (at most
// 64 over the database, least recently used closed first) and handed out
// again for the same catalog.schema and TimeZone, without the setup
// statements; the pool's lock is never held while DuckDB opens, sets up or
// closes a connection, so concurrent queries get theirs concurrently. A
// connection is returned clean only when nothing can have changed its
// state: every statement it executed was a SELECT that produced every row
// (or was only prepared), and it was never interrupted. A connection that
// ran anything else (SET, USE, BEGIN, CREATE TEMP, ..., or EXPLAIN ANALYZE),
// or whose query failed, was cancelled or cleared mid-result, is closed.
//
// # Sessions and resources
//
// Session ids are 128-bit random. A query-scoped call is accepted on any
// valid session of the query's user on the same engine. Unknown or expired
// sessions answer INTERNAL "Access denied: ..."; unknown query ids
// NOT_FOUND. A janitor reclaims queries idle for QueryIdleTimeout and
// purges expired sessions; MaxOpenQueries bounds open queries.
package engine
