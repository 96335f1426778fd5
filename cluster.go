package e6data

import (
	"container/list"
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/e6go/e6data/internal/bluegreen"
	"github.com/e6go/e6data/internal/enginepb"
	"github.com/e6go/e6data/internal/resume"
	"github.com/e6go/e6data/internal/rpc"
)

// A cluster is what every Connector to one cluster target in the process
// shares: the strategy state (active and pending strategy, pins, timeline,
// and with it the single flight of detection), the event counters Stats
// reports (counted once per event, see counter), the single flight
// that confirms a stale strategy, and the single flight of auto-resume. The
// strategy is a property of the cluster, not of a Connector: two Connectors
// with different credentials share it too. Everything else (credentials,
// sessions, gRPC connections, logger, metrics, tracer, pool) stays with
// each Connector.
//
// The state's own settings (cache timeout, pin limit and TTL, resume poll
// interval and timeout) are those of the Connector that created it.
type cluster struct {
	key    string
	state  *bluegreen.State
	counts counters // the events Stats reports, counted once each

	// skew is added to the wall clock the state reads: a test hook that
	// moves one cluster's clock without touching any other.
	skew atomic.Int64

	mu      sync.Mutex
	members []*Connector // open Connectors using the cluster, oldest first
	confirm *confirmFlight
	resumer *resume.Resumer

	lru *list.Element // the cluster's place among released clusters; nil while in use
}

// confirmFlight is one confirmation of a stale strategy, shared by the
// callers that find it stale while it runs.
type confirmFlight struct {
	done chan struct{}
}

// clusterKey identifies a cluster target: host:port and cluster name,
// lower-cased (DNS names and cluster names are case-insensitive).
func clusterKey(cfg *Config, target string) string {
	return strings.ToLower(target + "/" + cfg.ClusterName)
}

// clusterRegistry holds the clusters of the process: those in use by at
// least one open Connector, and up to a bound of released ones, least
// recently released first out, so that a Connector opened again finds the
// strategy it knew. Its zero value is ready to use.
type clusterRegistry struct {
	mu       sync.Mutex
	clusters map[string]*cluster // in use or released
	released list.List           // of *cluster, most recently released at the front
}

// clusters is the process's registry. It holds nothing until the first
// Connector is made.
var clusters clusterRegistry

// acquire returns the cluster for c's target, made on first use, with c
// counted as one of its members. A released cluster is taken back, with the
// strategy it knew.
func (r *clusterRegistry) acquire(c *Connector, key string) *cluster {
	r.mu.Lock()
	defer r.mu.Unlock()
	cl := r.clusters[key]
	if cl == nil {
		cl = newCluster(c.cfg, key)
		if r.clusters == nil {
			r.clusters = make(map[string]*cluster)
		}
		r.clusters[key] = cl
	}
	if cl.lru != nil {
		r.released.Remove(cl.lru)
		cl.lru = nil
	}
	cl.mu.Lock()
	cl.members = append(cl.members, c)
	cl.mu.Unlock()
	return cl
}

// release removes c from cl's members. When c was the last one, cl is kept
// among the released clusters, of which at most keep stay (c's
// StrategyCacheSize); the least recently released go first. A cluster in use
// is never dropped.
func (r *clusterRegistry) release(cl *cluster, c *Connector, keep int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cl.mu.Lock()
	for i, m := range cl.members {
		if m == c {
			cl.members = append(cl.members[:i], cl.members[i+1:]...)
			break
		}
	}
	last := len(cl.members) == 0
	cl.mu.Unlock()
	if !last {
		return
	}
	cl.lru = r.released.PushFront(cl)
	for r.released.Len() > max(keep, 0) {
		old := r.released.Remove(r.released.Back()).(*cluster)
		old.lru = nil
		delete(r.clusters, old.key)
	}
}

// lookup returns the cluster kept for key, in use or released.
func (r *clusterRegistry) lookup(key string) *cluster {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.clusters[key]
}

