// Package replay is a benchmark server: a real gRPC e6data engine on
// loopback that answers every query with one pre-encoded batch, sent again
// and again, so that a client's fetch path can be measured with no SQL
// engine in the measurement.
//
// The batch is LONG id, DOUBLE x and STRING s (the shape of the simulator's
// numbers table): Rows rows, id 0..Rows-1, x = id/2, s = "row-<id>". A query
// gets Batches copies of it and then the end marker; a query whose text is
// "replay N" gets N.
package replay

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/e6go/e6data/internal/enginepb"
	"github.com/e6go/e6data/internal/wire"
)

// Rows is the number of rows in the batch.
const Rows = 10_000

// Server is a running replay server.
type Server struct {
	enginepb.UnimplementedQueryEngineServiceServer
	batch   []byte
	meta    []byte
	batches int
	ln      net.Listener
	srv     *grpc.Server
	ids     atomic.Int64
	mu      sync.Mutex
	open    map[string]int // query ID -> batches still to send
	served  atomic.Int64
}

// Batch returns the encoded batch every fetch receives.
func Batch() ([]byte, []byte, error) {
	c := wire.Chunk{Rows: Rows, Vectors: []wire.Vector{
		{Type: wire.Long, Nulls: make([]bool, Rows), Int64s: make([]int64, Rows)},
		{Type: wire.Double, Nulls: make([]bool, Rows), Float64s: make([]float64, Rows)},
		{Type: wire.String, Nulls: make([]bool, Rows), Bytes: make([][]byte, Rows)},
	}}
	for i := range Rows {
		c.Vectors[0].Int64s[i] = int64(i)
		c.Vectors[1].Float64s[i] = float64(i) * 0.5
		c.Vectors[2].Bytes[i] = []byte("row-" + strconv.Itoa(i))
	}
	batch, err := wire.AppendChunk(nil, &c)
	if err != nil {
		return nil, nil, err
	}
	meta, err := wire.AppendMetadata(nil, &wire.Metadata{RowCount: -1, Fields: []wire.Field{
		{Name: "id", Type: "LONG"}, {Name: "x", Type: "DOUBLE"}, {Name: "s", Type: "STRING"}}})
	if err != nil {
		return nil, nil, err
	}
	return batch, meta, nil
}

// Start serves on a free loopback port; a query gets batches batches
// unless its text says otherwise.
func Start(batches int) (*Server, error) {
	batch, meta, err := Batch()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{batch: batch, meta: meta, batches: batches, ln: ln, open: make(map[string]int),
		srv: grpc.NewServer(grpc.InitialWindowSize(16<<20), grpc.InitialConnWindowSize(16<<20))}
	enginepb.RegisterQueryEngineServiceServer(s.srv, s)
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server at once.
func (s *Server) Close() { s.srv.Stop() }

// Open returns the number of queries not yet cleared.
func (s *Server) Open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.open)
}

// Served returns the number of batches sent.
func (s *Server) Served() int64 { return s.served.Load() }

func (s *Server) Authenticate(context.Context, *enginepb.AuthenticateRequest) (*enginepb.AuthenticateResponse, error) {
	return &enginepb.AuthenticateResponse{SessionId: "replay-session"}, nil
}

func (s *Server) prepare(text string) (*enginepb.PrepareStatementResponse, error) {
	n := s.batches
	if rest, ok := strings.CutPrefix(strings.TrimSpace(text), "replay "); ok {
		v, err := strconv.Atoi(strings.TrimSpace(rest))
		if err != nil || v < 0 {
			return nil, status.Errorf(codes.InvalidArgument, "replay: %q is not a batch count", rest)
		}
		n = v
	}
	id := fmt.Sprintf("replay-%d", s.ids.Add(1))
	s.mu.Lock()
	s.open[id] = n
	s.mu.Unlock()
	return &enginepb.PrepareStatementResponse{QueryId: id, EngineIP: "127.0.0.1"}, nil
}

func (s *Server) PrepareStatement(_ context.Context, r *enginepb.PrepareStatementRequest) (*enginepb.PrepareStatementResponse, error) {
	return s.prepare(r.GetQueryString())
}

func (s *Server) PrepareStatementV2(_ context.Context, r *enginepb.PrepareStatementV2Request) (*enginepb.PrepareStatementResponse, error) {
	return s.prepare(r.GetQueryString())
}

func (s *Server) ExecuteStatement(context.Context, *enginepb.ExecuteStatementRequest) (*enginepb.ExecuteStatementResponse, error) {
	return &enginepb.ExecuteStatementResponse{}, nil
}

func (s *Server) GetResultMetadata(context.Context, *enginepb.GetResultMetadataRequest) (*enginepb.GetResultMetadataResponse, error) {
	return &enginepb.GetResultMetadataResponse{ResultMetaData: s.meta}, nil
}

func (s *Server) GetNextResultBatch(_ context.Context, r *enginepb.GetNextResultBatchRequest) (*enginepb.GetNextResultBatchResponse, error) {
	s.mu.Lock()
	n, ok := s.open[r.GetQueryId()]
	if ok && n > 0 {
		s.open[r.GetQueryId()] = n - 1
	}
	s.mu.Unlock()
	switch {
	case !ok:
		return nil, status.Errorf(codes.Internal, "query %s not found", r.GetQueryId())
	case n == 0:
		return &enginepb.GetNextResultBatchResponse{}, nil
	}
	s.served.Add(1)
	return &enginepb.GetNextResultBatchResponse{ResultBatch: s.batch}, nil
}

func (s *Server) clear(id string) {
	s.mu.Lock()
	delete(s.open, id)
	s.mu.Unlock()
}

func (s *Server) ClearOrCancelQuery(_ context.Context, r *enginepb.ClearOrCancelQueryRequest) (*enginepb.ClearOrCancelQueryResponse, error) {
	s.clear(r.GetQueryId())
	return &enginepb.ClearOrCancelQueryResponse{}, nil
}

func (s *Server) CancelQuery(_ context.Context, r *enginepb.CancelQueryRequest) (*enginepb.CancelQueryResponse, error) {
	return &enginepb.CancelQueryResponse{}, nil
}

func (s *Server) Clear(_ context.Context, r *enginepb.ClearRequest) (*enginepb.ClearResponse, error) {
	s.clear(r.GetQueryId())
	return &enginepb.ClearResponse{}, nil
}

func (s *Server) GetCataloges(context.Context, *enginepb.GetCatalogesRequest) (*enginepb.GetCatalogesResponse, error) {
	return &enginepb.GetCatalogesResponse{}, nil
}

// DryRun accepts any query: the connector's ping (database/sql's
// PingContext) is a dry run of SELECT 1.
func (s *Server) DryRun(ctx context.Context, req *enginepb.DryRunRequest) (*enginepb.DryRunResponse, error) {
	return &enginepb.DryRunResponse{DryrunValue: "{}"}, nil
}
