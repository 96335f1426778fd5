package thriftref_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/e6go/e6data/internal/wire"
	"github.com/e6go/e6data/internal/wire/thriftref"
)

// benchChunk is a rows-row LONG + DOUBLE + STRING chunk with some NULLs,
// the chunk of internal/wire's BenchmarkDecodeChunk* (a copy of its
// benchChunk), so that `go test -bench DecodeChunk ./internal/wire
// ./internal/wire/thriftref` compares the two decoders on the same bytes.
func benchChunk(rows int) *wire.Chunk {
	c := &wire.Chunk{Rows: int32(rows), Vectors: []wire.Vector{
		{Type: wire.Long, Nulls: make([]bool, rows), Int64s: make([]int64, rows)},
		{Type: wire.Double, Nulls: make([]bool, rows), Float64s: make([]float64, rows)},
		{Type: wire.String, Nulls: make([]bool, rows), Bytes: make([][]byte, rows)},
	}}
	for i := range rows {
		null := i%17 == 0
		for j := range c.Vectors {
			c.Vectors[j].Nulls[i] = null
		}
		c.Vectors[0].Int64s[i] = int64(i) * 7919
		c.Vectors[1].Float64s[i] = float64(i) / 3
		c.Vectors[2].Bytes[i] = fmt.Appendf(nil, "customer-%06d@example", i)
	}
	return c
}

const benchRows = 10_000

func reportRows(b *testing.B, rows int) {
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkDecodeChunkThriftLongDouble is the Apache Thrift generated
// decoder on the LONG+DOUBLE bytes.
func BenchmarkDecodeChunkThriftLongDouble(b *testing.B) {
	c := benchChunk(benchRows)
	c.Vectors = c.Vectors[:2]
	benchThrift(b, c)
}

// BenchmarkDecodeChunkThrift decodes the same bytes with the code Apache
// Thrift generates, for comparison.
func BenchmarkDecodeChunkThrift(b *testing.B) { benchThrift(b, benchChunk(benchRows)) }

func benchThrift(b *testing.B, c *wire.Chunk) {
	in, err := wire.AppendChunk(nil, c)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	buf := thrift.NewTMemoryBuffer()
	p := thrift.NewTBinaryProtocolConf(buf, &thrift.TConfiguration{})
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		buf.Write(in)
		tc := thriftref.NewChunk()
		if err := tc.Read(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	reportRows(b, benchRows)
}