func newCluster(cfg *Config, key string) *cluster {
	cl := &cluster{key: key}
	cl.state = bluegreen.New(bluegreen.Options{
		CacheTimeout: cfg.StrategyCacheTimeout,
		PinLimit:     cfg.QueryMappingCacheSize,
		PinTTL:       cfg.CacheTTL,
		Now:          cl.now,
		OnEvent:      cl.event,
		OnSwitchover: cl.switchover,
	})
	cl.resumer = &resume.Resumer{
		API:          clusterAPI{cl: cl},
		PollInterval: cfg.ResumePollInterval,
		// Each caller waits for its own Connector's auto-resume timeout
		// (see resume); the shared run ends when the last one gives up.
		// This only bounds a run nobody would end.
		Timeout:   24 * time.Hour,
		OnPoll:    cl.polled,
		OnResumed: cl.resumed,
	}
	return cl
}

func (cl *cluster) now() time.Time {
	return time.Now().Add(time.Duration(cl.skew.Load()))
}

// each calls f for every member, outside the cluster's lock.
func (cl *cluster) each(f func(c *Connector)) {
	cl.mu.Lock()
	ms := append([]*Connector(nil), cl.members...)
	cl.mu.Unlock()
	for _, c := range ms {
		f(c)
	}
}

// member returns an open member Connector (the oldest), or nil.
func (cl *cluster) member() *Connector {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	for _, c := range cl.members {
		if !c.closed.Load() {
			return c
		}
	}
	return nil
}

// event and switchover reach every member's logs and metrics: each
// Connector reports what happens to its cluster.
func (cl *cluster) event(e bluegreen.Event) {
	if k, ok := transitionCounter(e.Type); ok {
		cl.counts.add(k, 1)
	}
	cl.each(func(c *Connector) { c.logEvent(e) })
}
func (cl *cluster) switchover(sw bluegreen.Switchover) {
	cl.each(func(c *Connector) { c.logSwitchover(sw) })
}

// resumed records a resume this process made: once in the shared state,
// and in every member's metrics and log.
// polled logs one status poll of a resume at DEBUG, through every member.
func (cl *cluster) polled(status string, err error) {
	st := cl.state.Active()
	cl.each(func(c *Connector) {
		c.log.Debug("resume poll", "status", status, "error", err, "strategy", st, "transition_type", bluegreen.Resumed, "query_id", "")
	})
}

func (cl *cluster) resumed(took time.Duration, called bool) {
	if !called {
		return // already active, or resumed by someone else
	}
	cl.counts.add(cResume, 1)
	st := cl.state.Active()
	cl.each(func(c *Connector) {
		c.metrics.resumed(took)
		c.log.Info("cluster resumed", "took", took.Round(time.Millisecond), "resume_called", called, "strategy", st, "transition_type", bluegreen.Resumed)
	})
	cl.state.Record(bluegreen.Event{Type: bluegreen.Resumed, To: st})
}

// clusterAPI is the ClusterService of a cluster, reached through one of
// its open Connectors (with that Connector's credentials): the resume is
// shared, so it must not depend on the Connector that happened to start it.
type clusterAPI struct{ cl *cluster }

func (a clusterAPI) via() (*Connector, error) {
	c := a.cl.member()
	if c == nil {
		return nil, &Error{Op: "resume", sentinel: ErrConnClosed, Message: "every connector of the cluster is closed"}
	}
	return c, nil
}

func (a clusterAPI) Status(ctx context.Context) (string, error) {
	c, err := a.via()
	if err != nil {
		return "", err
	}
	return c.clusterStatus(ctx)
}

func (a clusterAPI) Resume(ctx context.Context) (string, error) {
	c, err := a.via()
	if err != nil {
		return "", err
	}
	t, err := c.token(ctx)
	if err != nil {
		return "", err
	}
	var resp enginepb.ResumeResponse
	err = c.clusterCall(ctx, enginepb.ClusterService_Resume_FullMethodName, &enginepb.ResumeRequest{User: c.cfg.User, Password: t}, &resp)
	return strings.ToLower(resp.GetStatus()), err
}

// clusterStatus asks the ClusterService for the cluster's status with c's
// credentials. It never resumes.
func (c *Connector) clusterStatus(ctx context.Context) (string, error) {
	t, err := c.token(ctx)
	if err != nil {
		return "", err
	}
	var resp enginepb.ClusterStatusResponse
	err = c.clusterCall(ctx, enginepb.ClusterService_Status_FullMethodName, &enginepb.ClusterStatusRequest{User: c.cfg.User, Password: t}, &resp)
	return strings.ToLower(resp.GetStatus()), err
}

