package e6sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/e6go/e6data/e6sim/internal/engine"
)

// ErrClosed is returned by operations on a closed Server.
var ErrClosed = errors.New("e6sim: server closed")

// stack is one deployment (blue or green): its own engine, sessions and
// queries, over the shared database. The engine's generation counts
// teardowns, so that a call can tell it was interrupted by one even when
// the stack is serving again by the time it looks (it was draining, and
// the switch that tore it down made it live anew).
type stack struct {
	name string
	eng  *engine.Engine
}

// reset tears the stack down: its sessions and queries are gone. The
// teardown is recorded before the queries are dropped.
func (s *Server) reset(st *stack, reason string) {
	s.record.tornDown(st.name, reason)
	st.eng.Reset()
}

// routeState is an immutable snapshot of which stacks serve traffic. It is
// replaced as a whole (atomically) on every transition, so the request path
// reads it without locks.
type routeState struct {
	live     *stack // always set
	draining *stack // the previous live stack during its drain period, else nil
	incoming *stack // the announced next stack during an announce phase, else nil
}

// lookup returns the stack named by a strategy header if it currently serves
// traffic.
func (rs *routeState) lookup(name string) *stack {
	for _, st := range [...]*stack{rs.live, rs.draining, rs.incoming} {
		if st != nil && st.name == name {
			return st
		}
	}
	return nil
}

// phase names a stack's role for Stats.
func (rs *routeState) phase(st *stack) string {
	switch st {
	case rs.live:
		return "live"
	case rs.draining:
		return "draining"
	case rs.incoming:
		return "announced"
	}
	return "down"
}

// newStrategyFor returns the strategy that responses served by st must
// announce in new_strategy ("" for none).
func (rs *routeState) newStrategyFor(st *stack) string {
	switch {
	case st == rs.draining:
		return rs.live.name
	case st == rs.live && rs.incoming != nil:
		return rs.incoming.name
	}
	return ""
}

// route picks the stack for a QueryEngineService call, or returns nil when
// the gateway must answer 456: the strategy names no serving stack, or an
// authenticate reaches a draining stack for a user (authUser, the user in
// the request) who has no query open there: a draining stack takes no new
// sessions, but re-authenticates a user whose queries it still serves. An
// empty strategy means the live stack.
func (rs *routeState) route(strategy, method, authUser string) *stack {
	if strategy == "" {
		return rs.live
	}
	st := rs.lookup(strategy)
	if st != nil && st == rs.draining && method == "authenticate" && !st.eng.HasOpenQueries(authUser) {
		return nil
	}
	return st
}

func (s *Server) other(st *stack) *stack {
	if st == s.stacks[0] {
		return s.stacks[1]
	}
	return s.stacks[0]
}

// Live returns the live strategy.
func (s *Server) Live() string { return s.route.Load().live.name }

// Draining returns the draining strategy, or "" when none drains.
func (s *Server) Draining() string {
	if st := s.route.Load().draining; st != nil {
		return st.name
	}
	return ""
}

// Announcing returns the announced next strategy during an announce phase,
// else "".
func (s *Server) Announcing() string {
	if st := s.route.Load().incoming; st != nil {
		return st.name
	}
	return ""
}

// Switch deploys the other stack. With announce > 0 it first announces it
// for that long: the live stack puts new_strategy=<other> in its responses
// and the other stack already accepts requests. Then the other stack becomes
// live and the old one drains: it serves the calls of its existing sessions
// and queries, answers new authenticates with 456 and announces the new
// live strategy in every response. After drain it is torn down (its
// sessions and queries dropped; every call to it gets 456). drain <= 0 tears
// it down at once (an abrupt deployment: in-flight queries are lost).
//
// A stack still draining from an earlier Switch is torn down first. Switch
// returns once the new stack is live; the teardown happens in the
// background. If ctx ends during the announce phase the switch is abandoned
// (the announced stack is reset) and ctx's error returned.
func (s *Server) Switch(ctx context.Context, drain, announce time.Duration) error {
	s.switchMu.Lock()
	defer s.switchMu.Unlock()
	if s.isClosed() {
		return ErrClosed
	}

	s.opMu.Lock()
	s.teardownDrainingLocked("new switch")
	next := s.other(s.route.Load().live)
	if announce > 0 {
		rs := *s.route.Load()
		rs.incoming = next
		s.route.Store(&rs)
		s.log.Info("announcing next strategy", "live", rs.live.name, "next", next.name, "announce", announce)
	}
	s.opMu.Unlock()

	if announce > 0 {
		t := time.NewTimer(announce)
		var err error
		select {
		case <-t.C:
		case <-s.announceEnd:
		case <-ctx.Done():
			err = ctx.Err()
		case <-s.closed:
			err = ErrClosed
		}
		t.Stop()
		if err != nil {
			s.opMu.Lock()
			rs := *s.route.Load()
			if rs.incoming == next {
				rs.incoming = nil
				s.route.Store(&rs)
				s.reset(next, "switch abandoned during announce")
			}
			s.opMu.Unlock()
			s.log.Info("switch abandoned during announce", "next", next.name, "err", err)
			return fmt.Errorf("e6sim: switch abandoned: %w", err)
		}
	}

	s.opMu.Lock()
	defer s.opMu.Unlock()
	if s.isClosed() {
		return ErrClosed
	}
	old := s.route.Load().live
	s.route.Store(&routeState{live: next, draining: old})
	s.switches.Add(1)
	s.log.Info("switched", "live", next.name, "draining", old.name, "drain", drain)
	if drain <= 0 {
		s.teardownDrainingLocked("abrupt switch")
		return nil
	}
	s.drainGen++
	gen := s.drainGen
	s.drainTimer = time.AfterFunc(drain, func() {
		s.opMu.Lock()
		defer s.opMu.Unlock()
		if s.drainGen == gen {
			s.teardownDrainingLocked("drain period over")
		}
	})
	return nil
}

// EndDrain ends the current drain period now, as if it had run out: the
// draining stack, if any, is torn down. Tests use it to give a drain all
// the time its queries need and still end it at a point of their choosing.
func (s *Server) EndDrain() {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.teardownDrainingLocked("drain ended early")
}

// teardownDrainingLocked tears down the draining stack, if any. s.opMu must
// be held.
func (s *Server) teardownDrainingLocked(why string) {
	if s.drainTimer != nil {
		s.drainTimer.Stop()
		s.drainTimer = nil
	}
	s.drainGen++
	rs := *s.route.Load()
	old := rs.draining
	if old == nil {
		return
	}
	rs.draining = nil
	s.route.Store(&rs)
	s.reset(old, why)
	s.log.Info("stack torn down", slog.String("strategy", old.name), slog.String("why", why))
}
