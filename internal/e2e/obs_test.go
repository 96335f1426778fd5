package e2e

import (
	"context"
	"database/sql"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
	"github.com/e6go/e6data/internal/enginepb"
)

// The names the driver gives its instruments, spans and events, as an
// observability backend sees them.
const (
	instrumentationName = "github.com/e6go/e6data"

	spanQuery   = "e6data.query"
	spanPrepare = "e6data.prepare"
	spanExecute = "e6data.execute"
	spanFetch   = "e6data.fetch"
	spanClear   = "e6data.clear"
	eventRetry  = "e6data.retry"
)

// telemetry is an in-memory metric reader and span recorder wired into a
// connector through its options.
type telemetry struct {
	reader *sdkmetric.ManualReader
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	opts   []e6data.Option
}

func newTelemetry(t testing.TB) *telemetry {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() {
		mp.Shutdown(context.Background())
		tp.Shutdown(context.Background())
	})
	return &telemetry{reader: reader, spans: sr, tp: tp, opts: []e6data.Option{e6data.WithMeterProvider(mp), e6data.WithTracerProvider(tp)}}
}

func (tm *telemetry) collect(t testing.TB) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := tm.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

func (tm *telemetry) find(t testing.TB, name string) (metricdata.Metrics, bool) {
	t.Helper()
	for _, sm := range tm.collect(t).ScopeMetrics {
		if sm.Scope.Name != instrumentationName {
			continue
		}
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

// has reports whether set holds every one of want.
func has(set attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		if v, ok := set.Value(kv.Key); !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// value is the sum of the data points of an int64 counter, up-down counter
// or gauge whose attributes include want (0 if none).
func (tm *telemetry) value(t testing.TB, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	m, ok := tm.find(t, name)
	if !ok {
		return 0
	}
	var n int64
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			if has(p.Attributes, want) {
				n += p.Value
			}
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			if has(p.Attributes, want) {
				n += p.Value
			}
		}
	default:
		t.Fatalf("%s is a %T", name, m.Data)
	}
	return n
}

// histogram is the count and sum of a histogram's data points matching want.
func (tm *telemetry) histogram(t testing.TB, name string, want ...attribute.KeyValue) (uint64, float64) {
	t.Helper()
	m, ok := tm.find(t, name)
	if !ok {
		return 0, 0
	}
	d, ok := m.Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%s is a %T", name, m.Data)
	}
	var n uint64
	var sum float64
	for _, p := range d.DataPoints {
		if has(p.Attributes, want) {
			n += p.Count
			sum += p.Sum
		}
	}
	return n, sum
}

