package e6sim

import (
	"context"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/e6go/e6data/internal/enginepb"
)

// ClusterStatus returns "active", "suspended" or "resuming".
func (s *Server) ClusterStatus() string { return *s.status.Load() }

func (s *Server) setStatusLocked(v string) {
	p := v
	s.status.Store(&p)
}

// Suspend suspends the cluster: every QueryEngineService call gets 503 and
// the sessions and queries of both stacks are dropped. ClusterService keeps
// answering (status "suspended"). It is a no-op when already suspended.
func (s *Server) Suspend() {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.suspendLocked("suspend requested")
}

func (s *Server) suspendLocked(why string) {
	if s.ClusterStatus() == StatusSuspended || s.isClosed() {
		return
	}
	if s.resumeTimer != nil {
		s.resumeTimer.Stop()
		s.resumeTimer = nil
	}
	s.resumeGen++
	s.setStatusLocked(StatusSuspended)
	s.suspends.Add(1) // before the reset: interrupted calls see it
	for _, st := range s.stacks {
		s.reset(st, "suspend")
	}
	s.log.Info("cluster suspended", "why", why)
}

// Resume starts resuming a suspended cluster: the status is "resuming" for
// Config.ResumeDuration, then "active". QueryEngineService calls get 503
// until the cluster is active. It returns the status after the call.
func (s *Server) Resume() string {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	if s.ClusterStatus() != StatusSuspended || s.isClosed() {
		return s.ClusterStatus()
	}
	s.setStatusLocked(StatusResuming)
	s.resumeGen++
	gen := s.resumeGen
	s.resumeTimer = time.AfterFunc(s.cfg.ResumeDuration, func() {
		s.opMu.Lock()
		defer s.opMu.Unlock()
		if s.resumeGen != gen || s.ClusterStatus() != StatusResuming {
			return
		}
		s.resumeTimer = nil
		s.setStatusLocked(StatusActive)
		s.touch()
		s.armIdleLocked(s.cfg.AutoSuspendAfter)
		s.log.Info("cluster active")
	})
	s.resumes.Add(1)
	s.log.Info("cluster resuming", "for", s.cfg.ResumeDuration)
	return StatusResuming
}

// touch records QueryEngineService activity for auto-suspend.
func (s *Server) touch() { s.lastActive.Store(time.Now().UnixNano()) }

// armIdleLocked (re)arms the auto-suspend timer to fire after d. s.opMu must
// be held.
func (s *Server) armIdleLocked(d time.Duration) {
	if s.cfg.AutoSuspendAfter <= 0 || s.isClosed() {
		return
	}
	if s.idleTimer != nil {
		s.idleTimer.Stop()
	}
	s.idleTimer = time.AfterFunc(d, s.idleCheck)
}

// idleCheck suspends the cluster when no QueryEngineService call ran for
// AutoSuspendAfter, else re-arms itself for the remaining time.
func (s *Server) idleCheck() {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.idleTimer = nil
	if s.isClosed() || s.ClusterStatus() != StatusActive {
		return // Resume re-arms once active again.
	}
	idle := time.Since(time.Unix(0, s.lastActive.Load()))
	if s.inflight.Load() > 0 {
		idle = 0
	}
	if left := s.cfg.AutoSuspendAfter - idle; left > 0 {
		s.armIdleLocked(left)
		return
	}
	s.suspendLocked("auto-suspend after idle")
}

// clusterService implements ClusterService on the engine's port.
type clusterService struct {
	enginepb.UnimplementedClusterServiceServer
	s *Server
}

func (c clusterService) check(ctx context.Context, user, token string) error {
	if err := c.s.checkClusterName(ctx); err != nil {
		return err
	}
	if !c.s.users.Check(user, token) {
		return status.Error(codes.Unauthenticated, "invalid user or token")
	}
	return nil
}

func (c clusterService) Status(ctx context.Context, r *enginepb.ClusterStatusRequest) (*enginepb.ClusterStatusResponse, error) {
	if err := c.check(ctx, r.GetUser(), r.GetPassword()); err != nil {
		return nil, err
	}
	return &enginepb.ClusterStatusResponse{Status: c.s.ClusterStatus()}, nil
}

func (c clusterService) Resume(ctx context.Context, r *enginepb.ResumeRequest) (*enginepb.ResumeResponse, error) {
	if err := c.check(ctx, r.GetUser(), r.GetPassword()); err != nil {
		return nil, err
	}
	return &enginepb.ResumeResponse{Status: c.s.Resume()}, nil
}

func (c clusterService) Suspend(ctx context.Context, r *enginepb.SuspendRequest) (*enginepb.SuspendResponse, error) {
	if err := c.check(ctx, r.GetUser(), r.GetPassword()); err != nil {
		return nil, err
	}
	c.s.Suspend()
	return &enginepb.SuspendResponse{Status: c.s.ClusterStatus()}, nil
}

// clusterNameOK reports whether a cluster-name header value is acceptable.
func (s *Server) clusterNameOK(v string) bool {
	return s.cfg.ClusterName == "" || v == "" || strings.EqualFold(v, s.cfg.ClusterName)
}

func (s *Server) checkClusterName(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := first(md.Get("cluster-name")); !s.clusterNameOK(v) {
		return status.Errorf(codes.NotFound, "cluster %q not found", v)
	}
	return nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
