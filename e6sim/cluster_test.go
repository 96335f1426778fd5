package e6sim

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/e6go/e6data/internal/enginepb"
)

func TestSuspendResume(t *testing.T) {
	for _, mode := range bothSignals {
		t.Run(mode.String(), func(t *testing.T) {
			s := start(t, Config{Signal: mode, ResumeDuration: 50 * time.Millisecond})
			c := dial(t, s.Addr())
			sess := c.mustAuth("blue")
			q := c.mustQuery("blue", sess, "SELECT 1")

			s.Suspend()
			_, err := c.auth("blue")
			wantSignal(t, err, mode, 503)
			_, err = c.batch("blue", sess, q)
			wantSignal(t, err, mode, 503)
			// 503 wins over 456: a suspended cluster has no live stack to route to.
			_, err = c.auth("green")
			wantSignal(t, err, mode, 503)

			// ClusterService answers, whatever the strategy header.
			for _, strategy := range []string{"", "blue", "green", "purple"} {
				got, err := c.clusterStatus(strategyKV(strategy)...)
				if err != nil || got != StatusSuspended {
					t.Fatalf("status with strategy %q: %q, %v", strategy, got, err)
				}
			}
			rr, err := c.cl.Resume(ctxFor(t, "green"), &enginepb.ResumeRequest{User: "alice", Password: "token"})
			if err != nil || rr.GetStatus() != StatusResuming {
				t.Fatalf("resume: %v, %v", rr, err)
			}
			if got, _ := c.clusterStatus(); got != StatusResuming && got != StatusActive {
				t.Fatalf("status right after resume: %q", got)
			}
			// Still 503 until active (unless it already is).
			if _, err := c.auth("blue"); err != nil && !is503(err) {
				t.Fatalf("authenticate while resuming: %v", err)
			}
			waitFor(t, "the cluster to become active", func() bool {
				got, err := c.clusterStatus()
				return err == nil && got == StatusActive
			})
			// Sessions did not survive the suspension.
			_, err = c.batch("blue", sess, q)
			wantCode(t, err, codes.Internal, "Access denied")
			c.mustQuery("blue", c.mustAuth("blue"), "SELECT 1")

			st := s.Stats()
			if st.Sent503 < 3 || st.Suspends != 1 || st.Resumes != 1 || st.ClusterStatus != StatusActive {
				t.Fatalf("stats: %+v", st)
			}
		})
	}
}

func strategyKV(strategy string) []string {
	if strategy == "" {
		return nil
	}
	return []string{"strategy", strategy}
}

func TestClusterServiceRPCs(t *testing.T) {
	s := start(t, Config{Users: map[string]string{"alice": "token"}})
	c := dial(t, s.Addr())
	ctx := ctxFor(t, "")

	if got, err := c.clusterStatus(); err != nil || got != StatusActive {
		t.Fatalf("status: %q, %v", got, err)
	}
	// Resume of an active cluster is a no-op.
	if r, err := c.cl.Resume(ctx, &enginepb.ResumeRequest{User: "alice", Password: "token"}); err != nil || r.GetStatus() != StatusActive {
		t.Fatalf("resume while active: %v, %v", r, err)
	}
	sr, err := c.cl.Suspend(ctx, &enginepb.SuspendRequest{User: "alice", Password: "token"})
	if err != nil || sr.GetStatus() != StatusSuspended || s.ClusterStatus() != StatusSuspended {
		t.Fatalf("suspend: %v, %v", sr, err)
	}
	// Bad credentials: UNAUTHENTICATED on every ClusterService rpc.
	_, err = c.cl.Status(ctx, &enginepb.ClusterStatusRequest{User: "alice", Password: "wrong"})
	wantCode(t, err, codes.Unauthenticated, "invalid user or token")
	_, err = c.cl.Resume(ctx, &enginepb.ResumeRequest{User: "mallory", Password: "token"})
	wantCode(t, err, codes.Unauthenticated, "")
	_, err = c.cl.Suspend(ctx, &enginepb.SuspendRequest{})
	wantCode(t, err, codes.Unauthenticated, "")
	if s.ClusterStatus() != StatusSuspended {
		t.Fatal("a rejected resume changed the status")
	}
	if got := s.Resume(); got != StatusResuming {
		t.Fatalf("Resume() = %q", got)
	}
	if got := s.Resume(); got != StatusResuming {
		t.Fatalf("second Resume() = %q", got)
	}
	waitFor(t, "active", func() bool { return s.ClusterStatus() == StatusActive })
	if got := s.Stats().RPCs["ClusterService/status"]; got != 2 {
		t.Fatalf("ClusterService/status count %d", got)
	}
}

