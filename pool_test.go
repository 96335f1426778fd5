package e6data

import (
	"testing"
	"time"
)

// The session pool's clock, without a server: a session idle past the idle
// timeout is not reused, and one past its lifetime is not kept when
// returned; either frees its slot. (Warm sessions and the pool under
// sql.Open against e6sim: internal/e2e/pool_test.go.)
func TestSessionPoolRetiresIdleAndOld(t *testing.T) {
	p := newSessionPool(3, poolLimits{idleTimeout: time.Second, maxLifetime: time.Hour})
	clock := time.Now()
	p.now = func() time.Time { return clock }
	open := func() int { n, _ := p.counts(); return n }

	idle := &conn{created: clock, sid: "idle", slot: true}
	p.lock()
	p.open++
	p.unlock()
	if !p.checkin(idle) {
		t.Fatal("a fresh session was not kept")
	}
	if !p.checkout(idle) || open() != 1 {
		t.Fatalf("a session idle within the idle timeout was not reused (%d open)", open())
	}
	if !p.checkin(idle) {
		t.Fatal("a fresh session was not kept")
	}
	clock = clock.Add(2 * time.Second) // pretend time passed
	if p.checkout(idle) {
		t.Fatal("a session idle past idle-timeout was reused")
	}
	if open() != 0 {
		t.Fatalf("the idle session's slot was not freed: %d open", open())
	}

	old := &conn{created: clock.Add(-2 * time.Hour), sid: "x", slot: true}
	p.lock()
	p.open++
	before := p.open
	p.unlock()
	if p.checkin(old) {
		t.Fatal("a connection past max-lifetime was kept")
	}
	if n := open(); n != before-1 {
		t.Fatalf("the retired connection's slot was not freed: %d open, was %d", n, before)
	}
}
