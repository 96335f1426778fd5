package e6data

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

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
	return cn.query(ctx, query, opts, false)
}

func (cn *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	opts, err := cn.queryOptions(args)
	if err != nil {
		return nil, err
	}
	// Every row is read before the result is returned: Exec delivers no
	// rows, so a read cut short is run again like any read.
	r, err := cn.query(ctx, query, opts, true)
	if err != nil {
		return nil, err
	}
	n := r.delivered
	r.Close()
	return result(n), nil
}

// result reports the number of rows the statement returned as rows affected
// (DML on e6data returns its count as a one-row result).
type result int64

func (r result) LastInsertId() (int64, error) {
	return 0, errors.New("e6data: LastInsertId is not supported")
}
func (r result) RowsAffected() (int64, error) { return int64(r), nil }

// Ping checks that the cluster answers and the session is usable, with
// calls e6data's own client makes: a connection without a session
// authenticates (and that is the check); one with a session asks for a dry
// run of "SELECT 1", which only plans a constant. An answer that rejects
// the statement still shows the engine and the session alive.
func (cn *conn) Ping(ctx context.Context) error {
	if cn.closed {
		return driver.ErrBadConn
	}
	o := cn.newOp("ping", true, nil)
	err := cn.run(ctx, o, func(ctx context.Context) error {
		had := cn.sid
		s, err := cn.ensureSession(ctx, o)
		if err != nil {
			return failAt(stageSession, nil, err)
		}
		if s.id != had {
			return nil // the session was made by this authenticate: the check
		}
		// One plan of a constant on the session: cheap on a real cluster,
		// and a call e6data's own client makes. A SQL error still shows
		// that the engine and the session answered.
		var resp enginepb.DryRunResponse
		err = cn.ctr.rpc.Invoke(ctx, rpc.Call{Method: enginepb.QueryEngineService_DryRun_FullMethodName, Strategy: s.strategy},
			&enginepb.DryRunRequest{SessionId: s.id, Schema: cn.ctr.cfg.Database, QueryString: "SELECT 1"}, &resp)
		if k := rpc.Classify(err); k == rpc.KindInvalid || k == rpc.KindNotFound {
			return nil
		}
		return failAt(stagePrepare, nil, err)
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

// stmt is a statement text bound to a connection. e6data prepares and runs
// a statement in one go, so each execution sends the full query.
type stmt struct {
	cn    *conn
	query string
}

var (
	_ driver.StmtQueryContext = (*stmt)(nil)
	_ driver.StmtExecContext  = (*stmt)(nil)
)

func (s *stmt) Close() error { return nil }

// NumInput is -1 (unchecked): per-query settings may come as extra named
// arguments beside the '?' parameters; the count is checked when run.
func (s *stmt) NumInput() int { return -1 }

func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), named(args))
}

func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), named(args))
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.cn.ExecContext(ctx, s.query, args)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.cn.QueryContext(ctx, s.query, args)
}

func named(args []driver.Value) []driver.NamedValue {
	out := make([]driver.NamedValue, len(args))
	for i, v := range args {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return out
}