// ended returns the ended spans called name.
func (tm *telemetry) ended(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range tm.spans.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

func attr(s sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func attrString(s sdktrace.ReadOnlySpan, key attribute.Key) string {
	v, _ := attr(s, key)
	return v.AsString()
}

// events returns the span's events called name whose attributes include want.
func events(s sdktrace.ReadOnlySpan, name string, want ...attribute.KeyValue) []sdktrace.Event {
	var out []sdktrace.Event
	for _, e := range s.Events() {
		if e.Name == name && has(attribute.NewSet(e.Attributes...), want) {
			out = append(out, e)
		}
	}
	return out
}

func transitionType(v string) attribute.KeyValue { return attribute.String("transition_type", v) }
func outcome(v string) attribute.KeyValue        { return attribute.String("outcome", v) }
func strategyAttr(v string) attribute.KeyValue   { return attribute.String("strategy", v) }

// A graceful deployment (announce, switch, drain) while a query streams on
// blue: the transitions are counted by transition_type, every instrument
// carries the cluster, and the spans say which stack each query ran on.
func TestTelemetryGracefulSwitch(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig, ChunkRows: 1000})
		tm := newTelemetry(t)
		db, ctr := openDB(t, srv, tm.opts...)
		ctx := context.Background()
		queries := 1
		count := func() {
			t.Helper()
			var n int64
			if err := db.QueryRowContext(ctx, "SELECT count(*) FROM customers").Scan(&n); err != nil || n != 10 {
				t.Fatalf("n=%d err=%v", n, err)
			}
			queries++
		}
		streamThroughSwitch(t, srv, db, 20000, time.Second, func() {
			if n := tm.value(t, "e6data.queries.in_flight"); n != 1 {
				t.Fatalf("in flight = %d with one query open, want 1", n)
			}
		}, func() {
			// New queries meet the announcement of green (in blue's
			// responses while it announces, or while it drains once the
			// switch is done).
			waitFor(t, 10*time.Second, "the announcement to be counted", func() bool {
				count()
				return tm.value(t, "e6data.strategy.transitions", transitionType("announced"), strategyAttr("green")) == 1
			})
		})
		for range 3 {
			count()
		}

		st := ctr.Stats()
		for _, c := range []struct {
			typ, strategy string
			want          int64
		}{{"detected", "blue", st.Detections}, {"announced", "green", st.Announcements}, {"switched", "green", st.Transitions}} {
			got := tm.value(t, "e6data.strategy.transitions", transitionType(c.typ), strategyAttr(c.strategy))
			if got != 1 || got != c.want {
				t.Errorf("transitions{%s,%s} = %d, connector stats %d; want 1", c.typ, c.strategy, got, c.want)
			}
		}
		if n := tm.value(t, "e6data.strategy.wrong_strategy", outcome("surfaced")); n != 0 {
			t.Errorf("wrong_strategy{surfaced} = %d during a graceful switch", n)
		}
		if c, _ := tm.histogram(t, "e6data.query.duration", outcome("ok")); c != uint64(queries) {
			t.Errorf("query.duration{ok} count %d, ran %d queries", c, queries)
		}
		if n := tm.value(t, "e6data.queries.in_flight"); n != 0 {
			t.Errorf("in flight = %d at the end", n)
		}
		byStrategy := map[string]int{}
		for _, q := range tm.ended(spanQuery) {
			byStrategy[attrString(q, "strategy")]++
			if r, _ := attr(q, "e6data.rows"); r.AsInt64() == 20000 && attrString(q, "strategy") != "blue" {
				t.Errorf("the old query's span says strategy %q, want blue", attrString(q, "strategy"))
			}
		}
		if byStrategy["blue"] < 1 || byStrategy["green"] < 3 || byStrategy["blue"]+byStrategy["green"] != queries {
			t.Errorf("query spans by strategy %v, ran %d queries", byStrategy, queries)
		}
	})
}

// A 456 from a stack torn down under the connector is recovered: counted
// as recovered, recorded as a retry event of the query span, and the query
// span names the stack it ended on.
func TestTelemetry456Recovered(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig})
		tm := newTelemetry(t)
		db, ctr := openDB(t, srv, tm.opts...)
		ctx := context.Background()
		if err := db.PingContext(ctx); err != nil { // a session on blue
			t.Fatal(err)
		}
		if err := srv.Switch(ctx, 0, 0); err != nil { // abrupt: blue answers 456
			t.Fatal(err)
		}
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM orders").Scan(&n); err != nil || n != 50 {
			t.Fatalf("n=%d err=%v", n, err)
		}
		rec := tm.value(t, "e6data.strategy.wrong_strategy", outcome("recovered"))
		if rec < 1 || rec != ctr.Stats().WrongStrategy {
			t.Fatalf("wrong_strategy{recovered} = %d, connector saw %d 456s; want them equal and >= 1", rec, ctr.Stats().WrongStrategy)
		}
		if s := tm.value(t, "e6data.strategy.wrong_strategy", outcome("surfaced")); s != 0 {
			t.Fatalf("wrong_strategy{surfaced} = %d, want 0", s)
		}
		if c, _ := tm.histogram(t, "e6data.query.duration", outcome("ok")); c != 1 {
			t.Fatalf("query.duration{ok} count = %d, want 1", c)
		}
		qs := tm.ended(spanQuery)
		if len(qs) != 1 {
			t.Fatalf("%d query spans, want 1", len(qs))
		}
		q := qs[0]
		if ev := events(q, eventRetry, attribute.String("reason", "wrong_strategy"), attribute.String("stale_strategy", "blue")); len(ev) < 1 {
			t.Fatalf("query span has no retry event for the 456: %+v", q.Events())
		}
		if st := attrString(q, "strategy"); st != "green" || q.Status().Code == codes.Error {
			t.Fatalf("query span strategy %q status %v, want green and no error", st, q.Status())
		}
		// The failed attempt left its prepare span with the error.
		failed := 0
		for _, p := range tm.ended(spanPrepare) {
			if p.Parent().SpanID() != q.SpanContext().SpanID() {
				t.Fatalf("prepare span not a child of the query span")
			}
			if p.Status().Code == codes.Error {
				failed++
			}
		}
		if failed < 1 {
			t.Fatal("no failed prepare span for the attempt that met the 456")
		}
	})
}

