package rpc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Header keys of docs/protocol.md §2.
const (
	HeaderStrategy    = "strategy"
	HeaderClusterName = "cluster-name"
	HeaderPlannerIP   = "plannerip"
)

// Call describes one RPC: its full method name and the metadata it carries.
type Call struct {
	Method    string // full method name, e.g. "/QueryEngineService/prepareStatementV2"
	Strategy  string // "blue" or "green"; empty while none is known
	PlannerIP string // the engineIP of the query's prepare, for query-scoped calls
	QueryID   string // the query a query-scoped call is about (not sent; for the observer)
}

// Name is the method's short name ("prepareStatementV2").
func (c Call) Name() string { return shortName(c.Method) }

// Observer hears about every call the client makes. Implementations must be
// safe for concurrent use and fast: they run on the caller's goroutine.
type Observer interface {
	// Announced is called when a successful response carries a new_strategy
	// that differs from the strategy the call used.
	Announced(call Call, newStrategy string)
	// Finished is called after every call with its classified outcome,
	// except a success whose response announced another strategy: that
	// is reported to Announced alone, since the server has just said that
	// the call's strategy is not the one for new work (a draining stack
	// answers its old sessions' calls with such announcements).
	Finished(call Call, kind Kind)
}

// Client is the single call path. It is safe for concurrent use; one Client
// serves every connection of a connector to one cluster.
type Client struct {
	cc       grpc.ClientConnInterface
	cluster  string
	observer Observer
	headers  sync.Map     // headerKey -> context.Context carrying just those headers
	nHeaders atomic.Int32 // entries in headers (bounded by maxHeaderSets)
}

// headerKey is what varies in the headers from call to call.
type headerKey struct{ strategy, planner string }

// maxHeaderSets bounds the header sets the Client keeps built: two
// strategies times the engine addresses of a cluster.
const maxHeaderSets = 256

// NewClient returns a Client invoking on cc. clusterName is sent lower-cased
// as the cluster-name header when not empty. observer may be nil.
func NewClient(cc grpc.ClientConnInterface, clusterName string, observer Observer) *Client {
	return &Client{cc: cc, cluster: strings.ToLower(clusterName), observer: observer}
}

// announcer is implemented by every generated response with a new_strategy field.
type announcer interface{ GetNewStrategy() string }

// Invoke performs call with req and fills resp. A failure comes back as an
// *Error carrying its Kind. A new_strategy announcement in resp is reported
// to the observer and left in resp for the caller.
//
// A ctx returned by Bind for the call's strategy and planner address is
// used as it is: the steady path of a query (its stream of
// getNextResultBatch calls on one context) then costs no allocation.
func (c *Client) Invoke(ctx context.Context, call Call, req, resp any, opts ...grpc.CallOption) error {
	hctx := c.outgoing(ctx, call)
	sent := time.Now()
	err := c.cc.Invoke(hctx, call.Method, req, resp, opts...)
	if err != nil {
		e := wrap(ctx, call, err)
		e.Sent = sent
		if c.observer != nil {
			c.observer.Finished(call, e.Kind)
		}
		return e
	}
	if c.observer != nil {
		if a, ok := resp.(announcer); ok {
			if s := NormalizeStrategy(a.GetNewStrategy()); s != "" && s != call.Strategy {
				c.observer.Announced(call, s)
				return nil
			}
		}
		c.observer.Finished(call, KindNone)
	}
	return nil
}

// outgoing returns ctx carrying the call's headers. The header metadata
// for each strategy and planner address is built once and kept; a call
// then costs one small context (grpc-go takes per-call metadata only
// through the context). A ctx that already carries outgoing metadata of
// the application's gets the headers appended to it instead.
func (c *Client) outgoing(ctx context.Context, call Call) context.Context {
	if b, ok := ctx.(*boundCtx); ok && b.c == c && b.key.strategy == call.Strategy && b.key.planner == call.PlannerIP {
		return b.hctx
	}
	if call.Strategy == "" && c.cluster == "" && call.PlannerIP == "" {
		return ctx
	}
	if _, ok := metadata.FromOutgoingContext(ctx); ok {
		return c.appendHeaders(ctx, call)
	}
	k := headerKey{call.Strategy, call.PlannerIP}
	if h, ok := c.headers.Load(k); ok {
		return headerCtx{ctx, h.(context.Context)}
	}
	h := metadata.NewOutgoingContext(context.Background(), c.headerMD(call))
	if c.nHeaders.Load() < maxHeaderSets {
		if _, loaded := c.headers.LoadOrStore(k, h); !loaded {
			c.nHeaders.Add(1)
		}
	}
	return headerCtx{ctx, h}
}

