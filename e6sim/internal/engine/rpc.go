//go:build cgo

package engine

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/e6go/e6data/internal/enginepb"
)

var _ enginepb.QueryEngineServiceServer = (*Engine)(nil)

// Authenticate checks the credentials and opens a session.
func (e *Engine) Authenticate(ctx context.Context, req *enginepb.AuthenticateRequest) (*enginepb.AuthenticateResponse, error) {
	if !e.o.Users.Check(req.GetUser(), req.GetPassword()) {
		e.log.Info("authentication failed", "user", truncate(req.GetUser(), 64))
		return nil, status.Error(codes.Unauthenticated, "Access denied: invalid user or token")
	}
	s, err := e.newSession(ctx, req.GetUser())
	if err != nil {
		return nil, err
	}
	ip := e.o.EngineIP
	return &enginepb.AuthenticateResponse{SessionId: s.id, EngineIP: &ip}, nil
}

// PrepareStatement validates a query in the default catalog.
func (e *Engine) PrepareStatement(ctx context.Context, req *enginepb.PrepareStatementRequest) (*enginepb.PrepareStatementResponse, error) {
	return e.prepare(ctx, req.GetSessionId(), "", req.GetSchema(), req.GetQueryString())
}

// PrepareStatementV2 validates a query in the given catalog and schema.
func (e *Engine) PrepareStatementV2(ctx context.Context, req *enginepb.PrepareStatementV2Request) (*enginepb.PrepareStatementResponse, error) {
	return e.prepare(ctx, req.GetSessionId(), req.GetCatalog(), req.GetSchema(), req.GetQueryString())
}

func (e *Engine) prepare(ctx context.Context, sessionID, catalog, schema, sql string) (*enginepb.PrepareStatementResponse, error) {
	s, err := e.session(sessionID)
	if err != nil {
		return nil, err
	}
	sql, err = stripSQL(sql)
	if err != nil {
		return nil, err
	}
	if err := e.roomForQuery(); err != nil { // checked again when adding
		return nil, err
	}
	setTZ := ""
	if zone, ok := parseSetTimeZone(sql); ok {
		// A session setting: it lasts for the session once executed.
		if setTZ, err = e.checkTimeZone(ctx, zone); err != nil {
			return nil, err
		}
		sql = "SET TimeZone = " + quoteString(setTZ)
	}
	info, err := e.validate(ctx, catalog, schema, s.timeZone(), sql)
	if err != nil {
		return nil, err
	}
	q := &query{
		id:          e.newID("q"),
		user:        s.user,
		sql:         sql,
		catalog:     catalog,
		schema:      schema,
		nparams:     len(info.paramTypes),
		paramTypes:  info.paramTypes,
		chunkRows:   e.o.ChunkRows,
		setTimeZone: setTZ,
	}
	q.ctx, q.cancel = context.WithCancelCause(e.ctx)
	q.touch()
	if err := e.addQuery(ctx, q); err != nil {
		q.cancel(err)
		return nil, err
	}
	e.emit(QueryPrepared, q.id, sql)
	e.log.Debug("query prepared", "query_id", q.id, "catalog", catalog, "schema", schema)
	return &enginepb.PrepareStatementResponse{EngineIP: e.o.EngineIP, QueryId: q.id, SessionId: sessionID}, nil
}

// validate prepares sql in catalog.schema and describes it; errors carry
// DuckDB's message as INVALID_ARGUMENT.
func (e *Engine) validate(ctx context.Context, catalog, schema, tz, sql string) (*prepareInfo, error) {
	cn, err := e.db.connect(catalog, schema, tz)
	if err != nil {
		return nil, sqlStatus(err)
	}
	defer cn.release() // describe only prepares
	info, err := describe(ctx, cn, sql)
	if err != nil {
		return nil, sqlStatus(err)
	}
	return info, nil
}

// ExecuteStatement starts the query.
func (e *Engine) ExecuteStatement(ctx context.Context, req *enginepb.ExecuteStatementRequest) (*enginepb.ExecuteStatementResponse, error) {
	return e.execute(ctx, req.GetSessionId(), req.GetQueryId(), nil)
}

// ExecuteStatementV2 starts the query with its parameters bound.
func (e *Engine) ExecuteStatementV2(ctx context.Context, req *enginepb.ExecuteStatementV2Request) (*enginepb.ExecuteStatementResponse, error) {
	return e.execute(ctx, req.GetSessionId(), req.GetQueryId(), req.GetParams())
}

