package e6arrow

import (
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/e6go/e6data/internal/batches"
	"github.com/e6go/e6data/internal/wire"
)

// poolChunk is a batch of n rows whose values all derive from base, in
// arrays the test overwrites afterwards as the driver does.
func poolChunk(n int, base int64) *wire.Chunk {
	c := &wire.Chunk{Rows: int32(n), Vectors: []wire.Vector{
		{Type: wire.Long, Nulls: make([]bool, n), Int64s: make([]int64, n)},
		{Type: wire.Double, Nulls: make([]bool, n), Float64s: make([]float64, n)},
		{Type: wire.String, Nulls: make([]bool, n), Bytes: make([][]byte, n)},
	}}
	for j := range n {
		c.Vectors[0].Int64s[j] = base + int64(j)
		c.Vectors[1].Float64s[j] = float64(base+int64(j)) / 2
		c.Vectors[2].Bytes[j] = []byte("v" + strconv.FormatInt(base+int64(j), 10))
	}
	return c
}

// A record's values are its own: the chunk's arrays decoded into again, and
// later records built from the pool, leave a record the caller keeps
// unchanged; once a record is released its buffers serve later ones.
func TestRecordsOwnPooledBuffers(t *testing.T) {
	b, err := newBuilder([]batches.Column{{Name: "l", Type: wire.Long}, {Name: "x", Type: wire.Double}, {Name: "s", Type: wire.String}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	c := poolChunk(n, 0)
	kept, err := b.record(c)
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Release()
	for base := int64(1); base <= 5; base++ {
		// The driver decodes the next batch into the same arrays.
		next := poolChunk(n, base*n)
		copy(c.Vectors[0].Int64s, next.Vectors[0].Int64s)
		copy(c.Vectors[1].Float64s, next.Vectors[1].Float64s)
		copy(c.Vectors[2].Bytes, next.Vectors[2].Bytes)
		rec, err := b.record(c)
		if err != nil {
			t.Fatal(err)
		}
		if v := rec.Column(0).(*array.Int64).Value(n - 1); v != base*n+n-1 {
			t.Fatalf("batch %d: l[%d] = %d", base, n-1, v)
		}
		rec.Release()
	}
	if len(b.pool.free) == 0 {
		t.Error("no buffer came back to the pool after records were released")
	}
	ls, xs, ss := kept.Column(0).(*array.Int64), kept.Column(1).(*array.Float64), kept.Column(2).(*array.String)
	for j := range n {
		if ls.Value(j) != int64(j) || xs.Value(j) != float64(j)/2 || ss.Value(j) != "v"+strconv.Itoa(j) {
			t.Fatalf("kept record row %d = %d, %g, %q", j, ls.Value(j), xs.Value(j), ss.Value(j))
		}
	}
}
