package replay

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/e6go/e6data/internal/enginepb"
	"github.com/e6go/e6data/internal/wire"
)

// A query gets the batch as many times as its text says, then the end
// marker; the batch decodes to the documented rows; clearing frees it.
func TestReplayServesNBatches(t *testing.T) {
	s, err := Start(2)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cc, err := grpc.NewClient(s.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	c := enginepb.NewQueryEngineServiceClient(cc)
	ctx := context.Background()
	for text, want := range map[string]int{"replay 3": 3, "anything": 2, "replay 0": 0} {
		p, err := c.PrepareStatement(ctx, &enginepb.PrepareStatementRequest{QueryString: text})
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for {
			r, err := c.GetNextResultBatch(ctx, &enginepb.GetNextResultBatchRequest{QueryId: p.GetQueryId()})
			if err != nil {
				t.Fatal(err)
			}
			if wire.IsEnd(r.GetResultBatch()) {
				break
			}
			var ch wire.Chunk
			if err := wire.DecodeChunk(r.GetResultBatch(), &ch); err != nil {
				t.Fatal(err)
			}
			if ch.Rows != Rows || ch.Vectors[0].Int64(9999) != 9999 || ch.Vectors[1].Float64(3) != 1.5 || string(ch.Vectors[2].BytesAt(42)) != "row-42" {
				t.Fatalf("batch: %d rows", ch.Rows)
			}
			got++
		}
		if got != want {
			t.Fatalf("%q: %d batches, want %d", text, got, want)
		}
		if _, err := c.ClearOrCancelQuery(ctx, &enginepb.ClearOrCancelQueryRequest{QueryId: p.GetQueryId()}); err != nil {
			t.Fatal(err)
		}
	}
	if s.Open() != 0 || s.Served() != 5 {
		t.Fatalf("open %d, served %d", s.Open(), s.Served())
	}
	if _, err := c.PrepareStatement(ctx, &enginepb.PrepareStatementRequest{QueryString: "replay x"}); err == nil {
		t.Fatal("a bad count was accepted")
	}
}