// clusterCall sends a ClusterService call with a strategy header, as
// e6data's cluster manager does: the strategy new work uses when one is
// known; with none known, blue, then green when blue answers 456 (the
// gateway routes on the header, so a call on the wrong one may never reach
// the service). The header does not move new work: a ClusterService call
// is not routed per stack the way queries are.
func (c *Connector) clusterCall(ctx context.Context, method string, req, resp any) error {
	if st, _ := c.state.ForNewWork(); st != "" {
		return c.rpc.Invoke(ctx, rpc.Call{Method: method, Strategy: st}, req, resp)
	}
	err := c.rpc.Invoke(ctx, rpc.Call{Method: method, Strategy: "blue"}, req, resp)
	if rpc.Classify(err) == rpc.KindWrongStrategy {
		err = c.rpc.Invoke(ctx, rpc.Call{Method: method, Strategy: "green"}, req, resp)
	}
	return err
}

// resume brings a suspended cluster back (rule 8), once per cluster at a
// time for the whole process, waiting at most the auto-resume timeout. The strategy stays what it was: a resume is
// not a deployment.
func (c *Connector) resume(ctx context.Context) error {
	timeout := c.cfg.AutoResumeTimeout
	if timeout <= 0 {
		timeout = 300 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := c.cl.resumer.Resume(ctx); err != nil {
		return &Error{Op: "resume", sentinel: ErrClusterUnavailable, cause: err, Message: err.Error()}
	}
	return nil
}

// reconfirm runs probe to confirm a strategy found stale, unless another
// confirmation of the cluster runs already: then it waits for that one (or
// ctx) and reports ran=false. Only the caller whose probe ran gets its error.
func (cl *cluster) reconfirm(ctx context.Context, probe func(ctx context.Context) error) (ran bool, err error) {
	cl.mu.Lock()
	if f := cl.confirm; f != nil {
		cl.mu.Unlock()
		select {
		case <-f.done:
			return false, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	f := &confirmFlight{done: make(chan struct{})}
	cl.confirm = f
	cl.mu.Unlock()
	defer func() {
		cl.mu.Lock()
		cl.confirm = nil
		cl.mu.Unlock()
		close(f.done)
	}()
	return true, probe(ctx)
}

// confirmStrategy confirms the strategy of the connection's session, which
// was last confirmed longer ago than the strategy cache timeout, before new
// work relies on it: one cheap call on it (the catalog listing Ping makes,
// which needs no session), shared by the connections that find it stale at
// the same time. Its success refreshes the confirmation (through the call
// path's observer); a 456 invalidates the strategy and the connection
// authenticates again, detecting the live strategy. Any other failure is
// returned for the caller's recovery to judge.
func (cn *conn) confirmStrategy(ctx context.Context, o *op) error {
	ctr := cn.ctr
	st := cn.strategy
	probe := func(ctx context.Context) error {
		var resp enginepb.GetCatalogesResponse
		return ctr.rpc.Invoke(ctx, rpc.Call{Method: enginepb.QueryEngineService_GetCataloges_FullMethodName, Strategy: st},
			&enginepb.GetCatalogesRequest{}, &resp)
	}
	ran, err := ctr.cl.reconfirm(ctx, func(ctx context.Context) error {
		// Another connection's confirmation may have ended between this
		// one finding the strategy stale and starting its own: then the
		// strategy is fresh again and needs no call.
		if want, fresh := ctr.state.ForNewWork(); want == st && fresh {
			return nil
		}
		err := probe(ctx)
		ctr.stratLog.Debug("strategy past its cache timeout: confirmed by one call", "strategy", st,
			"cache_timeout", ctr.cfg.StrategyCacheTimeout, "ok", err == nil, "error", err)
		return err
	})
	if !ran {
		if err != nil {
			return err
		}
		// Another connection's confirmation ended: trust what it found,
		// or confirm on our own if it found nothing.
		want, fresh := ctr.state.ForNewWork()
		switch {
		case want == st && fresh:
			return nil
		case want != st:
			cn.sid = "" // ensureSession authenticates on the new strategy
			return nil
		}
		err = probe(ctx)
	}
	if err == nil || rpc.Classify(err) != rpc.KindWrongStrategy {
		return err
	}
	ctr.state.InvalidateAt(st, "", sentAt(err))
	o.n456++
	o.stale = st
	cn.sid = "" // ensureSession detects and authenticates
	return nil
}