// Bind returns ctx prepared for the calls of c with call's strategy and
// planner address (call's other fields do not matter): Invoke given the
// returned context itself finds the headers already derived, and a call
// costs no allocation for them. It is meant for a stream of calls on one
// context, such as a query's batches: bind once per query (per goroutine
// that fetches), not per call.
//
// The returned context behaves exactly as ctx (deadline, cancellation,
// values; it does not show the headers to anyone but Invoke) and is safe
// for concurrent use. Invoke given it for a call with another strategy or
// planner, or given a context derived from it, takes the ordinary path:
// the headers are then derived for that call, correct but not free. An
// application's own outgoing metadata in ctx is merged once, here, the
// way Invoke merges it.
func (c *Client) Bind(ctx context.Context, call Call) context.Context {
	if b, ok := ctx.(*boundCtx); ok {
		ctx = b.Context // rebinding: keep one level
	}
	return &boundCtx{Context: ctx, c: c, key: headerKey{call.Strategy, call.PlannerIP}, hctx: c.outgoing(ctx, call)}
}

// boundCtx is a context returned by Bind: ctx itself (embedded) and, kept
// aside for Invoke, ctx with the headers of key.
type boundCtx struct {
	context.Context
	c    *Client
	key  headerKey
	hctx context.Context
}

// headerCtx is a call's context with the headers of h: h answers the value
// lookups it knows (the outgoing metadata), the call's own context all
// others, and its deadline, cancellation and errors.
type headerCtx struct {
	context.Context
	h context.Context
}

func (c headerCtx) Value(key any) any {
	if v := c.h.Value(key); v != nil {
		return v
	}
	return c.Context.Value(key)
}

func (c *Client) headerMD(call Call) metadata.MD {
	md := make(metadata.MD, 3)
	if call.Strategy != "" {
		md[HeaderStrategy] = []string{call.Strategy}
	}
	if c.cluster != "" {
		md[HeaderClusterName] = []string{c.cluster}
	}
	if call.PlannerIP != "" {
		md[HeaderPlannerIP] = []string{call.PlannerIP}
	}
	return md
}

func (c *Client) appendHeaders(ctx context.Context, call Call) context.Context {
	kv := make([]string, 0, 6)
	if call.Strategy != "" {
		kv = append(kv, HeaderStrategy, call.Strategy)
	}
	if c.cluster != "" {
		kv = append(kv, HeaderClusterName, c.cluster)
	}
	if call.PlannerIP != "" {
		kv = append(kv, HeaderPlannerIP, call.PlannerIP)
	}
	if len(kv) == 0 {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, kv...)
}

// NormalizeStrategy lower-cases s and trims spaces; anything but "blue" or
// "green" becomes "".
func NormalizeStrategy(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "blue" || s == "green" {
		return s
	}
	return ""
}

// Other returns the strategy that is not s ("blue" for "" as well).
func Other(s string) string {
	if s == "blue" {
		return "green"
	}
	return "blue"
}

// Error is a failed call.
type Error struct {
	Method   string     // short method name
	Strategy string     // strategy the call was sent with
	Kind     Kind       // what the failure means
	Code     codes.Code // gRPC status code
	Message  string     // the server's (or transport's) message
	Err      error      // the underlying error
	// Sent is when the call was sent. A 456 says the call's strategy was
	// not live then; the strategy state may know better since.
	Sent time.Time
}

func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s: %s", e.Method, e.Kind)
	}
	return fmt.Sprintf("%s: %s: %s", e.Method, e.Kind, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

func wrap(ctx context.Context, call Call, err error) *Error {
	e := &Error{Method: call.Name(), Strategy: call.Strategy, Err: err}
	if st, ok := status.FromError(err); ok {
		e.Code, e.Message = st.Code(), st.Message()
		e.Kind = classifyStatus(e.Code, e.Message)
	} else {
		e.Code, e.Message, e.Kind = codes.Unknown, err.Error(), KindOther
	}
	// A call that failed because the caller's context ended is about the
	// context, whatever the transport made of it.
	cerr := ctx.Err()
	if dl, ok := ctx.Deadline(); ok && cerr == nil && e.Kind == KindDeadline && !time.Now().Before(dl) {
		// The server (which got the deadline in grpc-timeout) gave up a
		// moment before the caller's own timer fired: it is still the
		// caller's deadline.
		cerr = context.DeadlineExceeded
	}
	if cerr != nil && (e.Kind == KindCanceled || e.Kind == KindDeadline || e.Kind == KindTransient || e.Kind == KindOther) {
		if errors.Is(cerr, context.DeadlineExceeded) {
			e.Kind = KindDeadline
		} else {
			e.Kind = KindCanceled
		}
		e.Err = errors.Join(err, cerr)
	}
	return e
}

func shortName(method string) string {
	if i := strings.LastIndexByte(method, '/'); i >= 0 {
		return method[i+1:]
	}
	return method
}