func (e *Engine) execute(ctx context.Context, sessionID, queryID string, params []*enginepb.ParameterValue) (*enginepb.ExecuteStatementResponse, error) {
	s, q, done, err := e.useQuery(sessionID, queryID)
	if err != nil {
		return nil, err
	}
	defer done()
	start := time.Now()
	if err := q.execute(ctx, e.db, s.timeZone(), params); err != nil {
		e.log.Debug("query failed to start", "query_id", q.id, "err", err)
		return nil, err
	}
	if q.setTimeZone != "" {
		s.mu.Lock()
		s.tz = q.setTimeZone
		s.mu.Unlock()
	}
	e.started.Add(1)
	e.emit(QueryExecuted, q.id, "")
	e.log.Debug("query started", "query_id", q.id, "took", time.Since(start))
	return &enginepb.ExecuteStatementResponse{SessionId: sessionID}, nil
}

// GetResultMetadata returns the result's columns.
func (e *Engine) GetResultMetadata(ctx context.Context, req *enginepb.GetResultMetadataRequest) (*enginepb.GetResultMetadataResponse, error) {
	_, q, done, err := e.useQuery(req.GetSessionId(), req.GetQueryId())
	if err != nil {
		return nil, err
	}
	defer done()
	b, err := q.metadata()
	if err != nil {
		return nil, err
	}
	return &enginepb.GetResultMetadataResponse{ResultMetaData: b, SessionId: req.GetSessionId()}, nil
}

// GetNextResultBatch returns the next batch; empty bytes mean the end.
func (e *Engine) GetNextResultBatch(ctx context.Context, req *enginepb.GetNextResultBatchRequest) (*enginepb.GetNextResultBatchResponse, error) {
	_, q, done, err := e.useQuery(req.GetSessionId(), req.GetQueryId())
	if err != nil {
		return nil, err
	}
	defer done()
	b, err := q.fetch(ctx)
	if err != nil {
		return nil, err
	}
	return &enginepb.GetNextResultBatchResponse{ResultBatch: b, SessionId: req.GetSessionId()}, nil
}

// Status reports whether the query is alive and not failed, and the rows
// produced so far.
func (e *Engine) Status(ctx context.Context, req *enginepb.StatusRequest) (*enginepb.StatusResponse, error) {
	_, q, done, err := e.useQuery(req.GetSessionId(), req.GetQueryId())
	if err != nil {
		return nil, err
	}
	defer done()
	return &enginepb.StatusResponse{Status: q.alive(), RowCount: q.rows.Load(), SessionId: req.GetSessionId()}, nil
}

// Clear frees the query. Unknown or already cleared queries are fine.
func (e *Engine) Clear(ctx context.Context, req *enginepb.ClearRequest) (*enginepb.ClearResponse, error) {
	if err := e.clear(req.GetSessionId(), req.GetQueryId()); err != nil {
		return nil, err
	}
	return &enginepb.ClearResponse{SessionId: req.GetSessionId()}, nil
}

// ClearOrCancelQuery cancels the query if it is still running and frees it.
// Unknown or already cleared queries are fine.
func (e *Engine) ClearOrCancelQuery(ctx context.Context, req *enginepb.ClearOrCancelQueryRequest) (*enginepb.ClearOrCancelQueryResponse, error) {
	if err := e.clear(req.GetSessionId(), req.GetQueryId()); err != nil {
		return nil, err
	}
	return &enginepb.ClearOrCancelQueryResponse{SessionId: req.GetSessionId()}, nil
}

func (e *Engine) clear(sessionID, queryID string) error {
	s, err := e.session(sessionID)
	if err != nil {
		return err
	}
	q := e.removeQuery(s.user, queryID)
	if q == nil {
		return nil
	}
	if q.abort(errQueryCleared) == qRunning {
		e.cancels.Add(1) // cleared before its last row: a cancellation
	}
	e.emit(QueryEnded, q.id, "")
	e.log.Debug("query cleared", "query_id", queryID, "rows", q.rows.Load())
	return nil
}

