package e6data

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/e6go/e6data/internal/bluegreen"
	"github.com/e6go/e6data/internal/rpc"
)

// Connector holds everything the connections to one cluster share: the
// configuration, the gRPC client connections (GRPCConnections of them,
// HTTP/2 multiplexing many sessions over each) and the logger. The
// cluster's strategy state is shared further, by every Connector of the
// process to the same cluster (host:port and cluster name). It is safe
// for concurrent use. Close it (sql.DB.Close does) to release it.
type Connector struct {
	cfg      *Config
	log      *slog.Logger
	stratLog *slog.Logger
	red      *logRedactor // the loggers' redactor: tokens from TokenProvider are added to it
	target   string
	cc       *grpcPool
	rpc      *rpc.Client
	cl       *cluster         // what every Connector to the same cluster target shares
	state    *bluegreen.State // cl.state
	metrics  *metrics         // OpenTelemetry instruments (no-op without a MeterProvider)
	tracing  *tracing         // nil without a TracerProvider

	queries sync.Map // queryID -> queryRef, for Status/Cancel by ID

	lastSwitchover atomic.Pointer[bluegreen.Switchover] // the last completed switchover, for Health

	stop   chan struct{}
	relMu  sync.Mutex
	relSID map[string]string // per strategy: session for freeing queries whose own session expired

	life      context.Context // ends when the connector closes
	endLife   context.CancelFunc
	lives     [lifeShards]context.Context // children of life, given to connections by turns (see conn.life)
	endLives  [lifeShards]context.CancelFunc
	nextLife  atomic.Uint32
	closeOnce sync.Once
	closed    atomic.Bool
	bgMu      sync.RWMutex // orders spawn's Add (read lock) before Close's Wait
	bg        sync.WaitGroup

	pool     *sessionPool // MaxConnections, idle timeout and lifetime, on every path
	warmOnce sync.Once    // starts keepSpare at the first Connect
	warmByDB atomic.Bool  // ConfigurePool keeps the minimum warm in its *sql.DB instead
}

// lifeShards is the number of children of the connector's life context
// that connections share by turns. Work that must end when the connector
// closes registers on its connection's one (context.AfterFunc, once per
// prepare): on life itself, every session's prepare would queue on that
// one context's lock (seen in the mutex profile of BenchmarkConcurrency at
// 1000 goroutines).
const lifeShards = 32

// queryRef is what a query-scoped call needs to reach a query.
type queryRef struct {
	engineIP string
	strategy string
}

// NewConnector returns a Connector for cfg with opts applied on top. A nil
// cfg means ConfigFromEnv. Invalid settings are reported here, not at the
// first query.
func NewConnector(cfg *Config, opts ...Option) (*Connector, error) {
	if cfg == nil {
		c, err := ConfigFromEnv(opts...)
		if err != nil {
			return nil, err
		}
		return newConnector(c)
	}
	c := cfg.Clone()
	if err := c.Apply(opts...); err != nil {
		return nil, err
	}
	return newConnector(c)
}

func newConnector(cfg *Config) (*Connector, error) {
	log, red := cfg.newLogger(os.Stdout, os.Stderr)
	target := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	c := &Connector{
		cfg:      cfg,
		red:      red,
		log:      log.With("component", "connector", "cluster", clusterLabel(cfg, target)),
		stratLog: log.With("component", "strategy", "cluster", clusterLabel(cfg, target)),
		target:   target,
		stop:     make(chan struct{}),
		pool:     newSessionPool(cfg.MaxConnections, poolLimits{idleTimeout: cfg.IdleTimeout, maxLifetime: cfg.MaxLifetime}),
	}
	warned := false
	c.life, c.endLife = context.WithCancel(context.Background())
	for i := range c.lives {
		c.lives[i], c.endLives[i] = context.WithCancel(c.life)
	}
	for _, d := range cfg.Diagnostics() {
		c.log.Log(context.Background(), d.Level, d.Message, "key", d.Key, "value", d.Value)
		warned = warned || strings.Contains(d.Message, insecureTLSRisk)
	}
	if cfg.insecureTLS() && !warned { // a TLSConfig, or a Config changed after loading
		c.log.Warn("INSECURE: TLS certificate verification is off: "+insecureTLSRisk, "key", "InsecureSkipVerify")
	}
	dialOpts, err := cfg.dialOptions()
	if err != nil {
		return nil, err
	}
	cc, err := newGRPCPool(target, cfg.grpcConnections(), dialOpts)
	if err != nil {
		return nil, &Error{Op: "connect", sentinel: ErrConfig, cause: err, Message: fmt.Sprintf("cannot use target %q", target)}
	}
	c.cc = cc
	label := clusterLabel(cfg, target)
	m, err := newMetrics(cfg.MeterProvider, label)
	if err != nil {
		c.log.Warn("some metrics are not recorded: the meter provider refused them", "error", err)
	}
	c.metrics, c.tracing = m, newTracing(cfg.TracerProvider, label)
	waits := c.pool.waitStats
	c.metrics.waits.Store(&waits)
	c.cl = clusters.acquire(c, clusterKey(cfg, target))
	c.state = c.cl.state
	c.rpc = rpc.NewClient(cc, cfg.ClusterName, observer{c})
	c.bg.Add(1)
	go c.sweepLoop()
	return c, nil
}

