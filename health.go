package e6data

import (
	"context"
	"database/sql"
	"time"

	"github.com/e6go/e6data/internal/bluegreen"
)

// Health is a point-in-time report on a Connector's cluster: what the
// ClusterService says about it, where new work goes, the pool and the last
// switchover. It is meant for health endpoints, dashboards and `e6 status`.
type Health struct {
	Cluster string    // host:port[/cluster-name]
	Checked time.Time // when the report was taken

	// ClusterStatus is the ClusterService status (active, suspended,
	// resuming, ...), or "unknown" when it could not be read; StatusErr
	// then says why. StatusLatency is the round trip of that call.
	ClusterStatus string
	StatusErr     error
	StatusLatency time.Duration

	Active   string         // strategy for new work ("" while unknown)
	Pending  string         // announced, not yet confirmed
	InFlight map[string]int // queries in flight per strategy

	// Pool is the database/sql pool's statistics when the connector knows
	// its pool (OpenDB or ConfigurePool), else the connector's own count of
	// its sessions. MaxOpenConnections is the connector's bound
	// (MaxConnections), which holds on every path.
	Pool *sql.DBStats

	// Switchover is the one in progress, else the last one completed, else
	// nil. Stats carries the counters and the recent transition timeline.
	Switchover *Switchover
	Stats      Stats
}

// Healthy reports whether the cluster answered and is active.
func (h Health) Healthy() bool { return h.StatusErr == nil && h.ClusterStatus == "active" }

// Switchover is one move of new work from one stack to the other, with the
// moments that mark its progress (zero when not seen).
type Switchover struct {
	From, To    string
	Announced   time.Time // the first new_strategy announcement of To
	Switched    time.Time // the first successful call on To: new work moved
	OldFinished time.Time // the last query pinned to From finished
	OldGone     time.Time // From answered 456
	Rollback    bool      // a move back to the previous stack within the rollback window
	InProgress  bool      // queries still run on From
}

// healthStatusTimeout bounds the ClusterService call of Health when the
// caller's context has no deadline.
const healthStatusTimeout = 10 * time.Second

// Health reports on the cluster. It never changes the strategy state and
// never resumes a suspended cluster; an unreachable ClusterService is
// reported in StatusErr, not returned as an error. The error is non-nil only
// when the connector is closed or ctx has ended.
func (c *Connector) Health(ctx context.Context) (Health, error) {
	if c.closed.Load() {
		return Health{}, ErrConnClosed
	}
	h := Health{
		Cluster: clusterLabel(c.cfg, c.target),
		Checked: time.Now(),
		Active:  c.state.Active(),
		Pending: c.state.Pending(),
	}
	sctx, cancel := ctx, context.CancelFunc(func() {})
	if _, ok := ctx.Deadline(); !ok {
		sctx, cancel = context.WithTimeout(ctx, healthStatusTimeout)
	}
	start := time.Now()
	status, err := c.clusterStatus(sctx)
	cancel()
	h.StatusLatency = time.Since(start)
	if ctx.Err() != nil {
		return Health{}, ctx.Err()
	}
	if err != nil {
		h.ClusterStatus, h.StatusErr = "unknown", newError("health", "", err)
	} else {
		h.ClusterStatus = status
	}
	h.InFlight = c.state.InFlight()
	h.Pool = c.poolStats()
	if sw, ok := c.state.Switchover(); ok {
		h.Switchover = publicSwitchover(sw, true)
	} else if last := c.lastSwitchover.Load(); last != nil {
		h.Switchover = publicSwitchover(*last, false)
	}
	h.Stats = c.Stats()
	return h, nil
}

func publicSwitchover(sw bluegreen.Switchover, inProgress bool) *Switchover {
	return &Switchover{
		From: sw.From, To: sw.To,
		Announced: sw.Announced, Switched: sw.Switched,
		OldFinished: sw.OldFinished, OldGone: sw.OldGone,
		Rollback: sw.Rollback, InProgress: inProgress,
	}
}

// poolStats reports the pool: database/sql's statistics when the connector
// knows its *sql.DB, else its own count of sessions.
func (c *Connector) poolStats() *sql.DBStats {
	open, idle := c.pool.counts()
	waits, waited := c.pool.waitStats()
	if db := c.metrics.db.Load(); db != nil {
		st := db.Stats()
		st.MaxOpenConnections = c.cfg.MaxConnections
		st.WaitCount += waits // database/sql's open limit is the connector's: callers wait there
		st.WaitDuration += waited
		return &st
	}
	return &sql.DBStats{MaxOpenConnections: c.cfg.MaxConnections, OpenConnections: open, InUse: open - idle, Idle: idle,
		WaitCount: waits, WaitDuration: waited}
}
