package wire_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/e6go/e6data/internal/wire"
)

// benchChunk is a rows-row LONG + DOUBLE + STRING chunk with some NULLs.
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

func oneColumn(c *wire.Chunk, i int) *wire.Chunk {
	return &wire.Chunk{Rows: c.Rows, Vectors: []wire.Vector{c.Vectors[i]}}
}

const benchRows = 10_000

func reportRows(b *testing.B, rows int) {
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkAppendChunk(b *testing.B) {
	c := benchChunk(benchRows)
	dst, err := wire.AppendChunk(nil, c)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(dst)))
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = wire.AppendChunk(dst[:0], c)
	}
	reportRows(b, benchRows)
}

func benchDecode(b *testing.B, c *wire.Chunk) {
	in, err := wire.AppendChunk(nil, c)
	if err != nil {
		b.Fatal(err)
	}
	var out wire.Chunk
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if err := wire.DecodeChunk(in, &out); err != nil {
			b.Fatal(err)
		}
	}
	reportRows(b, int(c.Rows))
}

func BenchmarkDecodeChunk(b *testing.B)       { benchDecode(b, benchChunk(benchRows)) }
func BenchmarkDecodeChunkLong(b *testing.B)   { benchDecode(b, oneColumn(benchChunk(benchRows), 0)) }
func BenchmarkDecodeChunkDouble(b *testing.B) { benchDecode(b, oneColumn(benchChunk(benchRows), 1)) }
func BenchmarkDecodeChunkString(b *testing.B) { benchDecode(b, oneColumn(benchChunk(benchRows), 2)) }

// BenchmarkDecodeChunkFresh decodes into a new Chunk each time: the cost
// when the caller does not reuse (one allocation per column slice).
func BenchmarkDecodeChunkFresh(b *testing.B) {
	in, err := wire.AppendChunk(nil, benchChunk(benchRows))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		var out wire.Chunk
		if err := wire.DecodeChunk(in, &out); err != nil {
			b.Fatal(err)
		}
	}
	reportRows(b, benchRows)
}

// benchDecodeFresh decodes c into a new Chunk each time and reports the
// allocations per column, not counting the one per chunk for its vector
// slice.
func benchDecodeFresh(b *testing.B, c *wire.Chunk) {
	in, err := wire.AppendChunk(nil, c)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	for b.Loop() {
		var out wire.Chunk
		if err := wire.DecodeChunk(in, &out); err != nil {
			b.Fatal(err)
		}
	}
	runtime.ReadMemStats(&ms1)
	perChunk := float64(ms1.Mallocs-ms0.Mallocs) / float64(b.N)
	b.ReportMetric((perChunk-1)/float64(len(c.Vectors)), "allocs/column")
	reportRows(b, int(c.Rows))
}

// BenchmarkDecodeChunkFreshLongDouble is the fixed-width case of the
// performance targets: LONG and DOUBLE only, with NULLs, decoded into a new
// Chunk (one allocation per column: the values; the null sets alias the
// input).
func BenchmarkDecodeChunkFreshLongDouble(b *testing.B) {
	c := benchChunk(benchRows)
	c.Vectors = c.Vectors[:2]
	benchDecodeFresh(b, c)
}

// BenchmarkDecodeChunkLongDouble is the same bytes decoded into a reused
// Chunk, the way the connector's rows decode.
func BenchmarkDecodeChunkLongDouble(b *testing.B) {
	c := benchChunk(benchRows)
	c.Vectors = c.Vectors[:2]
	benchDecode(b, c)
}

// BenchmarkDecodeChunkRecycled decodes the LONG+DOUBLE+STRING chunk the
// way the connector's rows do: into a reused Chunk whose fixed-width value
// arrays were dropped (the rows hand values out by reference, so a
// delivered batch's arrays are never written again): one allocation per
// fixed-width column per batch, none for the rest.
func BenchmarkDecodeChunkRecycled(b *testing.B) {
	c := benchChunk(benchRows)
	in, err := wire.AppendChunk(nil, c)
	if err != nil {
		b.Fatal(err)
	}
	var out wire.Chunk
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		for i := range out.Vectors {
			v := &out.Vectors[i]
			v.Int32s, v.Int64s, v.Float64s = nil, nil, nil
		}
		if err := wire.DecodeChunk(in, &out); err != nil {
			b.Fatal(err)
		}
	}
	reportRows(b, benchRows)
}
