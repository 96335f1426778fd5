package e6arrow

import (
	"testing"

	"github.com/e6go/e6data/internal/batches"
	"github.com/e6go/e6data/internal/replay"
	"github.com/e6go/e6data/internal/wire"
)

// BenchmarkRecord builds the record of the replay batch (10,000 rows of
// LONG, DOUBLE, STRING), decoded once: the Arrow path's own work per batch.
func BenchmarkRecord(b *testing.B) {
	raw, _, err := replay.Batch()
	if err != nil {
		b.Fatal(err)
	}
	var c wire.Chunk
	if err := wire.DecodeChunk(raw, &c); err != nil {
		b.Fatal(err)
	}
	bl, err := newBuilder([]batches.Column{{Name: "id", Type: wire.Long}, {Name: "x", Type: wire.Double}, {Name: "s", Type: wire.String}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		rec, err := bl.record(&c)
		if err != nil {
			b.Fatal(err)
		}
		rec.Release()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(c.Rows), "ns/row")
}
