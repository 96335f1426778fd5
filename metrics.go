package e6data

import (
	"context"
	"database/sql"
	"errors"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/e6go/e6data/internal/bluegreen"
)

// instrumentationName names the connector's meter and tracer.
const instrumentationName = "github.com/e6go/e6data"

// Outcomes of a query (attribute outcome of e6data.query.duration).
const (
	outcomeOK          = "ok"          // the result was read, or the application closed it early
	outcomeError       = "error"       // the query failed
	outcomeCancelled   = "cancelled"   // the caller's context ended first
	outcomeInterrupted = "interrupted" // ErrQueryInterrupted: ended by a deployment or an outage after rows were delivered
)

// Outcomes of a 456 (attribute outcome of e6data.strategy.wrong_strategy).
// Every 456 answer an operation (connect, ping, query, fetch) received is
// counted once, when the operation ends: "recovered" when the operation
// then succeeded (the application saw no error), "surfaced" when it ended
// in an error that reached the application (ErrStrategyMismatch after the
// retries, or ErrQueryInterrupted when rows had already been delivered).
// The 456s of the probes that detect the live strategy are not counted:
// they are how detection works, not failures.
const (
	outcomeRecovered = "recovered"
	outcomeSurfaced  = "surfaced"
)

// metrics is the connector's instrument set, built once per Connector. With
// no MeterProvider configured it is the OpenTelemetry no-op. Attribute sets
// are built up front so that recording allocates nothing.
type metrics struct {
	cluster attribute.KeyValue

	transitions    metric.Int64Counter
	wrongStrategy  metric.Int64Counter
	reauths        metric.Int64Counter
	resumes        metric.Int64Counter
	resumeDuration metric.Float64Histogram
	queryDuration  metric.Float64Histogram
	rowsFetched    metric.Int64Counter
	bytesFetched   metric.Int64Counter
	inFlight       metric.Int64UpDownCounter

	base       []metric.AddOption    // {cluster}
	baseRecord []metric.RecordOption // {cluster}
	recovered  []metric.AddOption
	surfaced   []metric.AddOption
	outcomes   map[string][]metric.RecordOption

	transitionsMu sync.Mutex
	transitionOpt map[[2]string][]metric.AddOption // {transition_type, strategy} -> options

	db    atomic.Pointer[sql.DB]                        // the pool whose gauges are reported (ConfigurePool)
	waits atomic.Pointer[func() (int64, time.Duration)] // the connector's own waits for a slot, added to the pool's
	reg   metric.Registration
}

