package e6data

import (
	"context"
	"time"
)

// sessionPool is the connector's own account of its sessions. It holds
// whatever way the driver was opened (sql.Open included, where database/sql
// knows nothing of the pool settings):
//
//   - at most max sessions are open: a further Connect waits for a slot;
//   - a connection database/sql has put back in its pool is idle; a Connect
//     waiting for a slot takes its session over (the idle connection is
//     retired: its next ResetSession answers driver.ErrBadConn and
//     database/sql drops it), so waiting never needs a new session;
//   - spare sessions opened to keep MinConnections warm wait here until a
//     Connect takes one.
//
// Every field, and the pool fields of every conn (slot, idleSince, retired,
// inIdle), are guarded by mu.
type sessionPool struct {
	mu    chan struct{} // a one-slot lock
	max   int
	open  int           // sessions counted against max: in use, idle or spare
	idle  []*conn       // connections in database/sql's pool, oldest first
	spare []*conn       // usable sessions no connection holds (warm, or left by a closed one)
	wake  chan struct{} // closed (and replaced) when a slot or an idle session frees
	cfg   poolLimits    // the idle timeout and lifetime
	now   func() time.Time

	waits  int64         // Connects that had to wait for a slot
	waited time.Duration // their total wait
}

type poolLimits struct {
	idleTimeout time.Duration
	maxLifetime time.Duration
}

func newSessionPool(max int, limits poolLimits) *sessionPool {
	p := &sessionPool{mu: make(chan struct{}, 1), max: max, wake: make(chan struct{}), cfg: limits, now: time.Now}
	if p.max < 1 {
		p.max = 1
	}
	return p
}

func (p *sessionPool) lock()   { p.mu <- struct{}{} }
func (p *sessionPool) unlock() { <-p.mu }

// signal wakes every waiter; the caller holds the lock.
func (p *sessionPool) signal() {
	close(p.wake)
	p.wake = make(chan struct{})
}

// expired reports whether a session created at created, idle since
// idleSince (zero: not idle), is past the idle timeout or its lifetime.
func (p *sessionPool) expired(created, idleSince, now time.Time) bool {
	if t := p.cfg.maxLifetime; t > 0 && now.Sub(created) >= t {
		return true
	}
	if t := p.cfg.idleTimeout; t > 0 && !idleSince.IsZero() && now.Sub(idleSince) >= t {
		return true
	}
	return false
}

// grant is what acquire hands a new connection: a slot of its own and,
// when one could be taken over, a session that is still usable.
type grant struct {
	sid, strategy string
	created       time.Time
}

// acquire waits until the new connection cn may hold a session and gives it
// a slot. A session taken over from a spare or an idle connection comes
// back in the grant (sid "" means: open a new one). It fails only when ctx
// ends.
func (p *sessionPool) acquire(ctx context.Context, stop <-chan struct{}, cn *conn) (g grant, err error) {
	var waitStart time.Time
	defer func() {
		if !waitStart.IsZero() {
			p.lock()
			p.waited += time.Since(waitStart)
			p.unlock()
		}
	}()
	for {
		p.lock()
		now := p.now()
		// A spare session first: it was opened for this.
		if len(p.spare) > 0 {
			s := p.spare[0]
			p.spare = p.spare[1:]
			cn.slot = true
			p.unlock()
			if p.expired(s.created, s.idleSince, now) {
				return grant{}, nil // its slot passes to cn; a new session is opened
			}
			return grant{sid: s.sid, strategy: s.strategy, created: s.created}, nil
		}
		if p.open < p.max {
			p.open++
			cn.slot = true
			p.unlock()
			return grant{}, nil
		}
		if len(p.idle) > 0 {
			old := p.idle[0]
			p.idle = p.idle[1:]
			old.inIdle, old.retired, old.slot = false, true, false
			cn.slot = true
			g := grant{}
			if !p.expired(old.created, old.idleSince, now) && old.sid != "" {
				g = grant{sid: old.sid, strategy: old.strategy, created: old.created}
			}
			p.unlock()
			return g, nil
		}
		if waitStart.IsZero() {
			waitStart = now
			p.waits++
		}
		w := p.wake
		p.unlock()
		select {
		case <-w:
		case <-ctx.Done():
			return grant{}, ctx.Err()
		case <-stop:
			return grant{}, ErrConnClosed
		}
	}
}

// waitStats reports how many Connects waited for a slot and how long in all.
func (p *sessionPool) waitStats() (int64, time.Duration) {
	p.lock()
	defer p.unlock()
	return p.waits, p.waited
}

// release gives cn's slot back (once) when database/sql closes it. A
// session still usable (database/sql may close a connection only because
// its idle list is full) is kept as a spare with the slot, for the next
// Connect.
func (p *sessionPool) release(cn *conn, keep bool) {
	p.lock()
	defer p.unlock()
	p.dropIdle(cn)
	if !cn.slot {
		return
	}
	cn.slot = false
	now := p.now()
	if keep && cn.sid != "" && !p.expired(cn.created, cn.idleSince, now) {
		idle := cn.idleSince
		if idle.IsZero() {
			idle = now
		}
		p.spare = append(p.spare, &conn{ctr: cn.ctr, sid: cn.sid, strategy: cn.strategy, created: cn.created, idleSince: idle})
	} else {
		p.open--
	}
	p.signal()
}

// dropIdle removes cn from the idle list; the caller holds the lock.
func (p *sessionPool) dropIdle(cn *conn) {
	if !cn.inIdle {
		return
	}
	cn.inIdle = false
	for i, c := range p.idle {
		if c == cn {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			return
		}
	}
}

// checkin records that database/sql put cn back in its pool. It reports
// false when cn must not be kept (retired, or past its lifetime).
func (p *sessionPool) checkin(cn *conn) bool {
	p.lock()
	defer p.unlock()
	if cn.retired || !cn.slot {
		return false
	}
	now := p.now()
	if p.expired(cn.created, time.Time{}, now) {
		cn.slot = false // past its lifetime: the session ends, its slot frees
		p.open--
		p.signal()
		return false
	}
	cn.idleSince = now
	if !cn.inIdle && cn.sid != "" {
		cn.inIdle = true
		p.idle = append(p.idle, cn)
		p.signal()
	}
	return true
}

// checkout records that database/sql takes cn out of its pool for reuse.
// It reports false when cn was retired or its session is past the idle
// timeout or lifetime: database/sql then closes it.
func (p *sessionPool) checkout(cn *conn) bool {
	p.lock()
	defer p.unlock()
	if cn.retired || !cn.slot {
		return false
	}
	p.dropIdle(cn)
	if p.expired(cn.created, cn.idleSince, p.now()) {
		cn.slot = false // the session ends here: its slot frees now
		p.open--
		p.signal()
		return false
	}
	cn.idleSince = time.Time{}
	return true
}

// reserveSpare takes a slot for a warm session when fewer than n sessions
// are open.
func (p *sessionPool) reserveSpare(n int) bool {
	p.lock()
	defer p.unlock()
	if p.open >= n || p.open >= p.max {
		return false
	}
	p.open++
	return true
}

// addSpare hands a warm session to the next Connect; a spare that failed
// to open gives its slot back.
func (p *sessionPool) addSpare(s *conn, ok bool) {
	p.lock()
	defer p.unlock()
	if ok {
		s.idleSince = p.now()
		p.spare = append(p.spare, s)
	} else {
		p.open--
	}
	p.signal()
}

// counts reports the sessions open and those idle or spare.
func (p *sessionPool) counts() (open, idle int) {
	p.lock()
	defer p.unlock()
	return p.open, len(p.idle) + len(p.spare)
}
