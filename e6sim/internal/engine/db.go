//go:build cgo

package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/duckdb/duckdb-go/v2/mapping"

	"github.com/e6go/e6data/internal/enginepb"
)

// DefaultCatalog is the catalog (DuckDB database) queries run in when the
// client names none; DefaultSchema likewise.
const (
	DefaultCatalog = "sample"
	DefaultSchema  = "main"
	// DataSchema holds one view per file of DBOptions.DataDir.
	DataSchema = "data"
)

// DBOptions configures OpenDB.
type DBOptions struct {
	// DataDir, when set, is a folder whose *.parquet and *.csv files become
	// views sample.data.<file stem> (read_parquet / read_csv_auto).
	DataDir string
}

// DB is one in-memory DuckDB database with the sample dataset, shared by
// every Engine (stack) of a simulated cluster. It is safe for concurrent use.
//
// Connections are pooled: a connection returned clean (see conn.release) is
// kept idle, set up for its catalog.schema and TimeZone, and handed out
// again for the same ones, which saves the setup statements. mu is held only
// to pick or file a connection, never while DuckDB opens, sets up or closes
// one, so that concurrent queries get their connections concurrently.
type DB struct {
	db mapping.Database // written only by OpenDB and (after every open ended) Close

	mu      sync.Mutex
	conns   map[*conn]struct{} // connections handed out and not yet returned
	idle    []*conn            // returned clean, least recently used first
	opening sync.WaitGroup     // connections being opened (outside mu)
	drained chan struct{}      // made by Close, closed when conns empties
	closed  bool
}

// maxIdleConns bounds the idle connections a DB keeps (over every
// catalog.schema and TimeZone); past it the least recently used one is
// closed.
const maxIdleConns = 64

// ErrDBClosed is returned when a connection is requested from a closed DB.
var ErrDBClosed = errors.New("engine: database closed")

// OpenDB opens the in-memory database and builds the sample dataset
// (see DATASET.md). The context bounds the build.
func OpenDB(ctx context.Context, o DBOptions) (*DB, error) {
	var cfg mapping.Config
	if mapping.CreateConfig(&cfg) == mapping.StateError {
		return nil, errors.New("engine: duckdb: cannot create config")
	}
	defer mapping.DestroyConfig(&cfg)
	// Deterministic, host-independent behaviour: no extension downloads.
	for k, v := range map[string]string{"autoinstall_known_extensions": "false", "autoload_known_extensions": "true"} {
		if mapping.SetConfig(cfg, k, v) == mapping.StateError {
			return nil, fmt.Errorf("engine: duckdb: cannot set %s", k)
		}
	}
	db := &DB{conns: map[*conn]struct{}{}}
	var msg string
	if mapping.OpenExt(":memory:", &db.db, cfg, &msg) == mapping.StateError {
		mapping.Close(&db.db)
		return nil, fmt.Errorf("engine: duckdb open: %s", msg)
	}
	if err := db.build(ctx, o); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) build(ctx context.Context, o DBOptions) error {
	var c mapping.Connection
	if mapping.Connect(db.db, &c) == mapping.StateError {
		return errors.New("engine: duckdb: cannot connect")
	}
	defer mapping.Disconnect(&c)
	// The database DuckDB opens is called "memory"; replace it by "sample"
	// so that the only user catalog is the one the protocol advertises.
	setup := "ATTACH ':memory:' AS " + quoteIdent(DefaultCatalog) + "; USE " + quoteIdent(DefaultCatalog) + "; DETACH memory; SET TimeZone = 'UTC';"
	if err := rawExec(c, setup); err != nil {
		return fmt.Errorf("engine: attach %s: %w", DefaultCatalog, err)
	}
	if err := rawExec(c, macroSQL); err != nil {
		return fmt.Errorf("engine: creating the e6data functions: %w", err)
	}
	for _, stmt := range sampleDataset {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := rawExec(c, stmt); err != nil {
			return fmt.Errorf("engine: building sample dataset: %w (statement: %.80s)", err, stmt)
		}
	}
	if o.DataDir != "" {
		if err := mountDataDir(c, o.DataDir); err != nil {
			return err
		}
	}
	return nil
}