// 456s that reach the application are counted as surfaced: when the
// retries run out, and when rows had already been delivered.
func TestTelemetry456Surfaced(t *testing.T) {
	t.Run("retries exhausted", func(t *testing.T) {
		srv := startSim(t, e6sim.Config{})
		tm := newTelemetry(t)
		db, _ := openDB(t, srv, append(tm.opts, e6data.WithRetry(1, 100*time.Millisecond))...)
		ctx := context.Background()
		if err := db.PingContext(ctx); err != nil {
			t.Fatal(err)
		}
		if err := srv.Switch(ctx, 0, 0); err != nil {
			t.Fatal(err)
		}
		_, err := db.QueryContext(ctx, "SELECT 1")
		if !errors.Is(err, e6data.ErrStrategyMismatch) {
			t.Fatalf("err = %v, want ErrStrategyMismatch", err)
		}
		if s := tm.value(t, "e6data.strategy.wrong_strategy", outcome("surfaced")); s != 1 {
			t.Fatalf("wrong_strategy{surfaced} = %d, want 1", s)
		}
		if c, _ := tm.histogram(t, "e6data.query.duration", outcome("error")); c != 1 {
			t.Fatalf("query.duration{error} count = %d, want 1", c)
		}
		if n := tm.value(t, "e6data.queries.in_flight"); n != 0 {
			t.Fatalf("in flight = %d after the failure", n)
		}
		qs := tm.ended(spanQuery)
		if len(qs) != 1 || qs[0].Status().Code != codes.Error || len(events(qs[0], "exception")) != 1 {
			t.Fatalf("query span should end with the error recorded: %d spans", len(qs))
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		srv := startSim(t, e6sim.Config{ChunkRows: 100})
		tm := newTelemetry(t)
		db, _ := openDB(t, srv, tm.opts...)
		ctx := context.Background()
		rows, err := db.QueryContext(ctx, "SELECT id FROM numbers WHERE id < 5000")
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 10 && rows.Next(); i++ {
		}
		if err := srv.Switch(ctx, 0, 0); err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
		}
		if err := rows.Err(); !errors.Is(err, e6data.ErrQueryInterrupted) {
			t.Fatalf("err = %v, want ErrQueryInterrupted", err)
		}
		rows.Close()
		if s := tm.value(t, "e6data.strategy.wrong_strategy", outcome("surfaced")); s != 1 {
			t.Fatalf("wrong_strategy{surfaced} = %d, want 1", s)
		}
		if c, _ := tm.histogram(t, "e6data.query.duration", outcome("interrupted")); c != 1 {
			t.Fatalf("query.duration{interrupted} count = %d, want 1", c)
		}
		if fs := tm.ended(spanFetch); len(fs) != 1 || fs[0].Status().Code != codes.Error {
			t.Fatalf("the fetch span should end with the interruption: %d spans", len(fs))
		}
	})
}

// A suspended cluster is resumed: one resume counted with its duration, a
// resumed transition, and the wait recorded on the query span.
func TestTelemetryResume(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig, ResumeDuration: 200 * time.Millisecond})
		tm := newTelemetry(t)
		db, _ := openDB(t, srv, append(tm.opts, e6data.WithSetting("E6DATA_RESUME_POLL_INTERVAL", "0.1"), e6data.WithAutoResume(true, 30*time.Second))...)
		ctx := context.Background()
		if err := db.PingContext(ctx); err != nil {
			t.Fatal(err)
		}
		srv.Suspend()
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM customers").Scan(&n); err != nil || n != 10 {
			t.Fatalf("n=%d err=%v", n, err)
		}
		if r := tm.value(t, "e6data.cluster.resumes"); r != 1 || srv.Stats().Resumes != 1 {
			t.Fatalf("resumes = %d (simulator %d), want 1", r, srv.Stats().Resumes)
		}
		c, sum := tm.histogram(t, "e6data.cluster.resume.duration")
		if c != 1 || sum < 0.2 {
			t.Fatalf("resume.duration count %d sum %.3fs, want 1 and >= the simulator's 0.2s", c, sum)
		}
		if r := tm.value(t, "e6data.strategy.transitions", transitionType("resumed")); r != 1 {
			t.Fatalf("transitions{resumed} = %d, want 1", r)
		}
		qs := tm.ended(spanQuery)
		if len(qs) != 1 {
			t.Fatalf("%d query spans", len(qs))
		}
		ev := events(qs[0], eventRetry, attribute.String("reason", "cluster_unavailable"))
		if len(ev) != 1 {
			t.Fatalf("retry events for the resume: %+v", qs[0].Events())
		}
		var wait float64
		for _, kv := range ev[0].Attributes {
			if kv.Key == "resume_wait_s" {
				wait = kv.Value.AsFloat64()
			}
		}
		if wait < 0.2 {
			t.Fatalf("resume_wait_s = %.3f, want >= 0.2", wait)
		}
	})
}