// CancelQuery interrupts the query; later batch calls fail with CANCELLED.
// The query stays known until cleared (or reclaimed). Unknown or finished
// queries are fine.
func (e *Engine) CancelQuery(ctx context.Context, req *enginepb.CancelQueryRequest) (*enginepb.CancelQueryResponse, error) {
	s, err := e.session(req.GetSessionId())
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	q := e.queries[req.GetQueryId()]
	e.mu.Unlock()
	if q != nil && q.user == s.user {
		q.touch()
		if st := q.abort(errQueryCancelled); st == qPrepared || st == qRunning {
			e.cancels.Add(1)
			e.log.Info("query cancelled", "query_id", q.id, "rows", q.rows.Load())
		}
		e.emit(QueryEnded, q.id, "")
	}
	return &enginepb.CancelQueryResponse{SessionId: req.GetSessionId()}, nil
}

// Explain returns DuckDB's EXPLAIN text for the query.
func (e *Engine) Explain(ctx context.Context, req *enginepb.ExplainRequest) (*enginepb.ExplainResponse, error) {
	s, q, done, err := e.useQuery(req.GetSessionId(), req.GetQueryId())
	if err != nil {
		return nil, err
	}
	defer done()
	text, _, err := e.explain(ctx, s, q, "EXPLAIN ")
	if err != nil {
		return nil, err
	}
	return &enginepb.ExplainResponse{Explain: text, SessionId: req.GetSessionId()}, nil
}

// ExplainAnalyze runs the query under EXPLAIN ANALYZE and returns the
// profile text. parsingTime is the time to prepare, in milliseconds.
func (e *Engine) ExplainAnalyze(ctx context.Context, req *enginepb.ExplainAnalyzeRequest) (*enginepb.ExplainAnalyzeResponse, error) {
	s, q, done, err := e.useQuery(req.GetSessionId(), req.GetQueryId())
	if err != nil {
		return nil, err
	}
	defer done()
	text, parse, err := e.explain(ctx, s, q, "EXPLAIN ANALYZE ")
	if err != nil {
		return nil, err
	}
	return &enginepb.ExplainAnalyzeResponse{
		ExplainAnalyze: text,
		ParsingTime:    parse.Milliseconds(),
		QueueingTime:   0,
		SessionId:      req.GetSessionId(),
	}, nil
}

// explain runs prefix+sql on a connection of its own (the query's
// parameters, if it was executed with some, are bound again) and joins the
// plan text.
func (e *Engine) explain(ctx context.Context, s *session, q *query, prefix string) (string, time.Duration, error) {
	q.mu.Lock()
	params := q.params
	q.mu.Unlock()
	cn, err := e.db.connect(q.catalog, q.schema, s.timeZone())
	if err != nil {
		return "", 0, sqlStatus(err)
	}
	defer cn.close() // EXPLAIN ANALYZE runs the statement: never reused
	stop1, stop2 := cn.interruptOn(q.ctx), cn.interruptOn(ctx)
	defer stop1()
	defer stop2()
	t0 := time.Now()
	rows, err := cn.runText(prefix+q.sql, params)
	if err != nil {
		if q.ctx.Err() != nil {
			return "", 0, cancelStatus(context.Cause(q.ctx))
		}
		return "", 0, sqlStatus(err)
	}
	parse := time.Since(t0)
	var b strings.Builder
	for _, r := range rows {
		if len(r) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(r[len(r)-1])
	}
	return b.String(), parse, nil
}

// DryRun validates a query without running it.
func (e *Engine) DryRun(ctx context.Context, req *enginepb.DryRunRequest) (*enginepb.DryRunResponse, error) {
	return e.dryRun(ctx, req.GetSessionId(), "", req.GetSchema(), req.GetQueryString())
}

// DryRunV2 validates a query in the given catalog without running it.
func (e *Engine) DryRunV2(ctx context.Context, req *enginepb.DryRunRequestV2) (*enginepb.DryRunResponse, error) {
	return e.dryRun(ctx, req.GetSessionId(), req.GetCatalog(), req.GetSchema(), req.GetQueryString())
}

// dryRunResult is the JSON document returned in dryrunValue.
type dryRunResult struct {
	Valid      bool           `json:"valid"`
	Columns    []dryRunColumn `json:"columns"`
	Parameters []string       `json:"parameters"`
}

type dryRunColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

