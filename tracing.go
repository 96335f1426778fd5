package e6data

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Span names.
const (
	spanQuery   = "e6data.query"
	spanPrepare = "e6data.prepare"
	spanExecute = "e6data.execute"
	spanFetch   = "e6data.fetch"
	spanClear   = "e6data.clear"

	eventRetry = "e6data.retry" // a recovered failure: attributes reason, attempt
)

// tracing is the connector's tracer; off (no spans at all, nothing
// allocated) when no TracerProvider is configured.
type tracing struct {
	tracer trace.Tracer
	attrs  []attribute.KeyValue // on every span: db.system.name, cluster
}

func newTracing(tp trace.TracerProvider, cluster string) *tracing {
	if tp == nil {
		return nil
	}
	return &tracing{
		tracer: tp.Tracer(instrumentationName, trace.WithInstrumentationVersion(moduleVersion())),
		attrs:  []attribute.KeyValue{attribute.String("db.system.name", "e6data"), attribute.String("cluster", cluster)},
	}
}

// queryTel is the telemetry of one query, from the call until its rows are
// closed: its span (nil when tracing is off), its clock and its counts.
// Like the connection it belongs to, it is used by one goroutine at a time,
// except batch, which a fetch running ahead may call concurrently.
type queryTel struct {
	m     *metrics
	tr    *tracing
	start time.Time
	span  trace.Span // e6data.query
	fetch trace.Span // e6data.fetch while the result is read

	batches, rows, bytes atomic.Int64
	attempts             int
	done                 bool
}

// startQuery starts the telemetry of a query: the e6data.query span as a
// child of whatever span ctx carries, the in-flight count and the clock.
func (c *Connector) startQuery(ctx context.Context) (context.Context, *queryTel) {
	t := &queryTel{m: c.metrics, tr: c.tracing, start: time.Now()}
	c.metrics.inFlight.Add(ctx, 1, c.metrics.base...)
	if t.tr != nil {
		ctx, t.span = t.tr.tracer.Start(ctx, spanQuery, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(t.tr.attrs...))
	}
	return ctx, t
}

// phase starts a child span of the query (prepare, execute, fetch, clear);
// nil when tracing is off.
func (t *queryTel) phase(ctx context.Context, name string, q *query) (context.Context, trace.Span) {
	if t == nil || t.span == nil {
		return ctx, nil
	}
	ctx = trace.ContextWithSpan(ctx, t.span)
	attrs := append(t.tr.attrs[:len(t.tr.attrs):len(t.tr.attrs)], attribute.String("strategy", q.strategy))
	if q.id != "" {
		attrs = append(attrs, attribute.String("query_id", q.id))
	}
	return t.tr.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
}

// endPhase ends a span phase started, recording err.
func endPhase(span trace.Span, err error, attrs ...attribute.KeyValue) {
	if span == nil {
		return
	}
	if len(attrs) > 0 {
		span.SetAttributes(attrs...)
	}
	if err != nil {
		fail(span, err)
	}
	span.End()
}

func fail(span trace.Span, err error) {
	var f errFinal
	if errors.As(err, &f) {
		err = f.err
	}
	span.RecordError(err)
	span.SetStatus(codes.Error, err.Error())
}

// prepared records the query's ID and stack on the query span (a retry may
// change both; the last attempt's are kept).
func (t *queryTel) prepared(q *query) {
	if t == nil {
		return
	}
	t.attempts++
	if t.span != nil {
		t.span.SetAttributes(attribute.String("query_id", q.id), attribute.String("strategy", q.strategy))
	}
}

// startFetch opens the e6data.fetch span: one for the whole result, with
// the batch and row counts set when it ends (a span per batch would cost
// thousands of spans on a large result).
func (t *queryTel) startFetch(ctx context.Context, q *query) {
	if t == nil || t.span == nil || t.fetch != nil {
		return
	}
	_, t.fetch = t.phase(ctx, spanFetch, q)
}

// endFetch ends the fetch span, if open.
func (t *queryTel) endFetch(err error) {
	if t == nil || t.fetch == nil {
		return
	}
	endPhase(t.fetch, err, attribute.Int64("e6data.batches", t.batches.Load()), attribute.Int64("e6data.rows", t.rows.Load()),
		attribute.Int64("e6data.bytes", t.bytes.Load()))
	t.fetch = nil
}

// batch counts a received result batch (never per row).
func (t *queryTel) batch(ctx context.Context, rows, size int64) {
	if t == nil {
		return
	}
	t.batches.Add(1)
	t.rows.Add(rows)
	t.bytes.Add(size)
	t.m.batch(ctx, rows, size)
}

// retry records a recovered failure as an event of the query span; attempt
// is the number of the attempt that failed (0: a fetch asking again).
func (t *queryTel) retry(reason string, attempt int, attrs ...attribute.KeyValue) {
	if t == nil || t.span == nil {
		return
	}
	attrs = append(attrs, attribute.String("reason", reason))
	if attempt > 0 {
		attrs = append(attrs, attribute.Int("attempt", attempt))
	}
	t.span.AddEvent(eventRetry, trace.WithAttributes(attrs...))
}

// finish ends the query: the duration by outcome, the in-flight count and
// the spans. Only the first call counts.
func (t *queryTel) finish(ctx context.Context, outcome string, err error) {
	if t == nil || t.done {
		return
	}
	t.done = true
	if ctx == nil {
		ctx = context.Background()
	}
	t.endFetch(err)
	t.m.queryDuration.Record(ctx, time.Since(t.start).Seconds(), t.m.outcomes[outcome]...)
	t.m.inFlight.Add(ctx, -1, t.m.base...)
	if t.span == nil {
		return
	}
	t.span.SetAttributes(attribute.String("e6data.outcome", outcome), attribute.Int64("e6data.rows", t.rows.Load()))
	if t.attempts > 1 {
		t.span.SetAttributes(attribute.Int("e6data.attempts", t.attempts))
	}
	if err != nil {
		fail(t.span, err)
	}
	t.span.End()
}

// failedOutcome is the outcome of a query that ended with err.
func failedOutcome(ctx context.Context, err error) string {
	switch {
	case errors.Is(err, ErrQueryInterrupted):
		return outcomeInterrupted
	case ctx != nil && ctx.Err() != nil, errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return outcomeCancelled
	}
	return outcomeError
}