// Suspending while resuming cancels the resume.
func TestSuspendWhileResuming(t *testing.T) {
	s := start(t, Config{ResumeDuration: time.Hour})
	s.Suspend()
	s.Resume()
	s.Suspend()
	if s.ClusterStatus() != StatusSuspended {
		t.Fatalf("status %q", s.ClusterStatus())
	}
}

func TestAutoSuspend(t *testing.T) {
	s := start(t, Config{AutoSuspendAfter: 50 * time.Millisecond})
	c := dial(t, s.Addr())
	// Idle since it started: it suspends itself.
	waitFor(t, "auto-suspend", func() bool { return s.ClusterStatus() == StatusSuspended })
	_, err := c.auth("")
	wantSignal(t, err, SignalHTTP, 503)
	s.Resume()
	// Once active again, the idle clock runs again. (The active spell
	// lasts 50 ms, too short to be sure to see on a loaded machine: the
	// suspensions are counted instead.)
	waitFor(t, "the second auto-suspend", func() bool { return s.Stats().Suspends == 2 })
	if st := s.Stats(); st.Suspends != 2 || st.Resumes != 1 || st.ClusterStatus != StatusSuspended {
		t.Fatalf("stats: %+v", st)
	}
}

func TestExpireSessions(t *testing.T) {
	s := start(t, Config{})
	c := dial(t, s.Addr())
	blue := c.mustAuth("blue")
	q := c.mustQuery("blue", blue, "SELECT 1")
	s.ExpireSessions()
	_, err := c.batch("blue", blue, q)
	wantCode(t, err, codes.Internal, "Access denied")
	_, err = c.query("blue", blue, "SELECT 1")
	wantCode(t, err, codes.Internal, "Access denied")
	c.mustQuery("blue", c.mustAuth("blue"), "SELECT 1")
}

func TestSessionTTL(t *testing.T) {
	s := start(t, Config{SessionTTL: 50 * time.Millisecond})
	c := dial(t, s.Addr())
	sess := c.mustAuth("blue")
	waitFor(t, "the session to expire", func() bool {
		_, err := c.query("blue", sess, "SELECT 1")
		if err == nil {
			return false
		}
		wantCode(t, err, codes.Internal, "Access denied")
		return true
	})
}

func TestClusterName(t *testing.T) {
	s := start(t, Config{ClusterName: "Prod-1"})
	c := dial(t, s.Addr())
	for _, name := range []string{"", "prod-1", "PROD-1"} {
		kv := []string{}
		if name != "" {
			kv = []string{"cluster-name", name}
		}
		if _, err := c.qe.Authenticate(ctxFor(t, "blue", kv...), &enginepb.AuthenticateRequest{User: "u", Password: "p"}); err != nil {
			t.Fatalf("cluster-name %q: %v", name, err)
		}
		if _, err := c.clusterStatus(kv...); err != nil {
			t.Fatalf("cluster status with cluster-name %q: %v", name, err)
		}
	}
	// Another cluster: NOT_FOUND, before any strategy or suspension check.
	_, err := c.qe.Authenticate(ctxFor(t, "green", "cluster-name", "staging"), &enginepb.AuthenticateRequest{User: "u", Password: "p"})
	wantCode(t, err, codes.NotFound, `cluster "staging" not found`)
	_, err = c.clusterStatus("cluster-name", "staging")
	wantCode(t, err, codes.NotFound, "staging")
	s.Suspend()
	_, err = c.qe.Authenticate(ctxFor(t, "blue", "cluster-name", "staging"), &enginepb.AuthenticateRequest{User: "u", Password: "p"})
	wantCode(t, err, codes.NotFound, "staging")
}

// The exact statuses a grpc-go client sees, as documented in doc.go.
func TestSignalFormsExactly(t *testing.T) {
	want := map[Signal][2]string{
		SignalHTTP: {
			"rpc error: code = Unknown desc = unexpected HTTP status code received from server: 456 (); malformed header: missing HTTP content-type",
			"rpc error: code = Unavailable desc = unexpected HTTP status code received from server: 503 (Service Unavailable); malformed header: missing HTTP content-type",
		},
		SignalGRPC: {
			`rpc error: code = Unknown desc = status: 456 wrong strategy: strategy "green" is not live (live: blue)`,
			"rpc error: code = Unavailable desc = status: 503 service unavailable: cluster is suspended",
		},
	}
	for _, mode := range bothSignals {
		t.Run(mode.String(), func(t *testing.T) {
			s := start(t, Config{Signal: mode})
			c := dial(t, s.Addr())
			if _, err := c.auth("green"); err == nil || err.Error() != want[mode][0] {
				t.Errorf("456: got %v\nwant %s", err, want[mode][0])
			}
			s.Suspend()
			if _, err := c.auth("blue"); err == nil || err.Error() != want[mode][1] {
				t.Errorf("503: got %v\nwant %s", err, want[mode][1])
			}
		})
	}
}
