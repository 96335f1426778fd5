package e6data

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/e6go/e6data/internal/batches"
	"github.com/e6go/e6data/internal/enginepb"
	"github.com/e6go/e6data/internal/rpc"
	"github.com/e6go/e6data/internal/wire"
)

// Conn is the e6data side of a pooled connection, for what database/sql has
// no words for. Reach it with Raw:
//
//	err := e6data.Raw(ctx, db, func(c e6data.Conn) error {
//		plan, err := c.Explain(ctx, "SELECT * FROM orders")
//		...
//	})
type Conn interface {
	// LastQueryID is the ID of the last query this connection prepared.
	LastQueryID() string
	// Strategy is the stack (blue or green) the connection's session is on.
	Strategy() string
	// Status asks the server about a query of this connector.
	Status(ctx context.Context, queryID string) (QueryStatus, error)
	// Cancel cancels a running query of this connector by ID.
	Cancel(ctx context.Context, queryID string) error
	// Explain returns the plan of query without running it.
	Explain(ctx context.Context, query string, args ...any) (string, error)
	// ExplainAnalyze runs query to the end (discarding its rows) and returns
	// the executed plan with its timings.
	ExplainAnalyze(ctx context.Context, query string, args ...any) (*Analysis, error)
	// DryRun asks the server to check query without running it (dryRun,
	// in the configured database and the engine's default catalog).
	DryRun(ctx context.Context, query string) (string, error)
	// Catalogs lists the catalogs (getCataloges: e6data's own client never
	// calls it, so an engine version may not serve it).
	Catalogs(ctx context.Context) ([]Catalog, error)
	// Schemas lists the databases (schemas) of a catalog ("" = the configured one).
	Schemas(ctx context.Context, catalog string) ([]string, error)
	// Tables lists the tables of a schema.
	Tables(ctx context.Context, catalog, schema string) ([]string, error)
	// Columns lists the columns of a table with their e6data type names.
	Columns(ctx context.Context, catalog, schema, table string) ([]ColumnInfo, error)
}

// QueryStatus is what the server says about a query.
type QueryStatus struct {
	Running  bool  // the server's status flag: the query is alive and has not failed
	RowCount int64 // rows produced so far
}

// Analysis is the result of ExplainAnalyze.
type Analysis struct {
	Plan         string        // the server's explain-analyze text
	Cached       bool          // the result came from the server's cache
	ParsingTime  time.Duration // time spent parsing (from the server's parsingTime, ms)
	QueueingTime time.Duration // time spent queued (from queueingTime, ms)
	// TotalTime is the total execution time when the plan text states one
	// (e.g. "Total Time: 0.0123s"); zero otherwise.
	TotalTime time.Duration
}

// Catalog is one catalog of the cluster.
type Catalog struct {
	Name      string
	IsDefault bool
}

// ColumnInfo is one column of a table.
type ColumnInfo struct {
	Name string
	Type string // e6data type name, e.g. LONG, STRING, DECIMAL128
}

// Raw runs f with the e6data connection behind one pooled connection of db.
func Raw(ctx context.Context, db *sql.DB, f func(Conn) error) error {
	sc, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer sc.Close()
	return RawConn(sc, f)
}

// RawConn runs f with the e6data connection behind sc.
func RawConn(sc *sql.Conn, f func(Conn) error) error {
	return sc.Raw(func(dc any) error {
		cn, ok := dc.(*conn)
		if !ok {
			return fmt.Errorf("e6data: %T is not an e6data connection", dc)
		}
		return f(cn)
	})
}

func (cn *conn) LastQueryID() string { return cn.lastQueryID }
func (cn *conn) Strategy() string    { return cn.strategy }

// session runs f (a call that runs no statement) with a valid session of
// the connection, recovering as queries do.
func (cn *conn) session(ctx context.Context, name string, f func(ctx context.Context) error) error {
	o := cn.newOp(name, true, nil)
	return cn.run(ctx, o, func(ctx context.Context) error {
		if _, err := cn.ensureSession(ctx, o); err != nil {
			return failAt(stageSession, nil, err)
		}
		return failAt(stagePrepare, nil, f(ctx))
	})
}