func clusterLabel(cfg *Config, target string) string {
	if cfg.ClusterName != "" {
		return target + "/" + cfg.ClusterName
	}
	return target
}

// Config returns a copy of the connector's configuration.
func (c *Connector) Config() *Config { return c.cfg.Clone() }

// Driver returns the e6data driver. It also leads back to c: see
// ConnectorOf.
func (c *Connector) Driver() driver.Driver { return &Driver{ctr: c} }

// ConnectorOf returns the Connector of a *sql.DB opened by OpenDB,
// sql.OpenDB on a Connector, or sql.Open("e6data", dsn), for Health, Stats
// and ConfigurePool. It reports false for any other *sql.DB.
func ConnectorOf(db *sql.DB) (*Connector, bool) {
	if db == nil {
		return nil, false
	}
	d, ok := db.Driver().(*Driver)
	if !ok || d.ctr == nil {
		return nil, false
	}
	return d.ctr, true
}

// Connect opens a session: one driver.Conn is one e6data session. The
// connector never holds more than MaxConnections sessions: a further
// Connect waits for one to end, or takes over the session of a connection
// idle in database/sql's pool. The connection timeout bounds the whole wait
// (slot and session) as well as ctx does.
func (c *Connector) Connect(ctx context.Context) (driver.Conn, error) {
	if c.closed.Load() {
		return nil, &Error{Op: "connect", sentinel: ErrConnClosed}
	}
	cctx := ctx
	if c.cfg.ConnectionTimeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, c.cfg.ConnectionTimeout)
		defer cancel()
	}
	cn := &conn{ctr: c, created: time.Now(), life: c.lives[c.nextLife.Add(1)%lifeShards]}
	g, err := c.pool.acquire(cctx, c.stop, cn)
	if err != nil {
		if errors.Is(err, ErrConnClosed) {
			return nil, &Error{Op: "connect", sentinel: ErrConnClosed, Message: "connector closed"}
		}
		if ctxEnded(cctx) && !ctxEnded(ctx) {
			return nil, &Error{Op: "connect", sentinel: ErrTimeout, cause: err, Message: fmt.Sprintf(
				"connection-timeout=%v reached waiting for a free connection to %s (max-connections=%d, all in use)",
				c.cfg.ConnectionTimeout, c.target, c.cfg.MaxConnections)}
		}
		return nil, newError("connect", "", err)
	}
	if g.sid != "" {
		cn.sid, cn.strategy, cn.created = g.sid, g.strategy, g.created
		c.startWarm()
		return cn, nil
	}
	if err := cn.open(cctx); err != nil {
		c.pool.release(cn, false)
		if uerr := c.unknownHost(ctx, err); uerr != nil {
			return nil, uerr
		}
		if ownDeadline(ctx, cctx) && (ctxEnded(cctx) || isDeadline(err) && nearDeadline(cctx)) {
			return nil, c.connectTimeout(err)
		}
		return nil, err
	}
	c.startWarm()
	return cn, nil
}

// startWarm starts keeping MinConnections sessions open, once, after the
// first session: started earlier, it would open a second session next to
// the first Connect's own.
func (c *Connector) startWarm() {
	c.warmOnce.Do(func() {
		if n := c.cfg.MinConnections; n > 0 && !c.warmByDB.Load() {
			c.spawn(func() { c.keepSpare(n) })
		}
	})
}