// mountDataDir creates one view per *.parquet / *.csv file in dir.
func mountDataDir(c mapping.Connection, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("engine: data dir: %w", err)
	}
	if err := rawExec(c, "CREATE SCHEMA IF NOT EXISTS "+quoteIdent(DefaultCatalog)+"."+quoteIdent(DataSchema)); err != nil {
		return fmt.Errorf("engine: data dir: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("engine: data dir: %w", err)
	}
	seen := map[string]string{}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, name := range names {
		ext := strings.ToLower(filepath.Ext(name))
		var reader string
		switch ext {
		case ".parquet":
			reader = "read_parquet"
		case ".csv":
			reader = "read_csv_auto"
		default:
			continue
		}
		path := filepath.Join(abs, name)
		if st, err := os.Stat(path); err != nil || st.IsDir() {
			continue
		}
		stem := strings.TrimSuffix(name, filepath.Ext(name))
		if prev, dup := seen[strings.ToLower(stem)]; dup {
			return fmt.Errorf("engine: data dir: %s and %s would both become view %s.%s.%s", prev, name, DefaultCatalog, DataSchema, stem)
		}
		seen[strings.ToLower(stem)] = name
		stmt := fmt.Sprintf("CREATE VIEW %s.%s.%s AS SELECT * FROM %s(%s)",
			quoteIdent(DefaultCatalog), quoteIdent(DataSchema), quoteIdent(stem), reader, quoteString(path))
		if err := rawExec(c, stmt); err != nil {
			return fmt.Errorf("engine: data dir: file %s: %w", path, err)
		}
	}
	return nil
}

// closeWait bounds how long Close waits for connections still in use.
const closeWait = 5 * time.Second

// Close closes the database; it is idempotent. Close the engines first.
// Statements still running on connections of the database are interrupted
// and Close waits (a bounded time) for their connections to be returned;
// DuckDB keeps the database alive until the last connection is closed, so
// a straggler is never left with a dangling handle.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return nil
	}
	db.closed = true
	db.drained = make(chan struct{})
	if len(db.conns) == 0 {
		close(db.drained)
	}
	open := make([]*conn, 0, len(db.conns))
	for cn := range db.conns {
		open = append(open, cn)
	}
	idle := db.idle
	db.idle = nil
	db.mu.Unlock()
	for _, cn := range idle {
		cn.disconnect()
	}
	for _, cn := range open {
		cn.interrupt()
	}
	t := time.NewTimer(closeWait)
	select {
	case <-db.drained:
	case <-t.C:
	}
	t.Stop()
	// A connection being opened finds the DB closed and closes it again;
	// that takes microseconds, and the handle must outlive it.
	db.opening.Wait()
	mapping.Close(&db.db)
	return nil
}

// connKey is what a pooled connection is set up for.
type connKey struct{ catalog, schema, tz string }

// conn is one DuckDB connection handed out by DB.connect. Return it with
// release when it may be reused, or close to discard it.
type conn struct {
	db  *DB
	key connKey
	c   mapping.Connection
	// mu guards c against Interrupt racing with Disconnect, and the flags.
	mu     sync.Mutex
	closed bool
	// dirty marks a connection that must not be reused: it was interrupted
	// (DuckDB's interrupt flag may still be set), or ran a statement that
	// may have changed its state (USE, SET, BEGIN, CREATE TEMP, ...).
	dirty bool
}

