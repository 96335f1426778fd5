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

// A batch decoded with compact strings (wire.DecodeChunkCompact, as the
// driver decodes for this package) gives the same record as one decoded
// with DecodeChunk, with and without NULLs, constant or not.
func TestCompactStringsSameRecord(t *testing.T) {
	const n = 300
	nulls := make([]bool, n)
	vals := make([][]byte, n)
	for j := range n {
		nulls[j] = j%7 == 3
		if !nulls[j] || j%2 == 0 { // some NULL rows carry bytes
			vals[j] = []byte("s" + strconv.Itoa(j*j))
		}
	}
	src := &wire.Chunk{Rows: n, Vectors: []wire.Vector{
		{Type: wire.String, Nulls: nulls, Bytes: vals},
		{Type: wire.String, Nulls: make([]bool, n), Bytes: vals},
		{Type: wire.Binary, Nulls: make([]bool, n), Bytes: vals},
		{Type: wire.String, Constant: true, Nulls: []bool{false}, Bytes: [][]byte{[]byte("const")}},
	}}
	enc, err := wire.AppendChunk(nil, src)
	if err != nil {
		t.Fatal(err)
	}
	cols := []batches.Column{{Name: "a", Type: wire.String}, {Name: "b", Type: wire.String}, {Name: "c", Type: wire.Binary}, {Name: "d", Type: wire.String}}
	b, err := newBuilder(cols)
	if err != nil {
		t.Fatal(err)
	}
	var plain, compact wire.Chunk
	if err := wire.DecodeChunk(enc, &plain); err != nil {
		t.Fatal(err)
	}
	if err := wire.DecodeChunkCompact(enc, &compact); err != nil {
		t.Fatal(err)
	}
	if len(compact.Vectors[1].StrOffsets) == 0 {
		t.Fatal("DecodeChunkCompact left the strings in Bytes")
	}
	want, err := b.record(&plain)
	if err != nil {
		t.Fatal(err)
	}
	defer want.Release()
	got, err := b.record(&compact)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	for i := range cols {
		if !array.Equal(want.Column(i), got.Column(i)) {
			t.Errorf("column %s: compact %v, plain %v", cols[i].Name, got.Column(i), want.Column(i))
		}
	}
	// NULL rows hold no bytes, as from DecodeChunk.
	a := got.Column(0).(*array.String)
	for j := range n {
		if a.IsNull(j) && a.ValueLen(j) != 0 {
			t.Fatalf("NULL row %d holds %d bytes", j, a.ValueLen(j))
		}
	}
}