func (e *Engine) dryRun(ctx context.Context, sessionID, catalog, schema, sql string) (*enginepb.DryRunResponse, error) {
	s, err := e.session(sessionID)
	if err != nil {
		return nil, err
	}
	sql, err = stripSQL(sql)
	if err != nil {
		return nil, err
	}
	info, err := e.validate(ctx, catalog, schema, s.timeZone(), sql)
	if err != nil {
		return nil, err
	}
	out := dryRunResult{Valid: true, Columns: []dryRunColumn{}, Parameters: info.paramTypes}
	if out.Parameters == nil {
		out.Parameters = []string{}
	}
	for _, p := range info.plan {
		out.Columns = append(out.Columns, dryRunColumn{Name: p.name, Type: p.wt.String()})
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "dry run: %v", err)
	}
	return &enginepb.DryRunResponse{DryrunValue: string(b)}, nil
}

// GetDynamicParams lists the query's placeholders (1-based index, vector
// type name, empty value).
func (e *Engine) GetDynamicParams(ctx context.Context, req *enginepb.GetDynamicParamsRequest) (*enginepb.GetDynamicParamsResponse, error) {
	_, q, done, err := e.useQuery(req.GetSessionId(), req.GetQueryId())
	if err != nil {
		return nil, err
	}
	defer done()
	resp := &enginepb.GetDynamicParamsResponse{SessionId: req.GetSessionId()}
	for i, t := range q.paramTypes {
		resp.Params = append(resp.Params, &enginepb.ParameterValue{Index: int32(i + 1), Type: t})
	}
	return resp, nil
}

// supportedProps maps a lower-case property name to the DuckDB setting.
var supportedProps = map[string]string{
	"timezone": "TimeZone",
}

// SetProps applies session properties given as key=value pairs separated by
// newlines, ';' or ','. Supported: TimeZone (an IANA zone name, as DuckDB
// accepts it). Unknown keys and bad values fail with INVALID_ARGUMENT and
// change nothing.
func (e *Engine) SetProps(ctx context.Context, req *enginepb.SetPropsRequest) (*enginepb.SetPropsResponse, error) {
	s, err := e.session(req.GetSessionId())
	if err != nil {
		return nil, err
	}
	tz := ""
	for _, pair := range strings.FieldsFunc(req.GetProps(), func(r rune) bool { return r == '\n' || r == ';' || r == ',' }) {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return nil, status.Errorf(codes.InvalidArgument, "setProps: %q is not key=value", truncate(pair, 64))
		}
		k, v = strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `'"`)
		name, ok := supportedProps[strings.ToLower(k)]
		if !ok {
			return nil, status.Errorf(codes.InvalidArgument, "setProps: unsupported property %q (supported: TimeZone)", truncate(k, 64))
		}
		switch name {
		case "TimeZone":
			norm, err := e.checkTimeZone(ctx, v)
			if err != nil {
				return nil, err
			}
			tz = norm
		}
	}
	if tz != "" {
		s.mu.Lock()
		s.tz = tz
		s.mu.Unlock()
	}
	return &enginepb.SetPropsResponse{}, nil
}

// setTimeZoneRE matches the statements that set the session's time zone:
// SET [SESSION|LOCAL] TimeZone [=|TO] 'zone' and SET TIME ZONE 'zone'.
var setTimeZoneRE = regexp.MustCompile(`(?is)^\s*SET\s+(?:SESSION\s+|LOCAL\s+)?(?:TimeZone|TIME\s+ZONE)\s*(?:=|\bTO\b)?\s*'([^']*)'\s*$`)

// parseSetTimeZone reports the zone a SET TimeZone statement names.
func parseSetTimeZone(sql string) (string, bool) {
	m := setTimeZoneRE.FindStringSubmatch(sql)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// checkTimeZone validates a zone with DuckDB and returns its canonical name.
func (e *Engine) checkTimeZone(ctx context.Context, tz string) (string, error) {
	cn, err := e.db.connect("", "", tz)
	if err != nil {
		return "", status.Errorf(codes.InvalidArgument, "TimeZone %q: %v", truncate(tz, 64), err)
	}
	defer cn.release()
	rows, err := cn.queryText(ctx, "SELECT CAST(current_setting('TimeZone') AS VARCHAR)")
	if err != nil || len(rows) != 1 {
		return "", sqlStatus(err)
	}
	return rows[0][0], nil
}

// HealthCheck always succeeds while the engine is open.
func (e *Engine) HealthCheck(ctx context.Context, req *enginepb.HealthCheckRequest) (*enginepb.HealthCheckResponse, error) {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return nil, errClosed()
	}
	return &enginepb.HealthCheckResponse{}, nil
}
