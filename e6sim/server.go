package e6sim

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

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

	var tlsCfg *tls.Config
	switch {
	case cfg.TLSCertFile != "":
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("e6sim: TLS certificate: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
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
	case cfg.TLSConfig != nil:
		tlsCfg = cfg.TLSConfig.Clone()
	}

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
	if s.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		cleanup()
		return nil, fmt.Errorf("e6sim: engine listener: %w", err)
	}
	if cfg.AdminAddr != "" {
		if s.adminLn, err = net.Listen("tcp", cfg.AdminAddr); err != nil {
			cleanup()
			return nil, fmt.Errorf("e6sim: admin listener: %w", err)
		}
	}
	if cfg.DB != nil {
		s.db = cfg.DB
	} else {
		if s.db, err = engine.OpenDB(ctx, engine.DBOptions{DataDir: cfg.DataDir}); err != nil {
			cleanup()
			return nil, fmt.Errorf("e6sim: open database: %w", err)
		}
		s.ownDB = true
	}

	engineIP, _, _ := net.SplitHostPort(s.ln.Addr().String())
	for i, name := range [...]string{Blue, Green} {
		s.stacks[i] = &stack{name: name, eng: engine.New(s.db, engine.Options{
			Name:             name,
			EngineIP:         engineIP,
			ChunkRows:        cfg.ChunkRows,
			SessionTTL:       cfg.SessionTTL,
			QueryIdleTimeout: cfg.QueryIdleTimeout,
			MaxOpenQueries:   cfg.MaxOpenQueries,
			Users:            users,
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

	s.grpc = grpc.NewServer(grpc.MaxRecvMsgSize(cfg.MaxRecvMsgSize))
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

	s.opMu.Lock()
	s.armIdleLocked(cfg.AutoSuspendAfter)
	s.opMu.Unlock()
	s.log.Info("e6sim started", "addr", s.Addr(), "admin", s.AdminAddr(), "live", live.name,
		"signal", cfg.Signal.String(), "tls", tlsCfg != nil)
	return s, nil
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

// verdict is the gateway's decision about one QueryEngineService call, made
// once in the HTTP handler and carried to the gRPC method handler.
type verdict struct {
	method      string
	strategy    string
	notFound    string        // cluster-name header that names another cluster
	signal      int           // 456 or 503 to send instead of serving, else 0
	reason      string        // why the signal is sent
	delay       time.Duration // injected latency
	fault       FaultKind     // FaultAccessDenied, FaultUnavailable or FaultStall
	after       FaultKind     // FaultUnavailable or FaultStall once the call was served
	authUser    string        // the user an authenticate names
	faultSignal bool          // the signal comes from a fault rule
	hostile     FaultRule     // a rule that corrupts the response (Kind "" = none)
}

type verdictKey struct{}

// admit decides how the gateway treats one QueryEngineService call;
// authUser is the user an authenticate request names ("" for other calls).
func (s *Server) admit(method, strategy, clusterName, authUser string) *verdict {
	v := &verdict{method: method, strategy: strategy, authUser: authUser}
	if !s.clusterNameOK(clusterName) {
		v.notFound = clusterName
		return v
	}
	if st := s.ClusterStatus(); st != StatusActive {
		v.signal, v.reason = http.StatusServiceUnavailable, "cluster is "+st
		return v
	}
	rs := s.route.Load()
	if rs.route(strategy, method, authUser) == nil {
		v.signal = Status456
		switch {
		case rs.draining != nil && rs.draining.name == strategy:
			v.reason = fmt.Sprintf("strategy %q is draining and takes no new sessions (live: %s)", strategy, rs.live.name)
		default:
			v.reason = fmt.Sprintf("strategy %q is not live (live: %s)", strategy, rs.live.name)
		}
		return v
	}
	delay, rule := s.faults.pick(method)
	v.delay = delay
	switch kind := rule.Kind; kind {
	case Fault456:
		v.signal, v.reason, v.faultSignal = Status456, "injected fault", true
	case Fault503:
		v.signal, v.reason, v.faultSignal = http.StatusServiceUnavailable, "injected fault", true
	case FaultUnavailable, FaultStall:
		if rule.After {
			v.after = kind
		} else {
			v.fault = kind
		}
	case FaultAccessDenied:
		v.fault = kind
	case "":
	default:
		v.hostile = rule
	}
	return v
}

func (s *Server) countSignal(code int) {
	if code == Status456 {
		s.sent456.Add(1)
	} else {
		s.sent503.Add(1)
	}
}

// serveEngine is the HTTP/2 handler in front of the gRPC server: it answers
// 456/503 as bare HTTP statuses (SignalHTTP) before gRPC sees the request.
func (s *Server) serveEngine(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if c := s.rpcs[strings.TrimPrefix(path, "/")]; c != nil {
		c.Add(1)
	}
	method, ok := strings.CutPrefix(path, enginePrefix)
	if !ok || r.Method != http.MethodPost || r.ProtoMajor != 2 {
		s.grpc.ServeHTTP(w, r) // ClusterService, unknown paths, malformed requests
		return
	}
	strategy, authUser := r.Header.Get("strategy"), ""
	if method == "authenticate" && strategy != "" && strategy == s.Draining() {
		authUser = peekAuthUser(r)
	}
	v := s.admit(method, strategy, r.Header.Get("cluster-name"), authUser)
	if v.signal != 0 && s.cfg.Signal == SignalHTTP {
		if v.delay > 0 && !sleepCtx(r.Context(), v.delay) {
			return
		}
		s.countSignal(v.signal)
		w.Header().Set("x-e6sim-reason", v.reason)
		w.WriteHeader(v.signal)
		s.log.Debug("signal sent", "code", v.signal, "method", method, "strategy", v.strategy, "reason", v.reason)
		return
	}
	s.grpc.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), verdictKey{}, v)))
}

