package e6data

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/e6go/e6data/internal/enginepb"
	"github.com/e6go/e6data/internal/rpc"
)

// ClusterService calls without a server: a fake transport answers them.
// (The same calls against e6sim are in internal/e2e/calls_test.go.)

// clusterFake answers ClusterService status: 456 on blue, active on green.
type clusterFake struct {
	nopConn
	mu    sync.Mutex
	calls []string
}

func (f *clusterFake) Invoke(ctx context.Context, method string, _, resp any, _ ...grpc.CallOption) error {
	md, _ := metadata.FromOutgoingContext(ctx)
	st := strings.Join(md.Get("strategy"), ",")
	f.mu.Lock()
	f.calls = append(f.calls, method+" "+st)
	f.mu.Unlock()
	if st != "green" {
		return status.Error(codes.Unknown, "status: 456 wrong strategy")
	}
	resp.(*enginepb.ClusterStatusResponse).Status = "ACTIVE"
	return nil
}

// With no strategy known, ClusterService calls try blue, then green on a
// 456, as e6data's cluster manager does; and their success does not make
// either the strategy for new work.
func TestClusterCallsProbeStrategy(t *testing.T) {
	cfg, err := LoadConfig("", nil, WithSetting("Host", "127.0.0.1"), WithSetting("Port", "1"), WithCredentials("u@example.com", "t0ken"),
		WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fake := &clusterFake{}
	c.rpc = rpc.NewClient(fake, "", observer{c})
	st, err := c.clusterStatus(context.Background())
	if err != nil || st != "active" {
		t.Fatalf("Status = %q, %v", st, err)
	}
	want := []string{"/ClusterService/status blue", "/ClusterService/status green"}
	if strings.Join(fake.calls, "|") != strings.Join(want, "|") {
		t.Fatalf("calls %q, want %q", fake.calls, want)
	}
	if a := c.state.Active(); a != "" {
		t.Fatalf("a ClusterService call made %q the strategy for new work", a)
	}
	// Once a strategy is known, it is the only one sent.
	c.state.Confirm("green", "")
	fake.calls = nil
	if _, err := c.clusterStatus(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(fake.calls) != 1 || fake.calls[0] != "/ClusterService/status green" {
		t.Fatalf("calls %q", fake.calls)
	}
}