// onQuery runs send, a call about the query queryID, on the query's own
// stack with a session of that stack (the connection's when it is on that
// stack). A refusal before routing is repaired there and the same call
// sent again; a query whose stack is gone is reported interrupted.
func (cn *conn) onQuery(ctx context.Context, name, queryID string, send func(ctx context.Context, q *query) error) error {
	o := cn.newOp(name, true, nil)
	o.queryID = queryID
	err := cn.run(ctx, o, func(ctx context.Context) error {
		if _, err := cn.ensureSession(ctx, o); err != nil {
			return failAt(stageSession, nil, err)
		}
		q := cn.ref(queryID)
		sid, err := cn.sessionFor(ctx, q.strategy, "", o)
		if err != nil {
			return failAt(stageSession, nil, err)
		}
		q.sid = sid
		return cn.resend(ctx, o, q, stageQuery, nil, func(ctx context.Context) error { return send(ctx, q) })
	})
	var e *Error
	if errors.As(err, &e) && e.sentinel == ErrStrategyMismatch {
		// The stack the query lived on is not live: the query is gone.
		e.sentinel, e.Retryable = ErrQueryInterrupted, false
	}
	return retag(err, queryID)
}

// ref finds where a query runs: this connector's record, else its pin,
// else the connection's own stack.
func (cn *conn) ref(queryID string) *query {
	q := &query{id: queryID, strategy: cn.strategy}
	if v, ok := cn.ctr.queries.Load(queryID); ok {
		r := v.(queryRef)
		q.engineIP, q.strategy = r.engineIP, r.strategy
	} else if st, ok := cn.ctr.state.PinOf(queryID); ok {
		q.strategy = st
	}
	return q
}

func (cn *conn) Status(ctx context.Context, queryID string) (QueryStatus, error) {
	var resp enginepb.StatusResponse
	err := cn.onQuery(ctx, "status", queryID, func(ctx context.Context, q *query) error {
		return cn.call(ctx, q, enginepb.QueryEngineService_Status_FullMethodName,
			&enginepb.StatusRequest{EngineIP: q.engineIP, SessionId: q.sid, QueryId: q.id}, &resp)
	})
	if err != nil {
		return QueryStatus{}, err
	}
	return QueryStatus{Running: resp.GetStatus(), RowCount: resp.GetRowCount()}, nil
}

func (cn *conn) Cancel(ctx context.Context, queryID string) error {
	return cn.onQuery(ctx, "cancel", queryID, func(ctx context.Context, q *query) error {
		var resp enginepb.CancelQueryResponse
		return cn.call(ctx, q, enginepb.QueryEngineService_CancelQuery_FullMethodName,
			&enginepb.CancelQueryRequest{EngineIP: q.engineIP, SessionId: q.sid, QueryId: q.id}, &resp)
	})
}

func retag(err error, queryID string) error {
	var e *Error
	if errors.As(err, &e) && e.QueryID == "" {
		e.QueryID = queryID
	}
	return err
}

