package e6data

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
)

// grpcPool is the connector's gRPC client connections to the cluster: one
// or a few, each one HTTP/2 connection multiplexing many sessions' calls.
// Calls are spread over them round-robin, call by call: gRPC calls carry
// everything they need in their headers and messages, so the calls of one
// session or one query may take different connections. More than one
// spreads grpc-go's per-connection write queue, which is where concurrent
// callers of a single connection wait (bench/README.md, row 12).
type grpcPool struct {
	ccs  []*grpc.ClientConn
	next atomic.Uint32
}

var _ grpc.ClientConnInterface = (*grpcPool)(nil)

// newGRPCPool makes n client connections to target (n >= 1). They connect
// lazily, on their first call.
func newGRPCPool(target string, n int, opts []grpc.DialOption) (*grpcPool, error) {
	p := &grpcPool{ccs: make([]*grpc.ClientConn, 0, max(n, 1))}
	for range max(n, 1) {
		cc, err := grpc.NewClient(target, opts...)
		if err != nil {
			p.Close()
			return nil, err
		}
		p.ccs = append(p.ccs, cc)
	}
	return p, nil
}

func (p *grpcPool) pick() *grpc.ClientConn {
	if len(p.ccs) == 1 {
		return p.ccs[0]
	}
	return p.ccs[p.next.Add(1)%uint32(len(p.ccs))]
}

func (p *grpcPool) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	return p.pick().Invoke(ctx, method, args, reply, opts...)
}

func (p *grpcPool) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return p.pick().NewStream(ctx, desc, method, opts...)
}

// Close closes every connection.
func (p *grpcPool) Close() error {
	var errs []error
	for _, cc := range p.ccs {
		errs = append(errs, cc.Close())
	}
	return errors.Join(errs...)
}

// maxGRPCConnections bounds Config.GRPCConnections.
const maxGRPCConnections = 64

// grpcConnections is the number of gRPC connections to open: the
// configured number, or for 0 one per 64 of MaxConnections (sessions that
// may run calls at once), at most 4.
func (c *Config) grpcConnections() int {
	if c.GRPCConnections > 0 {
		return c.GRPCConnections
	}
	return min(max((c.MaxConnections+63)/64, 1), 4)
}

// dialOptions returns the dial options of the configuration: keepalive
// parameters, the maximum message sizes, transport credentials (TLS from
// BuildTLS, or insecure when Secure is false), then DialOptions, which
// therefore win.
//
// The keepalive interval also needs the server's consent: a server whose
// keepalive enforcement policy has a MinTime above KeepaliveTime closes the
// connection with "too_many_pings".
func (c *Config) dialOptions() ([]grpc.DialOption, error) {
	t, err := c.BuildTLS()
	if err != nil {
		return nil, err
	}
	creds := insecure.NewCredentials()
	if t != nil {
		creds = credentials.NewTLS(t)
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                cfgNonZero(c.KeepaliveTime, 30*time.Second),
			Timeout:             cfgNonZero(c.KeepaliveTimeout, 60*time.Second),
			PermitWithoutStream: c.KeepalivePermitWithoutCalls,
		}),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(cfgNonZero(c.MaxRecvMsgSize, 100<<20)),
			grpc.MaxCallSendMsgSize(cfgNonZero(c.MaxSendMsgSize, 100<<20)),
		),
		// Result batches are large responses. Fixed flow-control windows at
		// the ceiling grpc-go's dynamic (BDP) estimation would grow to
		// replace its pings and frequent window updates, and a larger read
		// buffer takes more of each batch per read: in BenchmarkEndToEnd10M
		// about 19 % less CPU in the connector (and 17 % less in e6sim),
		// half the write and a quarter fewer read system calls. The window
		// only bounds data received and not yet read, which for unary calls
		// is at most one response (MaxRecvMsgSize) per call in flight.
		// DialOptions, appended after these, can override them.
		grpc.WithInitialWindowSize(resultWindow),
		grpc.WithInitialConnWindowSize(resultWindow),
		grpc.WithReadBufferSize(256 << 10),
	}
	return append(opts, c.DialOptions...), nil
}

// resultWindow is the gRPC stream and connection flow-control window:
// 16 MiB, the largest window grpc-go's BDP estimation grows to.
const resultWindow = 16 << 20

func cfgNonZero[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
