package e6sim

// The gateway: every QueryEngineService call is admitted (strategy,
// cluster name, faults, suspension) in the HTTP handler, then served by the
// live stack's engine through the gRPC method handler.

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/e6go/e6data/e6sim/internal/engine"
	"github.com/e6go/e6data/internal/enginepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

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
