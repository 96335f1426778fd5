//go:build go1.27

package e6data

import (
	"database/sql"
	"database/sql/driver"
	"fmt"
	"reflect"
	"testing"

	"github.com/e6go/e6data/internal/wire"
)

// scanTestRows decodes one batch of n rows, as fetchBatch does, into new
// rows: LONG, DOUBLE, INTEGER and STRING columns with NULLs, a constant
// LONG, a BOOLEAN and a NULL-typed column.
func scanTestRows(t *testing.T, n int) *rows {
	t.Helper()
	c := &wire.Chunk{Rows: int32(n), Vectors: []wire.Vector{
		{Type: wire.Long, Nulls: make([]bool, n), Int64s: make([]int64, n)},
		{Type: wire.Double, Nulls: make([]bool, n), Float64s: make([]float64, n)},
		{Type: wire.Integer, Nulls: make([]bool, n), Int32s: make([]int32, n)},
		{Type: wire.String, Nulls: make([]bool, n), Bytes: make([][]byte, n)},
		{Type: wire.Long, Constant: true, Nulls: []bool{false}, Int64s: []int64{-7}},
		{Type: wire.Boolean, Nulls: make([]bool, n), Bools: make([]bool, n)},
		{Type: wire.Null, Nulls: make([]bool, n)},
	}}
	cols := []column{{name: "l", typ: wire.Long}, {name: "d", typ: wire.Double}, {name: "i", typ: wire.Integer},
		{name: "s", typ: wire.String}, {name: "k", typ: wire.Long}, {name: "b", typ: wire.Boolean}, {name: "n", typ: wire.Null}}
	for j := range n {
		c.Vectors[0].Int64s[j] = int64(j)*7919 - 5000
		c.Vectors[1].Float64s[j] = float64(j) / 3
		c.Vectors[2].Int32s[j] = int32(j) - 10
		c.Vectors[3].Bytes[j] = fmt.Appendf(nil, "%d", j*13) // numeric text: converts to numbers too
		c.Vectors[5].Bools[j] = j%2 == 0
		for v := range 4 {
			c.Vectors[v].Nulls[j] = (j+v)%11 == 0
		}
		c.Vectors[6].Nulls[j] = true
	}
	b, err := wire.AppendChunk(nil, c)
	if err != nil {
		t.Fatal(err)
	}
	r := &rows{cols: cols, names: make([]string, len(cols)), strs: make([]batchStrings, len(cols)), done: true}
	if err := wire.DecodeChunkCompact(b, &r.chunk); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestScanColumnMatchesNext scans every column of every row into every
// common destination type through ScanColumn (Go 1.27's database/sql path)
// and through Next followed by sql.ConvertAssign (the path before it), and
// requires the same value or the same error from both.
func TestScanColumnMatchesNext(t *testing.T) {
	const n = 300
	byColumn, byRow := scanTestRows(t, n), scanTestRows(t, n)
	dests := []func() any{
		func() any { return new(int64) }, func() any { return new(float64) }, func() any { return new(int32) },
		func() any { return new(int) }, func() any { return new(string) }, func() any { return new(bool) },
		func() any { return new([]byte) }, func() any { return new(any) }, func() any { return new(sql.NullInt64) },
		func() any { return new(sql.NullFloat64) }, func() any { return new(sql.NullString) }, func() any { return new(*int64) },
	}
	vals := make([]driver.Value, len(byRow.cols))
	direct := 0
	for j := range n {
		if err := byColumn.NextRow(); err != nil {
			t.Fatal(err)
		}
		if err := byRow.Next(vals); err != nil {
			t.Fatal(err)
		}
		for i := range byRow.cols {
			for _, mk := range dests {
				a, b := mk(), mk()
				errA := byColumn.ScanColumn(driver.ScanContext{}, i, a)
				errB := sql.ConvertAssign(driver.ScanContext{}, b, vals[i])
				if (errA == nil) != (errB == nil) || (errA != nil && errA.Error() != errB.Error()) {
					t.Fatalf("row %d column %s into %T: ScanColumn error %v, Next+ConvertAssign error %v", j, byRow.names[i], a, errA, errB)
				}
				if !reflect.DeepEqual(a, b) {
					t.Fatalf("row %d column %s into %T: ScanColumn %v, Next+ConvertAssign %v", j, byRow.names[i], a,
						reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem())
				}
				if errA == nil {
					direct++
				}
			}
		}
	}
	if err := byColumn.NextRow(); err == nil {
		t.Fatal("NextRow after the last row: no io.EOF")
	}
	if direct == 0 {
		t.Fatal("no scan succeeded")
	}
}

// TestScanColumnStoresWithoutAllocating: a LONG, a DOUBLE and an INTEGER
// scanned into variables of their own types cost no allocation.
func TestScanColumnStoresWithoutAllocating(t *testing.T) {
	r := scanTestRows(t, 1000)
	var (
		l int64
		d float64
		i int32
	)
	allocs := testing.AllocsPerRun(500, func() {
		if err := r.NextRow(); err != nil {
			t.Fatal(err)
		}
		row := r.pos - 1
		if r.chunk.Vectors[0].Nulls[row] || r.chunk.Vectors[1].Nulls[row] || r.chunk.Vectors[2].Nulls[row] {
			return
		}
		for c, dst := range []any{&l, &d, &i} {
			if err := r.ScanColumn(driver.ScanContext{}, c, dst); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs > 0 {
		t.Errorf("%.1f allocations per row, want 0", allocs)
	}
}