// prepared prepares query (without running it) and calls f with it, then
// clears it.
func (cn *conn) prepared(ctx context.Context, op, text string, args []any, execute bool, f func(ctx context.Context, q *query) error) error {
	text = stripTrailingSemicolon(text)
	if len(args) > 0 {
		nv := make([]driver.NamedValue, len(args))
		for i, a := range args {
			// The conversion database/sql applies to query arguments.
			nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
			if err := cn.CheckNamedValue(&nv[i]); errors.Is(err, driver.ErrSkip) {
				v, err := driver.DefaultParameterConverter.ConvertValue(a)
				if err != nil {
					return fmt.Errorf("e6data: parameter %d: %w", i+1, err)
				}
				nv[i].Value = v
			} else if err != nil {
				return err
			}
		}
		var err error
		if text, err = interpolate(text, nv); err != nil {
			return err
		}
	}
	cfg := cn.ctr.cfg
	// A plain explain runs nothing; an explain analyze executes the
	// statement, which is then never sent again unless it only reads.
	o := cn.newOp(op, !execute || isReadStatement(text), nil)
	return cn.run(ctx, o, func(ctx context.Context) error {
		s, err := cn.ensureSession(ctx, o)
		if err != nil {
			return failAt(stageSession, nil, err)
		}
		q, err := cn.prepare(ctx, o, s, text, cfg.Catalog, cfg.Database)
		if err != nil {
			return err
		}
		o.queryID = q.id
		cn.ctr.track(q)
		defer cn.ctr.forget(q, "", false)
		after := stagePrepare // nothing has run
		if execute {
			var exec enginepb.ExecuteStatementResponse
			method, req := enginepb.QueryEngineService_ExecuteStatement_FullMethodName, any(&enginepb.ExecuteStatementRequest{EngineIP: q.engineIP, SessionId: q.sid, QueryId: q.id})
			if cfg.Catalog != "" { // executeStatementV2 follows prepareStatementV2
				method, req = enginepb.QueryEngineService_ExecuteStatementV2_FullMethodName, &enginepb.ExecuteStatementV2Request{EngineIP: q.engineIP, SessionId: q.sid, QueryId: q.id}
			}
			if err := cn.call(ctx, q, method, req, &exec); err != nil {
				return failAt(stageExecute, q, err)
			}
			after = stageResult
			for {
				var b enginepb.GetNextResultBatchResponse
				if err := cn.resend(ctx, o, q, after, nil, func(ctx context.Context) error {
					return cn.call(ctx, q, enginepb.QueryEngineService_GetNextResultBatch_FullMethodName,
						&enginepb.GetNextResultBatchRequest{EngineIP: q.engineIP, SessionId: q.sid, QueryId: q.id}, &b)
				}); err != nil {
					return err
				}
				if wire.IsEnd(b.GetResultBatch()) {
					break
				}
			}
		}
		return cn.resend(ctx, o, q, after, nil, func(ctx context.Context) error { return f(ctx, q) })
	})
}

func (cn *conn) Explain(ctx context.Context, text string, args ...any) (string, error) {
	var resp enginepb.ExplainResponse
	err := cn.prepared(ctx, "explain", text, args, false, func(ctx context.Context, q *query) error {
		return cn.call(ctx, q, enginepb.QueryEngineService_Explain_FullMethodName,
			&enginepb.ExplainRequest{EngineIP: q.engineIP, SessionId: q.sid, QueryId: q.id}, &resp)
	})
	return resp.GetExplain(), err
}

var totalTimeRE = regexp.MustCompile(`(?i)total\s+time[^0-9]{0,10}([0-9]+(?:\.[0-9]+)?)\s*(ms|s)?`)

func (cn *conn) ExplainAnalyze(ctx context.Context, text string, args ...any) (*Analysis, error) {
	var resp enginepb.ExplainAnalyzeResponse
	err := cn.prepared(ctx, "explain analyze", text, args, true, func(ctx context.Context, q *query) error {
		return cn.call(ctx, q, enginepb.QueryEngineService_ExplainAnalyze_FullMethodName,
			&enginepb.ExplainAnalyzeRequest{EngineIP: q.engineIP, SessionId: q.sid, QueryId: q.id}, &resp)
	})
	if err != nil {
		return nil, err
	}
	a := &Analysis{
		Plan:         resp.GetExplainAnalyze(),
		Cached:       resp.GetIsCached(),
		ParsingTime:  time.Duration(resp.GetParsingTime()) * time.Millisecond,
		QueueingTime: time.Duration(resp.GetQueueingTime()) * time.Millisecond,
	}
	if m := totalTimeRE.FindStringSubmatch(a.Plan); m != nil {
		if f, err := strconv.ParseFloat(m[1], 64); err == nil {
			unit := time.Second
			if strings.EqualFold(m[2], "ms") {
				unit = time.Millisecond
			}
			a.TotalTime = time.Duration(f * float64(unit))
		}
	}
	return a, nil
}