// Expired sessions are renewed: between queries (a retry of the query) and
// in the middle of a fetch (the fetch asks again); both are counted and
// recorded on the query spans.
func TestTelemetryReauthentication(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 100})
	tm := newTelemetry(t)
	db, ctr := openDB(t, srv, tm.opts...)
	sessionExpiryScenario(t, srv, db)
	if r := tm.value(t, "e6data.reauthentications"); r != 2 || r != ctr.Stats().Reauths {
		t.Fatalf("reauthentications = %d, connector stats %d; want 2", r, ctr.Stats().Reauths)
	}
	withEvent := 0
	for _, q := range tm.ended(spanQuery) {
		if len(events(q, eventRetry, attribute.String("reason", "access_denied"))) == 1 {
			withEvent++
		}
	}
	if withEvent != 2 {
		t.Fatalf("%d query spans record the re-authentication, want 2", withEvent)
	}
}

// A query whose context ends while it streams is counted as cancelled, and
// its clear span says the query was cancelled on the server first.
func TestTelemetryCancelledQuery(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 1000})
	tm := newTelemetry(t)
	db, _ := openDB(t, srv, tm.opts...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rows, err := db.QueryContext(ctx, "SELECT id FROM numbers")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10 && rows.Next(); i++ {
	}
	cancel()
	for rows.Next() {
	}
	rows.Close()
	if c, _ := tm.histogram(t, "e6data.query.duration", outcome("cancelled")); c != 1 {
		t.Fatalf("query.duration{cancelled} count = %d, want 1", c)
	}
	waitFor(t, 10*time.Second, "the clear span", func() bool { return len(tm.ended(spanClear)) == 1 })
	if v, _ := attr(tm.ended(spanClear)[0], "e6data.cancelled"); !v.AsBool() {
		t.Fatal("the clear span of a cancelled query does not say it cancelled first")
	}
	if n := tm.value(t, "e6data.queries.in_flight"); n != 0 {
		t.Fatalf("in flight = %d", n)
	}
}

// The query span continues the caller's trace; prepare, execute, fetch and
// clear are its children and carry query_id, strategy and cluster.
func TestTelemetryQuerySpanContinuesCallerTrace(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 100})
	tm := newTelemetry(t)
	db, ctr := openDB(t, srv, tm.opts...)
	ctx, parent := tm.tp.Tracer("app").Start(context.Background(), "handler")
	rows, err := db.QueryContext(ctx, "SELECT id FROM numbers WHERE id < 250")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil || n != 250 {
		t.Fatalf("n=%d err=%v", n, err)
	}
	rows.Close()
	parent.End()
	waitFor(t, 10*time.Second, "the clear span", func() bool { return len(tm.ended(spanClear)) == 1 })

	qs := tm.ended(spanQuery)
	if len(qs) != 1 {
		t.Fatalf("%d query spans", len(qs))
	}
	q := qs[0]
	if q.Parent().SpanID() != parent.SpanContext().SpanID() || q.SpanContext().TraceID() != parent.SpanContext().TraceID() {
		t.Fatal("the query span is not a child of the caller's span")
	}
	if q.SpanKind() != trace.SpanKindClient {
		t.Errorf("query span kind %v", q.SpanKind())
	}
	qid := attrString(q, "query_id")
	cluster := ctr.Stats().Cluster
	if qid == "" || attrString(q, "strategy") != "blue" || attrString(q, "cluster") != cluster || attrString(q, "db.system.name") != "e6data" {
		t.Fatalf("query span attributes %v", q.Attributes())
	}
	for _, name := range []string{spanPrepare, spanExecute, spanFetch, spanClear} {
		ss := tm.ended(name)
		if len(ss) != 1 {
			t.Fatalf("%d %s spans, want 1", len(ss), name)
		}
		s := ss[0]
		if s.Parent().SpanID() != q.SpanContext().SpanID() {
			t.Errorf("%s is not a child of the query span", name)
		}
		if attrString(s, "query_id") != qid || attrString(s, "strategy") != "blue" || attrString(s, "cluster") != cluster {
			t.Errorf("%s attributes %v", name, s.Attributes())
		}
	}
	f := tm.ended(spanFetch)[0]
	if b, _ := attr(f, "e6data.batches"); b.AsInt64() != 3 {
		t.Errorf("fetch span batches = %v, want 3 (250 rows in batches of 100)", b.AsInt64())
	}
	if r, _ := attr(f, "e6data.rows"); r.AsInt64() != 250 {
		t.Errorf("fetch span rows = %v, want 250", r.AsInt64())
	}
	if _, ok := attr(q, "db.query.text"); ok {
		t.Error("the SQL text is on the span")
	}
}

