package e6sim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	"github.com/e6go/e6data/e6sim/internal/engine"
	"github.com/e6go/e6data/internal/enginepb"
)

// Status456 is the HTTP status the gateway answers for "wrong strategy"
// (the request's strategy is not live).
const Status456 = 456

const (
	enginePrefix  = "/QueryEngineService/"
	clusterPrefix = "/ClusterService/"
)

// engineMethods lists the QueryEngineService rpc names as on the wire.
var engineMethods = func() []string {
	var out []string
	for _, m := range enginepb.QueryEngineService_ServiceDesc.Methods {
		out = append(out, m.MethodName)
	}
	return out
}()

// Server is a running simulator: a gateway in front of two engine stacks
// (blue and green) over one shared database, serving QueryEngineService and
// ClusterService on one port, plus an optional admin endpoint.
type Server struct {
	cfg   Config
	users engine.Users
	log   *slog.Logger

	db     *engine.DB
	ownDB  bool
	stacks [2]*stack // blue, green

	route  atomic.Pointer[routeState]
	status atomic.Pointer[string]

	switchMu    sync.Mutex    // serializes Switch calls (held during announce)
	announceEnd chan struct{} // test hook: ends the announce phase early
	opMu        sync.Mutex    // serializes state transitions; guards the fields below

	drainTimer  *time.Timer
	drainGen    uint64
	resumeTimer *time.Timer
	resumeGen   uint64
	idleTimer   *time.Timer

	lastActive atomic.Int64 // unix nanos of the last QueryEngineService call
	inflight   atomic.Int64

	faults faultSet
	record *queryLog

	// Test hooks, called inside a routed call just before and just after
	// the engine serves it (nil in production).
	hookBefore, hookAfter atomic.Pointer[func(method string)]

	rpcs        map[string]*atomic.Int64
	sent456     atomic.Int64
	sent503     atomic.Int64
	switches    atomic.Int64
	cancelCalls atomic.Int64
	suspends    atomic.Int64
	resumes     atomic.Int64

	grpc      *grpc.Server
	http      *http.Server
	ln        net.Listener
	admin     *http.Server
	adminLn   net.Listener
	serveErrs chan error
	wg        sync.WaitGroup

	closed    chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// Start starts a simulator and returns once it accepts connections. ctx
// bounds only the startup (opening the database); use Close or Shutdown to
// stop the server.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	users, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	tlsCfg, err := serverTLS(cfg)
	if err != nil {
		return nil, err
	}
	s := newServer(cfg, users)
	if err := s.open(ctx); err != nil {
		return nil, err
	}
	live := s.startStacks()
	s.startServing(tlsCfg)
	s.opMu.Lock()
	s.armIdleLocked(cfg.AutoSuspendAfter)
	s.opMu.Unlock()
	s.log.Info("e6sim started", "addr", s.Addr(), "admin", s.AdminAddr(), "live", live.name,
		"signal", cfg.Signal.String(), "tls", tlsCfg != nil)
	return s, nil
}

// newServer returns a server with its bookkeeping made (query history,
// per-method call counters) and nothing opened yet.
func newServer(cfg Config, users engine.Users) *Server {
	s := &Server{
		cfg:         cfg,
		users:       users,
		log:         cfg.Logger,
		closed:      make(chan struct{}),
		announceEnd: make(chan struct{}, 1),
		serveErrs:   make(chan error, 2),
		rpcs:        make(map[string]*atomic.Int64),
	}
	history := cfg.QueryHistory
	if history == 0 {
		history = DefaultQueryHistory
	}
	s.record = newQueryLog(history)
	for _, m := range engineMethods {
		s.rpcs[enginePrefix[1:]+m] = new(atomic.Int64)
	}
	for _, m := range enginepb.ClusterService_ServiceDesc.Methods {
		s.rpcs[clusterPrefix[1:]+m.MethodName] = new(atomic.Int64)
	}
	return s
}

// serverTLS is the engine listener's TLS configuration: from the
// certificate files, else Config.TLSConfig, else nil (plaintext).
func serverTLS(cfg Config) (*tls.Config, error) {
	switch {
	case cfg.TLSCertFile != "":
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("e6sim: TLS certificate: %w", err)
		}
		tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if cfg.TLSClientCAFile != "" {
			pem, err := os.ReadFile(cfg.TLSClientCAFile)
			if err != nil {
				return nil, fmt.Errorf("e6sim: TLS client CA: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("e6sim: TLS client CA %s: no PEM certificate in it", cfg.TLSClientCAFile)
			}
			tlsCfg.ClientCAs, tlsCfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
		}
		return tlsCfg, nil
	case cfg.TLSConfig != nil:
		return cfg.TLSConfig.Clone(), nil
	}
	return nil, nil
}

// open opens the engine and admin listeners and the database (the
// configured one, else a new one the server owns). On failure everything
// it opened is closed again.
func (s *Server) open(ctx context.Context) error {
	cfg := s.cfg
	cleanup := func() {
		if s.ln != nil {
			s.ln.Close()
		}
		if s.adminLn != nil {
			s.adminLn.Close()
		}
		if s.ownDB && s.db != nil {
			s.db.Close()
		}
	}
	var err error
	if s.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		cleanup()
		return fmt.Errorf("e6sim: engine listener: %w", err)
	}
	if cfg.AdminAddr != "" {
		if s.adminLn, err = net.Listen("tcp", cfg.AdminAddr); err != nil {
			cleanup()
			return fmt.Errorf("e6sim: admin listener: %w", err)
		}
	}
	if cfg.DB != nil {
		s.db = cfg.DB.db
	} else {
		if s.db, err = engine.OpenDB(ctx, engine.DBOptions{DataDir: cfg.DataDir}); err != nil {
			cleanup()
			return fmt.Errorf("e6sim: open database: %w", err)
		}
		s.ownDB = true
	}
	return nil
}