// connect returns a connection whose current catalog/schema is
// catalog.schema (defaults when empty) and whose TimeZone is tz ("UTC" when
// empty): an idle one set up for the same, or a new one.
func (db *DB) connect(catalog, schema, tz string) (*conn, error) {
	if catalog == "" {
		catalog = DefaultCatalog
	}
	if tz == "" {
		tz = "UTC"
	}
	key := connKey{catalog, schema, tz}
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return nil, ErrDBClosed
	}
	for i := len(db.idle) - 1; i >= 0; i-- {
		if cn := db.idle[i]; cn.key == key {
			db.idle = append(db.idle[:i], db.idle[i+1:]...)
			db.conns[cn] = struct{}{}
			db.mu.Unlock()
			return cn, nil
		}
	}
	db.opening.Add(1) // before closed is set: Close waits for it
	db.mu.Unlock()
	defer db.opening.Done()
	cn := &conn{db: db, key: key}
	if mapping.Connect(db.db, &cn.c) == mapping.StateError {
		return nil, errors.New("engine: duckdb: cannot connect")
	}
	use := "USE " + quoteIdent(catalog)
	if schema != "" {
		use += "." + quoteIdent(schema)
	}
	setup := use + "; SET TimeZone = " + quoteString(tz) + ";"
	if schema != "" && !strings.EqualFold(schema, DefaultSchema) {
		// The e6data functions (macros.go) live in the default schema.
		setup += " SET search_path = " + quoteString(quoteIdent(catalog)+"."+quoteIdent(schema)+","+quoteIdent(DefaultCatalog)+"."+quoteIdent(DefaultSchema)) + ";"
	}
	if err := rawExec(cn.c, setup); err != nil {
		cn.disconnect()
		return nil, err
	}
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		cn.disconnect()
		return nil, ErrDBClosed
	}
	db.conns[cn] = struct{}{}
	db.mu.Unlock()
	return cn, nil
}

// forget removes a connection handed out from the ones Close waits for.
func (db *DB) forget(cn *conn) {
	db.mu.Lock()
	db.forgetLocked(cn)
	db.mu.Unlock()
}

func (db *DB) forgetLocked(cn *conn) {
	delete(db.conns, cn)
	if db.closed && len(db.conns) == 0 {
		select {
		case <-db.drained:
		default:
			close(db.drained)
		}
	}
}

// interrupt interrupts the statement running on the connection, which is
// then never reused.
func (cn *conn) interrupt() {
	cn.mu.Lock()
	if !cn.closed {
		mapping.Interrupt(cn.c)
		cn.dirty = true
	}
	cn.mu.Unlock()
}

// taint keeps the connection from being reused.
func (cn *conn) taint() {
	cn.mu.Lock()
	cn.dirty = true
	cn.mu.Unlock()
}

// release returns a connection the caller is done with: to the idle pool
// when it is clean (every statement it ran was a plain SELECT or was only
// prepared, and it was never interrupted), else it is closed. Destroy
// every result and prepared statement of it first.
func (cn *conn) release() {
	cn.mu.Lock()
	reuse := !cn.closed && !cn.dirty
	cn.mu.Unlock()
	if !reuse {
		cn.close()
		return
	}
	db := cn.db
	var evict *conn
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		cn.close()
		return
	}
	db.forgetLocked(cn)
	if len(db.idle) >= maxIdleConns {
		evict = db.idle[0]
		db.idle = append(db.idle[:0], db.idle[1:]...)
	}
	db.idle = append(db.idle, cn)
	db.mu.Unlock()
	if evict != nil {
		evict.disconnect()
	}
}

// close closes a connection handed out (it is not reused).
func (cn *conn) close() {
	if cn.disconnect() {
		cn.db.forget(cn)
	}
}

// disconnect closes the DuckDB connection; it reports false if it already
// was.
func (cn *conn) disconnect() bool {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.closed {
		return false
	}
	cn.closed = true
	mapping.Disconnect(&cn.c)
	return true
}

