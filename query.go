package e6data

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"google.golang.org/grpc"

	"github.com/e6go/e6data/internal/enginepb"
	"github.com/e6go/e6data/internal/rpc"
	"github.com/e6go/e6data/internal/wire"
)

// Per-query settings, passed as sql.Named arguments:
//
//	db.QueryContext(ctx, "SELECT ...", sql.Named("query_timeout", 30*time.Second))
var querySettings = map[string]string{
	"query_timeout":      "time.Duration or seconds: cancel the query after this long",
	"server_side_params": "bool: send the ? parameters as executeStatementV2 params",
	"catalog":            "string: catalog for this query",
	"database":           "string: database (schema) for this query",
}

func settingNames() string {
	names := make([]string, 0, len(querySettings))
	for k := range querySettings {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

type queryOptions struct {
	args       []driver.NamedValue // positional parameters
	timeout    time.Duration
	serverSide bool
	catalog    string
	database   string
}

func (cn *conn) queryOptions(args []driver.NamedValue) (queryOptions, error) {
	cfg := cn.ctr.cfg
	o := queryOptions{timeout: cfg.QueryTimeout, serverSide: cfg.ServerSideParams, catalog: cfg.Catalog, database: cfg.Database}
	for _, a := range args {
		if a.Name == "" {
			o.args = append(o.args, a)
			continue
		}
		bad := func(want string) error {
			return fmt.Errorf("e6data: setting %q: %v (%T) is not a %s", a.Name, a.Value, a.Value, want)
		}
		switch strings.ToLower(a.Name) {
		case "query_timeout":
			switch v := a.Value.(type) {
			case time.Duration:
				o.timeout = v
			case int64:
				o.timeout = time.Duration(v) * time.Second
			case int: // database/sql does not convert named settings
				o.timeout = time.Duration(v) * time.Second
			case float64:
				if math.IsNaN(v) || v > float64(math.MaxInt64/int64(time.Second)) {
					return o, bad("duration")
				}
				o.timeout = time.Duration(v * float64(time.Second))
			case string:
				d, err := time.ParseDuration(v)
				if err != nil {
					return o, bad("duration")
				}
				o.timeout = d
			default:
				return o, bad("duration")
			}
			if o.timeout < 0 {
				return o, bad("non-negative duration")
			}
		case "server_side_params":
			b, ok := a.Value.(bool)
			if !ok {
				return o, bad("bool")
			}
			o.serverSide = b
		case "catalog":
			s, ok := a.Value.(string)
			if !ok {
				return o, bad("string")
			}
			o.catalog = s
		case "database":
			s, ok := a.Value.(string)
			if !ok {
				return o, bad("string")
			}
			o.database = s
		}
	}
	return o, nil
}

// query is one statement running on the server.
type query struct {
	id       string
	engineIP string
	strategy string // its pin
	sid      string // the session it runs in
	tel      *queryTel
}

// query runs text and returns its rows with the first batch fetched (with
// drain, every batch: Exec delivers no rows, so a read may be run again
// whenever it fails). Every failure before any row reached the application
// is recovered under the zero-downtime rules by the recovery engine; a
// statement that may have started to write is never sent twice.
func (cn *conn) query(ctx context.Context, text string, o queryOptions, drain bool) (*rows, error) {
	text = stripTrailingSemicolon(text)
	var params []*enginepb.ParameterValue
	if o.serverSide {
		var err error
		if params, err = serverParams(o.args); err != nil {
			return nil, err
		}
	} else if len(o.args) > 0 {
		var err error
		if text, err = interpolate(text, o.args); err != nil {
			return nil, err
		}
	}
	ctx, tel := cn.ctr.startQuery(ctx)
	var cancel context.CancelFunc = func() {}
	if o.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
	}
	op := cn.newOp("query", isReadStatement(text), tel)
	var r *rows
	err := cn.run(ctx, op, func(ctx context.Context) error {
		var err error
		r, err = cn.runOnce(ctx, op, text, params, o, drain)
		return err
	})
	if err != nil {
		tel.finish(ctx, failedOutcome(ctx, err), err)
		cancel()
		return nil, err
	}
	r.ctx, r.cancel = r.bind(ctx), cancel
	return r, nil
}

func (cn *conn) call(ctx context.Context, q *query, method string, req, resp any, opts ...grpc.CallOption) error {
	return cn.ctr.rpc.Invoke(ctx, rpc.Call{Method: method, Strategy: q.strategy, PlannerIP: q.engineIP, QueryID: q.id}, req, resp, opts...)
}

// prepare prepares text in session s (prepareStatementV2 when a catalog is
// set, as the Python connector does), bounded by the prepare timeout. A
// failure is one at stagePrepare: nothing ran.
func (cn *conn) prepare(ctx context.Context, o *op, s session, text, catalog, database string) (_ *query, err error) {
	q := &query{strategy: s.strategy, sid: s.id, tel: o.tel}
	ctx, span := q.tel.phase(ctx, spanPrepare, q)
	defer func() { endPhase(span, err, attribute.String("query_id", q.id)) }()
	method := enginepb.QueryEngineService_PrepareStatement_FullMethodName
	var req any = &enginepb.PrepareStatementRequest{SessionId: q.sid, Schema: database, QueryString: text}
	if catalog != "" {
		method = enginepb.QueryEngineService_PrepareStatementV2_FullMethodName
		req = &enginepb.PrepareStatementV2Request{SessionId: q.sid, Schema: database, Catalog: catalog, QueryString: text}
	}
	prep, err := cn.prepareCall(ctx, q, method, req)
	if err != nil {
		return nil, failAt(stagePrepare, nil, err)
	}
	q.id, q.engineIP = prep.GetQueryId(), prep.GetEngineIP()
	if q.id == "" {
		return nil, failAt(stagePrepare, nil, errFinal{&Error{Op: "prepare", sentinel: ErrProtocol, Message: "the server returned no query ID"}})
	}
	cn.lastQueryID = q.id
	q.tel.prepared(q)
	return q, nil
}

// abandonedPrepareGrace is how long a prepare whose caller gave up may
// still run to learn the ID of the query it registered, so as to clear it.
const abandonedPrepareGrace = 10 * time.Second

type prepareResult struct {
	resp     *enginepb.PrepareStatementResponse
	err      error
	timedOut bool // the prepare timeout, not the caller, ended the call
}

// prepareCall sends the prepare detached from ctx's cancellation (bounded
// by the prepare timeout, the connector's life and, once ctx has ended,
// abandonedPrepareGrace) and waits for it or for ctx. A caller whose ctx
// ends gets ctx's error at once; the prepare goes on in the background and,
// if the server answers with a query ID, that query is cleared. Otherwise a
// prepare the server completed just as the caller gave up would leave a
// query open that nobody knows the ID of.
func (cn *conn) prepareCall(ctx context.Context, q *query, method string, req any) (*enginepb.PrepareStatementResponse, error) {
	ctr := cn.ctr
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The caller's deadline is not sent to the server (it would cut the
	// prepare at the moment the caller gives up); the prepare timeout is.
	// ctx's values are kept.
	var pctx context.Context
	var pcancel context.CancelFunc
	if t := ctr.cfg.PrepareTimeout; t > 0 {
		pctx, pcancel = context.WithTimeout(context.WithoutCancel(ctx), t)
	} else {
		pctx, pcancel = context.WithCancel(context.WithoutCancel(ctx))
	}
	endWithConnector := context.AfterFunc(cn.life, pcancel)
	results := make(chan prepareResult)
	abandon := make(chan struct{})
	spawned := ctr.spawn(func() {
		defer pcancel()
		defer endWithConnector()
		var resp enginepb.PrepareStatementResponse
		err := cn.ctr.rpc.Invoke(pctx, rpc.Call{Method: method, Strategy: q.strategy, PlannerIP: q.engineIP}, req, &resp)
		// pctx's only deadline is the prepare timeout's (the caller's is
		// not in it), and the server may answer DEADLINE_EXCEEDED a moment
		// before pctx's own timer fires.
		timedOut := err != nil && ctr.cfg.PrepareTimeout > 0 &&
			(errors.Is(pctx.Err(), context.DeadlineExceeded) || rpc.Classify(err) == rpc.KindDeadline)
		select {
		case results <- prepareResult{&resp, err, timedOut}:
		case <-abandon:
			if err == nil && resp.GetQueryId() != "" {
				ctr.forget(&query{id: resp.GetQueryId(), engineIP: resp.GetEngineIP(), strategy: q.strategy, sid: q.sid}, q.sid, false)
			}
		}
	})
	if !spawned {
		pcancel()
		endWithConnector()
		return nil, errFinal{&Error{Op: "prepare", sentinel: ErrConnClosed, Message: "connector closed"}}
	}
	select {
	case r := <-results:
		if r.timedOut && ctx.Err() == nil {
			return nil, errFinal{&Error{Op: "prepare", sentinel: ErrTimeout, Strategy: q.strategy, cause: r.err,
				Message: fmt.Sprintf("prepare-timeout=%v reached: %s did not finish preparing the statement", ctr.cfg.PrepareTimeout, ctr.target)}}
		}
		return r.resp, r.err
	case <-ctx.Done():
		close(abandon)
		time.AfterFunc(abandonedPrepareGrace, pcancel)
		return nil, ctx.Err()
	}
}

// runOnce is one attempt: session, prepare, execute, metadata, the first
// batches (with drain, all of them). A failure says how far it got.
func (cn *conn) runOnce(ctx context.Context, o *op, text string, params []*enginepb.ParameterValue, qo queryOptions, drain bool) (*rows, error) {
	s, err := cn.ensureSession(ctx, o)
	if err != nil {
		return nil, failAt(stageSession, nil, err)
	}
	ctr := cn.ctr
	q, err := cn.prepare(ctx, o, s, text, qo.catalog, qo.database)
	if err != nil {
		return nil, err
	}
	ctr.track(q)
	o.queryID = q.id
	var exec enginepb.ExecuteStatementResponse
	ectx, span := q.tel.phase(ctx, spanExecute, q)
	if params != nil || qo.catalog != "" { // executeStatementV2 follows prepareStatementV2
		err = cn.call(ectx, q, enginepb.QueryEngineService_ExecuteStatementV2_FullMethodName,
			&enginepb.ExecuteStatementV2Request{EngineIP: q.engineIP, SessionId: q.sid, QueryId: q.id, Params: params}, &exec)
	} else {
		err = cn.call(ectx, q, enginepb.QueryEngineService_ExecuteStatement_FullMethodName,
			&enginepb.ExecuteStatementRequest{EngineIP: q.engineIP, SessionId: q.sid, QueryId: q.id}, &exec)
	}
	if err != nil {
		endPhase(span, err)
		ctr.forget(q, q.sid, ctx.Err() != nil)
		return nil, failAt(stageExecute, q, err)
	}
	var md enginepb.GetResultMetadataResponse
	err = cn.resend(ectx, o, q, stageResult, nil, func(ctx context.Context) error {
		return cn.call(ctx, q, enginepb.QueryEngineService_GetResultMetadata_FullMethodName,
			&enginepb.GetResultMetadataRequest{EngineIP: q.engineIP, SessionId: q.sid, QueryId: q.id}, &md)
	})
	endPhase(span, err)
	if err != nil {
		ctr.forget(q, q.sid, ctx.Err() != nil)
		return nil, err
	}
	meta, err := wire.DecodeMetadata(md.GetResultMetaData())
	if err != nil {
		ctr.forget(q, q.sid, false)
		return nil, failAt(stageResult, q, errFinal{&Error{Op: "metadata", sentinel: ErrProtocol, QueryID: q.id, cause: err, Message: err.Error()}})
	}
	r := newRows(cn, q, meta)
	r.read = o.read
	// The first batch, and the one after it, are fetched before the rows
	// reach the application: while no row has been delivered a failure can
	// still be recovered by running the query again, and a result of one
	// batch (most aggregates) is then complete before a deployment can cut
	// its end marker off.
	q.tel.startFetch(ctx, q)
	err = r.fetch(ctx, o)
	if err == nil && !r.done {
		if drain {
			_, err = r.drainWith(ctx, o)
		} else {
			err = r.readAhead(ctx, o)
		}
	}
	if err != nil {
		q.tel.endFetch(err)
		ctr.forget(q, q.sid, ctx.Err() != nil)
		return nil, failAt(stageResult, q, err)
	}
	return r, nil
}

// track remembers where a query runs, for calls by ID and for its pin.
func (c *Connector) track(q *query) {
	c.state.Pin(q.id, q.strategy)
	c.queries.Store(q.id, queryRef{engineIP: q.engineIP, strategy: q.strategy})
}

// forget drops a query and frees it on the server in the background (see
// release); cancelFirst sends a cancelQuery before the clear, for a query
// abandoned while it ran.
func (c *Connector) forget(q *query, sid string, cancelFirst bool) {
	c.state.Unpin(q.id)
	c.queries.Delete(q.id)
	if sid == "" {
		sid = q.sid
	}
	c.background(10*time.Second, func(ctx context.Context) {
		ctx, span := q.tel.phase(ctx, spanClear, q)
		err := c.release(ctx, q, sid, cancelFirst)
		endPhase(span, err, attribute.Bool("e6data.cancelled", cancelFirst))
	})
}

// release frees q on the server: cancelQuery first when cancelFirst, then
// clearOrCancelQuery. The query outlives its session on the server, so an
// "Access denied" (the session expired) is repaired with a fresh session on
// the query's stack; transient failures and 503s are tried again with
// backoff; all within ctx. A 456 or "not found" means the stack and its
// queries are gone already. The error is the last failure, if any.
func (c *Connector) release(ctx context.Context, q *query, sid string, cancelFirst bool) error {
	backoff := rpc.Backoff{Base: 50 * time.Millisecond, Max: time.Second}
	call := rpc.Call{Strategy: q.strategy, PlannerIP: q.engineIP}
	for attempt := 0; ; attempt++ {
		var err error
		if cancelFirst {
			call.Method = enginepb.QueryEngineService_CancelQuery_FullMethodName
			var cr enginepb.CancelQueryResponse
			if err = c.rpc.Invoke(ctx, call, &enginepb.CancelQueryRequest{EngineIP: q.engineIP, SessionId: sid, QueryId: q.id}, &cr); err == nil {
				cancelFirst = false
			}
		}
		if err == nil {
			call.Method = enginepb.QueryEngineService_ClearOrCancelQuery_FullMethodName
			var resp enginepb.ClearOrCancelQueryResponse
			if err = c.rpc.Invoke(ctx, call, &enginepb.ClearOrCancelQueryRequest{EngineIP: q.engineIP, SessionId: sid, QueryId: q.id}, &resp); err == nil {
				return nil
			}
		}
		switch rpc.Classify(err) {
		case rpc.KindAccessDenied:
			fresh, aerr := c.stackSession(ctx, q.strategy, sid)
			if aerr != nil {
				err = aerr
				if k := rpc.Classify(aerr); k != rpc.KindTransient && k != rpc.KindClusterUnavailable {
					c.log.Debug("could not free a query on the server", "query_id", q.id, "error", err)
					return err
				}
			} else {
				sid = fresh
				continue
			}
		case rpc.KindTransient, rpc.KindClusterUnavailable:
		default:
			return err
		}
		if rpc.Wait(ctx, backoff.Delay(attempt)) != nil {
			c.log.Debug("could not free a query on the server", "query_id", q.id, "error", err)
			return err
		}
	}
}

// stripTrailingSemicolon removes one trailing ';' (and the space around it).
func stripTrailingSemicolon(s string) string {
	t := strings.TrimRight(s, " \t\r\n")
	if strings.HasSuffix(t, ";") {
		return strings.TrimRight(t[:len(t)-1], " \t\r\n")
	}
	return s
}

// isReadStatement reports whether text starts (after comments and
// parentheses) with a keyword that only reads: SELECT, WITH, SHOW, DESCRIBE,
// DESC, EXPLAIN, VALUES, TABLE. Only such statements are re-run after the
// server may have started them (zero-downtime rule 10).
func isReadStatement(text string) bool {
	s := text
	for {
		s = strings.TrimLeft(s, " \t\r\n(")
		switch {
		case strings.HasPrefix(s, "--"):
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				return false
			}
			s = s[i+1:]
			continue
		case strings.HasPrefix(s, "/*"):
			i := strings.Index(s, "*/")
			if i < 0 {
				return false
			}
			s = s[i+2:]
			continue
		}
		break
	}
	end := strings.IndexFunc(s, func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') })
	if end < 0 {
		end = len(s)
	}
	switch strings.ToUpper(s[:end]) {
	case "SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "VALUES", "TABLE":
		return true
	}
	return false
}