// startStacks makes the blue and green engines over the database, routes
// to the configured live one and marks the cluster active. It returns the
// live stack.
func (s *Server) startStacks() *stack {
	cfg := s.cfg
	engineIP, _, _ := net.SplitHostPort(s.ln.Addr().String())
	for i, name := range [...]string{Blue, Green} {
		s.stacks[i] = &stack{name: name, eng: engine.New(s.db, engine.Options{
			Name:             name,
			EngineIP:         engineIP,
			ChunkRows:        cfg.ChunkRows,
			SessionTTL:       cfg.SessionTTL,
			QueryIdleTimeout: cfg.QueryIdleTimeout,
			MaxOpenQueries:   cfg.MaxOpenQueries,
			Users:            s.users,
			Logger:           s.log.With("stack", name),
			OnQuery:          s.record.observe(name),
		})}
	}
	live := s.stacks[0]
	if cfg.Strategy == Green {
		live = s.stacks[1]
	}
	s.route.Store(&routeState{live: live})
	s.setStatusLocked(StatusActive)
	s.touch()
	return live
}

// startServing registers the gRPC services and serves the engine listener
// (HTTP/2, with TLS when tlsCfg is set) and the admin listener, if any.
func (s *Server) startServing(tlsCfg *tls.Config) {
	s.grpc = grpc.NewServer(grpc.MaxRecvMsgSize(s.cfg.MaxRecvMsgSize))
	s.grpc.RegisterService(s.engineServiceDesc(), enginepb.UnimplementedQueryEngineServiceServer{})
	enginepb.RegisterClusterServiceServer(s.grpc, clusterService{s: s})

	errLog := slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)
	var protocols http.Protocols
	protocols.SetHTTP1(true) // only so that stray HTTP/1 requests get a readable error
	if tlsCfg != nil {
		protocols.SetHTTP2(true)
	} else {
		protocols.SetUnencryptedHTTP2(true)
	}
	s.http = &http.Server{
		Handler:           http.HandlerFunc(s.serveEngine),
		Protocols:         &protocols,
		TLSConfig:         tlsCfg,
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: 1000},
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          errLog,
	}
	s.serve(func() error {
		if tlsCfg != nil {
			return s.http.ServeTLS(s.ln, "", "")
		}
		return s.http.Serve(s.ln)
	})
	if s.adminLn != nil {
		s.admin = &http.Server{
			Handler:           s.adminHandler(),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          errLog,
		}
		s.serve(func() error { return s.admin.Serve(s.adminLn) })
	}
}

func (s *Server) serve(f func() error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := f(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve failed", "err", err)
			s.serveErrs <- err
		}
	}()
}

// Addr returns the engine's address (host:port).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// AdminAddr returns the admin endpoint's address (host:port), or "" when
// there is none.
func (s *Server) AdminAddr() string {
	if s.adminLn == nil {
		return ""
	}
	return s.adminLn.Addr().String()
}

// ExpireSessions expires every session of both stacks now: their next call
// gets INTERNAL "Access denied".
func (s *Server) ExpireSessions() {
	for _, st := range s.stacks {
		st.eng.ExpireSessions()
	}
}

// SetFaults replaces the fault-injection rules. It rejects the whole set if
// any rule is invalid.
func (s *Server) SetFaults(rules []FaultRule) error { return s.faults.set(rules) }

// ClearFaults removes every fault-injection rule.
func (s *Server) ClearFaults() { _ = s.faults.set(nil) }

// Faults returns the current rules (Count as what is left to fire).
func (s *Server) Faults() []FaultRule { return s.faults.list() }

func (s *Server) isClosed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// Close shuts the server down gracefully, giving in-flight calls up to five
// seconds, then closes the engines (and the database unless Config.DB was
// given). It is idempotent.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), defaultShutdownGrace)
	defer cancel()
	return s.Shutdown(ctx)
}

// Shutdown is Close with the grace period bounded by ctx: in-flight calls
// are waited for until ctx ends, then connections are closed.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.opMu.Lock()
		for _, t := range []*time.Timer{s.drainTimer, s.resumeTimer, s.idleTimer} {
			if t != nil {
				t.Stop()
			}
		}
		s.drainGen++
		s.resumeGen++
		s.opMu.Unlock()

		var errs []error
		if s.admin != nil {
			if err := s.admin.Shutdown(ctx); err != nil {
				s.admin.Close()
			}
		}
		if err := s.http.Shutdown(ctx); err != nil {
			s.http.Close()
		}
		s.grpc.Stop()
		s.wg.Wait()
		close(s.serveErrs)
		for err := range s.serveErrs {
			errs = append(errs, err)
		}
		for _, st := range s.stacks {
			st.eng.Close()
		}
		if s.ownDB {
			if err := s.db.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		s.closeErr = errors.Join(errs...)
		s.log.Info("e6sim stopped")
	})
	return s.closeErr
}