// ownDeadline reports whether cctx's deadline (the connection timeout)
// comes before the caller's ctx's: a deadline met while connecting is then its.
func ownDeadline(ctx, cctx context.Context) bool {
	own, ok := cctx.Deadline()
	if !ok || ctxEnded(ctx) {
		return false
	}
	dl, ok := ctx.Deadline()
	return !ok || dl.After(own)
}

// nearDeadline reports whether ctx's deadline is at most a moment away: a
// server that got the deadline in grpc-timeout gives up just before the
// client's own timer fires.
func nearDeadline(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) < 250*time.Millisecond
}

// isDeadline reports whether err is a deadline running out (the client's
// timer, or a server that gave up at the deadline it was sent).
func isDeadline(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || rpc.Classify(err) == rpc.KindDeadline
}

// connectTimeout is the error of a session the connection timeout cut
// short: the caller cancelled nothing, so it is not ErrQueryCancelled.
func (c *Connector) connectTimeout(err error) error {
	msg := fmt.Sprintf("connection-timeout=%v reached opening a session on %s", c.cfg.ConnectionTimeout, c.target)
	if why := transportReason(err); why != "" {
		msg += " (" + why + ")"
	} else {
		msg += " (no answer from the server)"
	}
	var re *rpc.Error
	cause := error(context.DeadlineExceeded)
	if errors.As(err, &re) {
		cause = re
	}
	return &Error{Op: "connect", sentinel: ErrTimeout, cause: cause, Message: msg}
}

// unknownHost tells whether a failed connect is the host name not
// resolving (gRPC's resolver reports only "produced zero addresses"), and
// then returns the error that names it.
func (c *Connector) unknownHost(ctx context.Context, err error) error {
	if errors.Is(err, ErrUnknownHost) {
		return err
	}
	host := c.cfg.Host
	if net.ParseIP(strings.Trim(host, "[]")) != nil || errors.Is(err, ErrAuth) || errors.Is(err, ErrTLS) {
		return nil
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, lerr := net.DefaultResolver.LookupHost(lctx, host)
	var dnsErr *net.DNSError
	if !errors.As(lerr, &dnsErr) || !dnsErr.IsNotFound {
		return nil
	}
	return &Error{Op: "connect", sentinel: ErrUnknownHost, cause: errors.Join(lerr, err),
		Message: fmt.Sprintf("host %q does not resolve (set by host / E6DATA_HOST)", host)}
}

// open gives a new connection its session, under the recovery engine.
func (cn *conn) open(ctx context.Context) error {
	o := cn.newOp("connect", true, nil)
	return cn.run(ctx, o, func(ctx context.Context) error {
		s, err := cn.authenticate(ctx, o)
		if err != nil {
			return failAt(stageSession, nil, err)
		}
		cn.sid, cn.strategy = s.id, s.strategy
		return nil
	})
}

// keepSpare keeps at least n sessions open under sql.Open, where the
// connector does not know the *sql.DB: sessions opened here wait in the
// pool until a Connect takes one. It checks now and again each time half
// the idle timeout has passed.
func (c *Connector) keepSpare(n int) {
	every := c.cfg.IdleTimeout / 2
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for !c.warmByDB.Load() && c.pool.reserveSpare(n) {
			s := &conn{ctr: c, created: time.Now(), life: c.lives[c.nextLife.Add(1)%lifeShards]}
			ctx, cancel := context.WithTimeout(c.life, max(c.cfg.ConnectionTimeout, time.Second))
			err := s.open(ctx)
			cancel()
			c.pool.addSpare(s, err == nil)
			if err != nil {
				if c.life.Err() == nil {
					c.log.Debug("could not keep a connection warm", "error", err)
				}
				break
			}
		}
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
	}
}

// Close releases the gRPC connection and background work. Connections still
// open fail from then on. It is idempotent.
func (c *Connector) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.bgMu.Lock() // no spawn after this point: the Wait below sees every Add
		c.closed.Store(true)
		c.bgMu.Unlock()
		close(c.stop)
		c.endLife()
		for _, end := range c.endLives {
			end()
		}
		c.bg.Wait()
		clusters.release(c.cl, c, c.cfg.StrategyCacheSize)
		c.metrics.close()
		err = c.cc.Close()
	})
	return err
}