// newMetrics builds the instruments on mp (nil: the no-op provider). An
// instrument the provider refuses is replaced by its no-op and the error
// returned for logging: metrics never stop the connector.
func newMetrics(mp metric.MeterProvider, cluster string) (*metrics, error) {
	if mp == nil {
		mp = noop.NewMeterProvider()
	}
	meter := mp.Meter(instrumentationName, metric.WithInstrumentationVersion(moduleVersion()))
	var errs []error
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	nm := noop.Meter{}
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		if err != nil {
			keep(err)
			c, _ = nm.Int64Counter(name)
		}
		return c
	}
	histogram := func(name, desc string, bounds ...float64) metric.Float64Histogram {
		h, err := meter.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc), metric.WithExplicitBucketBoundaries(bounds...))
		if err != nil {
			keep(err)
			h, _ = nm.Float64Histogram(name)
		}
		return h
	}
	m := &metrics{cluster: attribute.String("cluster", cluster), transitionOpt: map[[2]string][]metric.AddOption{}}
	m.transitions = counter("e6data.strategy.transitions", "{transition}",
		"Strategy state transitions (transition_type: detected, announced, switched, invalidated, rollback, resumed)")
	m.wrongStrategy = counter("e6data.strategy.wrong_strategy", "{response}",
		"456 (wrong strategy) answers, by outcome: recovered (the operation succeeded) or surfaced (the application got an error)")
	m.reauths = counter("e6data.reauthentications", "{reauthentication}", "Sessions renewed after Access denied")
	m.resumes = counter("e6data.cluster.resumes", "{resume}", "Cluster resumes this connector performed")
	m.resumeDuration = histogram("e6data.cluster.resume.duration", "Time from the resume call until the cluster was active",
		0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)
	m.queryDuration = histogram("e6data.query.duration", "Query time from the call until its rows were closed, by outcome",
		0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
	m.rowsFetched = counter("e6data.rows.fetched", "{row}", "Rows received in result batches")
	m.bytesFetched = counter("e6data.bytes.fetched", "By", "Encoded result batch bytes received")
	ud, err := meter.Int64UpDownCounter("e6data.queries.in_flight", metric.WithUnit("{query}"),
		metric.WithDescription("Queries started and not yet finished (rows not yet closed)"))
	if err != nil {
		keep(err)
		ud, _ = nm.Int64UpDownCounter("e6data.queries.in_flight")
	}
	m.inFlight = ud

	set := attribute.NewSet(m.cluster)
	m.base = []metric.AddOption{metric.WithAttributeSet(set)}
	m.baseRecord = []metric.RecordOption{metric.WithAttributeSet(set)}
	withOutcome := func(o string) attribute.Set { return attribute.NewSet(m.cluster, attribute.String("outcome", o)) }
	m.recovered = []metric.AddOption{metric.WithAttributeSet(withOutcome(outcomeRecovered))}
	m.surfaced = []metric.AddOption{metric.WithAttributeSet(withOutcome(outcomeSurfaced))}
	m.outcomes = map[string][]metric.RecordOption{}
	for _, o := range []string{outcomeOK, outcomeError, outcomeCancelled, outcomeInterrupted} {
		m.outcomes[o] = []metric.RecordOption{metric.WithAttributeSet(withOutcome(o))}
	}

	conns, err := meter.Int64ObservableGauge("e6data.pool.connections", metric.WithUnit("{connection}"),
		metric.WithDescription("Connections in the database/sql pool, by state: idle or in_use"))
	keep(err)
	waits, err := meter.Int64ObservableCounter("e6data.pool.waits", metric.WithUnit("{wait}"),
		metric.WithDescription("Times a caller waited for a pool connection"))
	keep(err)
	waited, err := meter.Float64ObservableCounter("e6data.pool.wait.duration", metric.WithUnit("s"),
		metric.WithDescription("Total time callers waited for a pool connection"))
	keep(err)
	if conns != nil && waits != nil && waited != nil {
		idle := metric.WithAttributeSet(attribute.NewSet(m.cluster, attribute.String("state", "idle")))
		used := metric.WithAttributeSet(attribute.NewSet(m.cluster, attribute.String("state", "in_use")))
		base := metric.WithAttributeSet(set)
		reg, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
			db := m.db.Load()
			if db == nil {
				return nil // no pool known: nothing to report
			}
			s := db.Stats()
			if w := m.waits.Load(); w != nil {
				n, d := (*w)()
				s.WaitCount += n
				s.WaitDuration += d
			}
			o.ObserveInt64(conns, int64(s.Idle), idle)
			o.ObserveInt64(conns, int64(s.InUse), used)
			o.ObserveInt64(waits, s.WaitCount, base)
			o.ObserveFloat64(waited, s.WaitDuration.Seconds(), base)
			return nil
		}, conns, waits, waited)
		keep(err)
		m.reg = reg
	}
	return m, errors.Join(errs...)
}

// close stops the pool callback.
func (m *metrics) close() {
	if m.reg != nil {
		_ = m.reg.Unregister()
	}
}

// transition counts a strategy event; recovered_456 is not a transition
// (e6data.strategy.wrong_strategy counts it).
func (m *metrics) transition(e bluegreen.Event) {
	if e.Type == bluegreen.Recovered456 {
		return
	}
	st := e.To
	if st == "" {
		st = e.From
	}
	key := [2]string{e.Type, st}
	m.transitionsMu.Lock()
	opts, ok := m.transitionOpt[key]
	if !ok {
		opts = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(m.cluster,
			attribute.String("transition_type", e.Type), attribute.String("strategy", st)))}
		m.transitionOpt[key] = opts
	}
	m.transitionsMu.Unlock()
	m.transitions.Add(context.Background(), 1, opts...)
}

// wrong456 counts n 456 answers of one operation that ended with err.
func (m *metrics) wrong456(ctx context.Context, n int64, err error) {
	if n <= 0 {
		return
	}
	if err == nil {
		m.wrongStrategy.Add(ctx, n, m.recovered...)
	} else {
		m.wrongStrategy.Add(ctx, n, m.surfaced...)
	}
}

func (m *metrics) resumed(took time.Duration) {
	ctx := context.Background()
	m.resumes.Add(ctx, 1, m.base...)
	m.resumeDuration.Record(ctx, took.Seconds(), m.baseRecord...)
}

// batch counts one result batch of rows rows and size encoded bytes.
func (m *metrics) batch(ctx context.Context, rows, size int64) {
	m.rowsFetched.Add(ctx, rows, m.base...)
	m.bytesFetched.Add(ctx, size, m.base...)
}

// moduleVersion is the connector module's version when the binary was
// built from a tagged module ("" otherwise).
var moduleVersion = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	if bi.Main.Path == instrumentationName {
		return trimDevel(bi.Main.Version)
	}
	for _, d := range bi.Deps {
		if d.Path == instrumentationName {
			return trimDevel(d.Version)
		}
	}
	return ""
})

func trimDevel(v string) string {
	if v == "(devel)" {
		return ""
	}
	return v
}
