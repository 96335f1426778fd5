package e6data

import (
	"context"
	"errors"
	"sync/atomic"

	"google.golang.org/grpc"
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