// rows.fetched and bytes.fetched count what the server sent: the rows
// scanned and the encoded batch bytes seen on the wire.
func TestTelemetryRowsAndBytesFetched(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 1000})
	tm := newTelemetry(t)
	var wire atomic.Int64
	count := grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		err := invoker(ctx, method, req, reply, cc, opts...)
		if r, ok := reply.(*enginepb.GetNextResultBatchResponse); ok && err == nil {
			wire.Add(int64(len(r.GetResultBatch())))
		}
		return err
	})
	db, _ := openDB(t, srv, append(tm.opts, e6data.WithDialOptions(count))...)
	var scanned int64
	for _, q := range []string{"SELECT id, s FROM numbers WHERE id < 25000", "SELECT * FROM customers"} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			scanned++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	if scanned != 25010 {
		t.Fatalf("scanned %d rows", scanned)
	}
	if n := tm.value(t, "e6data.rows.fetched"); n != scanned {
		t.Errorf("rows.fetched = %d, scanned %d", n, scanned)
	}
	if b := tm.value(t, "e6data.bytes.fetched"); b != wire.Load() || b == 0 {
		t.Errorf("bytes.fetched = %d, the wire carried %d", b, wire.Load())
	}
	if c, _ := tm.histogram(t, "e6data.query.duration", outcome("ok")); c != 2 {
		t.Errorf("query.duration{ok} count = %d, want 2", c)
	}
	if n := tm.value(t, "e6data.queries.in_flight"); n != 0 {
		t.Errorf("in flight = %d after the rows were closed", n)
	}
}

// The pool gauges report the *sql.DB of OpenDB; a connector that knows no
// pool reports none.
func TestTelemetryPoolGauges(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	tm := newTelemetry(t)
	db, err := e6data.OpenDB(testConfig(t, srv, append(tm.opts, e6data.WithPool(5, 0, 0, 0))...)) // none kept warm
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var held []*sql.Conn
	for range 3 {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	held[0].Close()
	if u, i := tm.value(t, "e6data.pool.connections", attribute.String("state", "in_use")),
		tm.value(t, "e6data.pool.connections", attribute.String("state", "idle")); u != 2 || i != 1 {
		t.Fatalf("pool in_use %d idle %d, want 2 and 1", u, i)
	}
	for _, c := range held[1:] {
		c.Close()
	}
	if u := tm.value(t, "e6data.pool.connections", attribute.String("state", "in_use")); u != 0 {
		t.Fatalf("pool in_use %d after release", u)
	}

	other := newTelemetry(t)
	bare, _ := openDB(t, srv, other.opts...) // sql.OpenDB: the connector knows no pool
	if err := bare.Ping(); err != nil {
		t.Fatal(err)
	}
	if _, ok := other.find(t, "e6data.pool.connections"); ok {
		t.Fatal("pool gauges reported without a pool")
	}
}

// Every instrument carries the cluster attribute.
func TestTelemetryClusterAttribute(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	tm := newTelemetry(t)
	db, ctr := openDB(t, srv, tm.opts...)
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM customers").Scan(&n); err != nil {
		t.Fatal(err)
	}
	cluster := ctr.Stats().Cluster
	names := 0
	for _, sm := range tm.collect(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			names++
			check := func(set attribute.Set) {
				if v, ok := set.Value("cluster"); !ok || v.AsString() != cluster {
					t.Errorf("%s: a data point without cluster=%s: %v", m.Name, cluster, set.ToSlice())
				}
			}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					check(p.Attributes)
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					check(p.Attributes)
				}
			}
		}
	}
	if names < 4 { // transitions, in_flight, query.duration, rows, bytes at least
		t.Fatalf("only %d instruments reported", names)
	}
}

// BenchmarkQueryScanTelemetry is BenchmarkQueryScan with the OpenTelemetry
// SDK recording the metrics and the spans.
func BenchmarkQueryScanTelemetry(b *testing.B) {
	srv := startSim(b, e6sim.Config{ChunkRows: 1000})
	db, _ := openDB(b, srv, newTelemetry(b).opts...)
	benchScan(b, db)
}