// ConfigurePool applies the pool settings of the configuration to db, which
// must have been opened on c, and starts keeping MinConnections sessions
// warm in db's pool until c is closed. The connector holds MaxConnections,
// the idle timeout and the lifetime without it (sql.Open included);
// ConfigurePool adds database/sql's idle limits and puts the warm sessions
// in db's own pool.
func (c *Connector) ConfigurePool(db *sql.DB) {
	cfg := c.cfg
	c.metrics.db.Store(db) // the pool gauges and Health report this pool
	// No database/sql open limit: the connector bounds its sessions itself,
	// so that a caller waiting for a free connection is bounded by the
	// connection timeout (database/sql's own queue knows only ctx).
	db.SetMaxOpenConns(0)
	db.SetMaxIdleConns(cfg.MaxConnections) // idle sessions end after IdleTimeout
	db.SetConnMaxIdleTime(cfg.IdleTimeout)
	db.SetConnMaxLifetime(cfg.MaxLifetime)
	if cfg.MinConnections > 0 && !c.warmByDB.Swap(true) {
		c.spawn(func() { c.keepWarm(db, cfg.MinConnections) })
	}
}

// keepWarm makes sure at least n sessions exist in db's pool, now and again
// each time half the idle timeout has passed.
func (c *Connector) keepWarm(db *sql.DB, n int) {
	every := c.cfg.IdleTimeout / 2
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-c.stop:
			case <-ctx.Done():
			}
			cancel()
		}()
		conns := make([]*sql.Conn, 0, n)
		for i := 0; i < n; i++ {
			sc, err := db.Conn(ctx)
			if err != nil {
				if ctx.Err() == nil && !errors.Is(err, sql.ErrConnDone) {
					c.log.Debug("could not keep a connection warm", "error", err)
				}
				break
			}
			conns = append(conns, sc)
		}
		for _, sc := range conns {
			sc.Close()
		}
		cancel()
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
	}
}

func (c *Connector) sweepLoop() {
	defer c.bg.Done()
	every := c.cfg.CacheCleanupInterval
	if every <= 0 {
		every = 5 * time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			if n := c.state.Sweep(); n > 0 {
				c.stratLog.Info("dropped stale query pins", "count", n)
			}
		}
	}
}

// background runs f on a goroutine that Close waits for, with a context
// detached from the caller's and bounded by timeout.
func (c *Connector) background(timeout time.Duration, f func(ctx context.Context)) {
	c.spawn(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		f(ctx)
	})
}

// spawn runs f in a goroutine that Close waits for, unless the connector
// is closed (then it reports false and f does not run). The check and the
// WaitGroup's Add happen under bgMu's read lock; Close takes its write lock
// to mark the connector closed, so no Add can race with Close's Wait.
func (c *Connector) spawn(f func()) bool {
	c.bgMu.RLock()
	defer c.bgMu.RUnlock()
	if c.closed.Load() {
		return false
	}
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		f()
	}()
	return true
}

func (c *Connector) token(ctx context.Context) (string, error) {
	if c.cfg.TokenProvider != nil {
		t, err := c.cfg.TokenProvider(ctx)
		if err != nil {
			return "", &Error{Op: "authenticate", sentinel: ErrAuth, Message: "token provider failed", cause: err}
		}
		c.red.add(t) // a rotated token is as secret as the first
		return t, nil
	}
	return c.cfg.Token, nil
}

func (c *Connector) logEvent(e bluegreen.Event) {
	st := e.To
	if st == "" {
		st = e.From // invalidated: the strategy found not live
	}
	c.stratLog.Info("strategy "+e.Type, "transition_type", e.Type, "strategy", st, "from", e.From, "query_id", e.QueryID)
	c.metrics.transition(e)
}

// observer feeds what the call path sees into the strategy state.
type observer struct{ c *Connector }

func (o observer) Announced(call rpc.Call, s string) {
	o.c.state.Announce(call.Strategy, s, call.QueryID)
}

func (o observer) Finished(call rpc.Call, kind rpc.Kind) {
	// A ClusterService call is not routed per stack: its success says
	// nothing about where new work goes (see Connector.clusterCall).
	if kind == rpc.KindNone && call.Strategy != "" && !strings.HasPrefix(call.Method, "/ClusterService/") {
		o.c.state.Confirm(call.Strategy, call.QueryID)
	}
}
