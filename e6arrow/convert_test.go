package e6arrow

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/e6go/e6data/internal/batches"
	"github.com/e6go/e6data/internal/wire"
)

// Constant vectors (one value standing for every row) are expanded; a
// constant NULL and a NULL-type vector give all-NULL columns.
func TestConstantVectorsExpanded(t *testing.T) {
	cols := []batches.Column{
		{Name: "l", Type: wire.Long}, {Name: "s", Type: wire.String}, {Name: "n", Type: wire.Long},
		{Name: "b", Type: wire.Boolean}, {Name: "d", Type: wire.Decimal128, Scale: 2}, {Name: "dt", Type: wire.Date},
		{Name: "f", Type: wire.Float}, {Name: "nulltype", Type: wire.String}, {Name: "bin", Type: wire.Binary},
	}
	b, err := newBuilder(cols)
	if err != nil {
		t.Fatal(err)
	}
	const n = 5
	c := &wire.Chunk{Rows: n, Vectors: []wire.Vector{
		{Type: wire.Long, Constant: true, Nulls: []bool{false}, Int64s: []int64{42}},
		{Type: wire.String, Constant: true, Nulls: []bool{false}, Bytes: [][]byte{[]byte("xy")}},
		{Type: wire.Long, Constant: true, Nulls: []bool{true}},
		{Type: wire.Boolean, Constant: true, Nulls: []bool{false}, Bools: []bool{true}},
		{Type: wire.Decimal128, Constant: true, Nulls: []bool{false}, Decimals: []wire.Dec128{wire.Dec128FromInt64(-5)}, Scale: 1}, // rescaled to 2
		{Type: wire.Date, Constant: true, Nulls: []bool{false}, Int64s: []int64{-86_400_000_000}},
		{Type: wire.Float, Constant: true, Nulls: []bool{false}, Float64s: []float64{1.5}},
		{Type: wire.Null},
		{Type: wire.Binary, Constant: true, Nulls: []bool{false}, Bytes: [][]byte{{0, 0xff}}},
	}}
	rec, err := b.record(c)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	if rec.NumRows() != n {
		t.Fatalf("%d rows", rec.NumRows())
	}
	for r := range n {
		if v := rec.Column(0).(*array.Int64).Value(r); v != 42 {
			t.Fatalf("l[%d] = %d", r, v)
		}
		if v := rec.Column(1).(*array.String).Value(r); v != "xy" {
			t.Fatalf("s[%d] = %q", r, v)
		}
		if !rec.Column(2).IsNull(r) || !rec.Column(7).IsNull(r) {
			t.Fatalf("row %d not NULL", r)
		}
		if !rec.Column(3).(*array.Boolean).Value(r) {
			t.Fatalf("b[%d] false", r)
		}
		if v := rec.Column(4).(*array.Decimal128).Value(r).ToString(2); v != "-0.50" {
			t.Fatalf("d[%d] = %s", r, v)
		}
		if v := rec.Column(5).(*array.Date32).Value(r); v != -1 {
			t.Fatalf("dt[%d] = %d", r, v)
		}
		if v := rec.Column(6).(*array.Float32).Value(r); v != 1.5 {
			t.Fatalf("f[%d] = %v", r, v)
		}
		if v := rec.Column(8).(*array.Binary).Value(r); string(v) != "\x00\xff" {
			t.Fatalf("bin[%d] = %x", r, v)
		}
	}
	if rec.Column(2).NullN() != n || rec.Column(7).DataType().ID() != arrow.STRING {
		t.Fatal("NULL columns")
	}
}

// NULL bitmaps: a NULL row anywhere (also after the first byte of the
// bitmap) is NULL and every other row valid.
func TestNullBitmap(t *testing.T) {
	b, err := newBuilder([]batches.Column{{Name: "x", Type: wire.Long}, {Name: "s", Type: wire.String}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 37
	nulls := make([]bool, n)
	vals := make([]int64, n)
	strs := make([][]byte, n)
	for i := range n {
		nulls[i] = i%11 == 10 || i == 36
		vals[i] = int64(i)
		strs[i] = []byte{byte('a' + i%26)}
	}
	rec, err := b.record(&wire.Chunk{Rows: n, Vectors: []wire.Vector{
		{Type: wire.Long, Nulls: nulls, Int64s: vals},
		{Type: wire.String, Nulls: nulls, Bytes: strs},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	for i := range n {
		for c := range 2 {
			if rec.Column(c).IsNull(i) != nulls[i] {
				t.Fatalf("column %d row %d: null %v", c, i, rec.Column(c).IsNull(i))
			}
		}
		if !nulls[i] && (rec.Column(0).(*array.Int64).Value(i) != int64(i) || rec.Column(1).(*array.String).Value(i) != string(strs[i])) {
			t.Fatalf("row %d", i)
		}
	}
	if rec.Column(0).NullN() != 4 {
		t.Fatalf("%d NULLs", rec.Column(0).NullN())
	}
}

func TestDaysBefore1970(t *testing.T) {
	for us, want := range map[int64]int32{0: 0, -1: -1, -86_400_000_000: -1, -86_400_000_001: -2, 86_399_999_999: 0} {
		if got := days(us); got != want {
			t.Errorf("days(%d) = %d, want %d", us, got, want)
		}
	}
}

func TestFirstTrue(t *testing.T) {
	for n := range 40 {
		for at := -1; at < n; at++ {
			b := make([]bool, n)
			if at >= 0 {
				b[at] = true
				for j := at + 1; j < n; j += 3 {
					b[j] = true
				}
			}
			if got := firstTrue(b); got != at {
				t.Fatalf("n %d: firstTrue = %d, want %d", n, got, at)
			}
		}
	}
}