// signalError is the gRPC form of a 456/503 signal.
func signalError(code int, reason string) error {
	if code == Status456 {
		return status.Errorf(codes.Unknown, "status: 456 wrong strategy: %s", reason)
	}
	return status.Errorf(codes.Unavailable, "status: 503 service unavailable: %s", reason)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// engineServiceDesc returns QueryEngineService's descriptor with every
// method handler wrapped so that it runs on the engine of the stack the
// gateway routed the call to.
func (s *Server) engineServiceDesc() *grpc.ServiceDesc {
	desc := enginepb.QueryEngineService_ServiceDesc
	desc.Methods = make([]grpc.MethodDesc, len(enginepb.QueryEngineService_ServiceDesc.Methods))
	for i, m := range enginepb.QueryEngineService_ServiceDesc.Methods {
		desc.Methods[i] = grpc.MethodDesc{MethodName: m.MethodName, Handler: s.wrap(m.MethodName, m.Handler)}
	}
	desc.Streams = nil
	return &desc
}

func (s *Server) wrap(method string, h grpc.MethodHandler) grpc.MethodHandler {
	return func(_ any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
		v, _ := ctx.Value(verdictKey{}).(*verdict)
		if v == nil { // not through serveEngine; decide here
			md, _ := metadata.FromIncomingContext(ctx)
			v = s.admit(method, first(md.Get("strategy")), first(md.Get("cluster-name")), "")
		}
		if v.notFound != "" {
			return nil, status.Errorf(codes.NotFound, "cluster %q not found", v.notFound)
		}
		if v.delay > 0 && !sleepCtx(ctx, v.delay) {
			return nil, status.FromContextError(ctx.Err()).Err()
		}
		if v.signal != 0 {
			s.countSignal(v.signal)
			return nil, signalError(v.signal, v.reason)
		}
		switch v.fault {
		case FaultAccessDenied:
			return nil, status.Error(codes.Internal, "Access denied: session rejected (injected fault)")
		case FaultUnavailable:
			return nil, status.Error(codes.Unavailable, "injected fault: engine unavailable")
		case FaultStall:
			return nil, s.stall(ctx)
		}
		// Route again: the stack may have been torn down since the HTTP
		// handler looked. Too late for an HTTP status; send the gRPC form.
		// The call is bound to the stack's current deployment (engine
		// generation): if that is torn down while the call is inside, the
		// call registers nothing and is answered as a dying server
		// answers, UNAVAILABLE, since it may have been executed.
		rs := s.route.Load()
		st := rs.route(v.strategy, method, v.authUser)
		if st == nil {
			s.countSignal(Status456)
			return nil, signalError(Status456, fmt.Sprintf("strategy %q is not live (live: %s)", v.strategy, rs.live.name))
		}
		s.inflight.Add(1)
		s.touch()
		defer func() {
			s.touch()
			s.inflight.Add(-1)
		}()
		suspends, gen := s.suspends.Load(), st.eng.Generation()
		var req any
		keep := func(m any) error { req = m; return dec(m) }
		if f := s.hookBefore.Load(); f != nil {
			(*f)(method)
		}
		resp, err := h(st.eng, engine.WithGeneration(ctx, gen), keep, interceptor)
		if f := s.hookAfter.Load(); f != nil {
			(*f)(method)
		}
		rs = s.route.Load()
		switch {
		case s.suspends.Load() != suspends:
			// Suspended under the call, which the suspension interrupted.
			return nil, status.Error(codes.Unavailable, "connection reset: the cluster was suspended during the call")
		case st.eng.Generation() != gen:
			// The stack was torn down under the call, even if a new
			// deployment of it is live by now.
			return nil, status.Errorf(codes.Unavailable, "connection reset: strategy %q was torn down during the call (live: %s)", st.name, rs.live.name)
		}
		switch v.after {
		case FaultUnavailable:
			return nil, status.Error(codes.Unavailable, "injected fault: connection reset after the call was served")
		case FaultStall:
			return nil, s.stall(ctx)
		}
		if err != nil {
			return nil, err
		}
		if method == "cancelQuery" {
			s.cancelCalls.Add(1)
		}
		s.hostileResponse(method, v.hostile, req, resp)
		if ns := rs.newStrategyFor(st); ns != "" {
			setNewStrategy(resp, ns)
		}
		return resp, nil
	}
}

// maxAuthBody bounds how much of an authenticate request the gateway reads
// to learn its user.
const maxAuthBody = 64 << 10

// peekAuthUser reads the user an authenticate request names from its
// gRPC-framed body, and puts the body back for gRPC to read. It returns ""
// when the body is compressed, too large or malformed.
func peekAuthUser(r *http.Request) string {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxAuthBody+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
	if err != nil || len(b) < 5 || len(b) > maxAuthBody || b[0] != 0 {
		return ""
	}
	n := binary.BigEndian.Uint32(b[1:5])
	if uint64(n) > uint64(len(b)-5) {
		return ""
	}
	var req enginepb.AuthenticateRequest
	if proto.Unmarshal(b[5:5+n], &req) != nil {
		return ""
	}
	return req.GetUser()
}

// setNewStrategy sets the new_strategy field of any response message that
// has one.
func setNewStrategy(resp any, v string) {
	m, ok := resp.(proto.Message)
	if !ok {
		return
	}
	r := m.ProtoReflect()
	if !r.IsValid() {
		return
	}
	fd := r.Descriptor().Fields().ByName("new_strategy")
	if fd == nil || fd.Kind() != protoreflect.StringKind || fd.Cardinality() == protoreflect.Repeated {
		return
	}
	r.Set(fd, protoreflect.ValueOfString(v))
}