// interruptOn interrupts the connection's running statement once ctx is
// done, and keeps re-interrupting every few milliseconds until the returned
// stop function is called: DuckDB clears a pending interrupt when a new
// statement starts, so a single interrupt could be lost in a race. stop
// waits until no interrupt is in progress.
func (cn *conn) interruptOn(ctx context.Context) (stop func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	quit := make(chan struct{})
	done := make(chan struct{})
	stopAfter := context.AfterFunc(ctx, func() {
		defer close(done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			cn.interrupt()
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
	})
	return func() {
		if !stopAfter() {
			close(quit)
			<-done
		}
	}
}

// duckError is an error reported by DuckDB.
type duckError struct {
	typ mapping.ErrorType
	msg string
}

func (e *duckError) Error() string { return e.msg }

func resultError(res *mapping.Result) error {
	msg := mapping.ResultError(res)
	if msg == "" {
		msg = "unknown DuckDB error"
	}
	return &duckError{typ: mapping.ResultErrorType(res), msg: msg}
}

// rawExec runs one or more statements and discards their results.
func rawExec(c mapping.Connection, sql string) error {
	var res mapping.Result
	defer mapping.DestroyResult(&res)
	if mapping.Query(c, sql, &res) == mapping.StateError {
		return resultError(&res)
	}
	return nil
}

// queryText runs a statement whose columns are all VARCHAR, binding args
// as VARCHAR parameters, and returns the rows (NULL = ""). For small
// catalog queries only: the result is materialised.
func (cn *conn) queryText(ctx context.Context, sql string, args ...string) ([][]string, error) {
	defer cn.interruptOn(ctx)()
	return cn.textRows(sql, func(st mapping.PreparedStatement) error {
		for i, a := range args {
			if mapping.BindVarchar(st, mapping.IdxT(i+1), a) == mapping.StateError {
				return &duckError{msg: mapping.PrepareError(st)}
			}
		}
		return nil
	})
}

// runText runs a statement with executeStatementV2 parameters and returns
// its VARCHAR rows (EXPLAIN output). The caller arranges interrupts.
func (cn *conn) runText(sql string, params []*enginepb.ParameterValue) ([][]string, error) {
	return cn.textRows(sql, func(st mapping.PreparedStatement) error {
		return bindParams(st, params)
	})
}

func (cn *conn) textRows(sql string, bind func(mapping.PreparedStatement) error) ([][]string, error) {
	var st mapping.PreparedStatement
	defer mapping.DestroyPrepare(&st)
	if mapping.Prepare(cn.c, sql, &st) == mapping.StateError {
		return nil, &duckError{typ: mapping.ErrorTypeParser, msg: mapping.PrepareError(st)}
	}
	if err := bind(st); err != nil {
		return nil, err
	}
	var res mapping.Result
	defer mapping.DestroyResult(&res)
	if mapping.ExecutePrepared(st, &res) == mapping.StateError {
		return nil, resultError(&res)
	}
	ncol := int(mapping.ColumnCount(&res))
	for i := 0; i < ncol; i++ {
		if t := mapping.ColumnType(&res, mapping.IdxT(i)); t != mapping.TypeVarchar {
			return nil, fmt.Errorf("engine: internal query column %d is not VARCHAR", i)
		}
	}
	var rows [][]string
	for {
		ch := mapping.FetchChunk(res)
		if ch.Ptr == nil {
			break
		}
		n := int(mapping.DataChunkGetSize(ch))
		start := len(rows)
		for r := 0; r < n; r++ {
			rows = append(rows, make([]string, ncol))
		}
		for c := 0; c < ncol; c++ {
			v := mapping.DataChunkGetVector(ch, mapping.IdxT(c))
			data := mapping.VectorGetData(v)
			valid := validityMask(v, n)
			for r := 0; r < n; r++ {
				if isValid(valid, r) {
					rows[start+r][c] = string(stringAt(data, r))
				}
			}
		}
		mapping.DestroyDataChunk(&ch)
	}
	if mapping.ResultError(&res) != "" {
		return nil, resultError(&res)
	}
	return rows, nil
}

// validityMask returns the vector's validity bitmap (nil = all valid).
func validityMask(v mapping.Vector, n int) []uint64 {
	p := mapping.VectorGetValidity(v)
	if p == nil {
		return nil
	}
	return unsafe.Slice((*uint64)(p), (n+63)/64)
}

func isValid(mask []uint64, row int) bool {
	return mask == nil || mask[row>>6]&(1<<(uint(row)&63)) != 0
}

// stringAt returns the bytes of the duckdb_string_t at index i of a VARCHAR
// or BLOB vector's data. The slice aliases DuckDB memory: copy it before the
// chunk is destroyed.
func stringAt(data unsafe.Pointer, i int) []byte {
	p := unsafe.Add(data, 16*i)
	n := *(*uint32)(p)
	if n == 0 {
		return nil
	}
	if n <= 12 {
		return unsafe.Slice((*byte)(unsafe.Add(p, 4)), n)
	}
	return unsafe.Slice(*(**byte)(unsafe.Add(p, 8)), n)
}

// quoteIdent quotes a SQL identifier for DuckDB.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// quoteString quotes a SQL string literal for DuckDB.
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