// DryRun asks the planner to validate text without running it. It uses
// dryRun, as e6data's own client does (not dryRunV2): the configured
// database is the schema, and the engine's default catalog applies.
func (cn *conn) DryRun(ctx context.Context, text string) (string, error) {
	cfg := cn.ctr.cfg
	text = stripTrailingSemicolon(text)
	var resp enginepb.DryRunResponse
	err := cn.session(ctx, "dry run", func(ctx context.Context) error {
		q := &query{strategy: cn.strategy}
		return cn.call(ctx, q, enginepb.QueryEngineService_DryRun_FullMethodName,
			&enginepb.DryRunRequest{SessionId: cn.sid, Schema: cfg.Database, QueryString: text}, &resp)
	})
	return resp.GetDryrunValue(), err
}

func (cn *conn) Catalogs(ctx context.Context) ([]Catalog, error) {
	var resp enginepb.GetCatalogesResponse
	err := cn.session(ctx, "list catalogs", func(ctx context.Context) error {
		return cn.ctr.rpc.Invoke(ctx, rpc.Call{Method: enginepb.QueryEngineService_GetCataloges_FullMethodName, Strategy: cn.strategy},
			&enginepb.GetCatalogesRequest{}, &resp)
	})
	if err != nil {
		return nil, err
	}
	out := make([]Catalog, 0, len(resp.GetCatalogResponses()))
	for _, c := range resp.GetCatalogResponses() {
		out = append(out, Catalog{Name: c.GetName(), IsDefault: c.GetIsDefault()})
	}
	return out, nil
}

func (cn *conn) catalogOr(c string) string {
	if c == "" {
		return cn.ctr.cfg.Catalog
	}
	return c
}

func (cn *conn) Schemas(ctx context.Context, catalog string) ([]string, error) {
	catalog = cn.catalogOr(catalog)
	var resp enginepb.GetSchemaNamesResponse
	err := cn.session(ctx, "list schemas", func(ctx context.Context) error {
		call := rpc.Call{Method: enginepb.QueryEngineService_GetSchemaNamesV2_FullMethodName, Strategy: cn.strategy}
		return cn.ctr.rpc.Invoke(ctx, call, &enginepb.GetSchemaNamesV2Request{SessionId: cn.sid, Catalog: catalog}, &resp)
	})
	return resp.GetSchemas(), err
}

func (cn *conn) Tables(ctx context.Context, catalog, schema string) ([]string, error) {
	catalog = cn.catalogOr(catalog)
	var resp enginepb.GetTablesResponse
	err := cn.session(ctx, "list tables", func(ctx context.Context) error {
		call := rpc.Call{Method: enginepb.QueryEngineService_GetTablesV2_FullMethodName, Strategy: cn.strategy}
		return cn.ctr.rpc.Invoke(ctx, call, &enginepb.GetTablesV2Request{SessionId: cn.sid, Schema: schema, Catalog: catalog}, &resp)
	})
	return resp.GetTables(), err
}

func (cn *conn) Columns(ctx context.Context, catalog, schema, table string) ([]ColumnInfo, error) {
	catalog = cn.catalogOr(catalog)
	var resp enginepb.GetColumnsResponse
	err := cn.session(ctx, "list columns", func(ctx context.Context) error {
		call := rpc.Call{Method: enginepb.QueryEngineService_GetColumnsV2_FullMethodName, Strategy: cn.strategy}
		return cn.ctr.rpc.Invoke(ctx, call, &enginepb.GetColumnsV2Request{SessionId: cn.sid, Schema: schema, Table: table, Catalog: catalog}, &resp)
	})
	if err != nil {
		return nil, err
	}
	out := make([]ColumnInfo, 0, len(resp.GetFieldInfo()))
	for _, f := range resp.GetFieldInfo() {
		out = append(out, ColumnInfo{Name: f.GetFieldName(), Type: f.GetFieldType()})
	}
	return out, nil
}

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
