package e6data

import (
	"database/sql/driver"
	"strings"
	"testing"

	"github.com/e6go/e6data/internal/wire"
)

// TestStringsCopiedInBlocks checks what Next hands out for a STRING column:
// every value equal to the batch's, none aliasing the batch's bytes (which
// are overwritten here after delivery), short strings packed into shared
// blocks of at most strBlock bytes, and long ones, NULLs and empty strings
// handled on their own.
func TestStringsCopiedInBlocks(t *testing.T) {
	var src [][]byte
	var nulls []bool
	for j := range 3000 {
		var s string
		switch {
		case j%500 == 7:
			s = strings.Repeat("L", strOwn+j%3) // long: its own allocation
		case j%97 == 3:
			s = "" // empty
		default:
			s = "customer-" + strings.Repeat("x", j%23)
		}
		src = append(src, []byte(s))
		nulls = append(nulls, j%101 == 5)
	}
	want := make([]string, len(src))
	for j, b := range src {
		want[j] = string(b)
	}
	r := &rows{strs: make([]batchStrings, 1), cols: []column{{typ: wire.String}}}
	// The rows decode compact (wire.DecodeChunkCompact): the strings one
	// after the other in StrData.
	offs, data := []int32{0}, []byte(nil)
	for _, b := range src {
		data = append(data, b...)
		offs = append(offs, int32(len(data)))
	}
	r.chunk = wire.Chunk{Rows: int32(len(src)), Vectors: []wire.Vector{{Type: wire.String, Size: int32(len(src)), StrOffsets: offs, StrData: data, Nulls: nulls}}}

	got := make([]any, len(src))
	for j := range src {
		var v driver.Value
		if !r.fastValue(0, j, &v) {
			if !nulls[j] {
				t.Fatalf("row %d: fastValue declined a non-NULL string", j)
			}
			continue
		}
		if nulls[j] {
			t.Fatalf("row %d: fastValue delivered a NULL as %q", j, v)
		}
		got[j] = v
	}
	for k := range data { // the batch's string data is reused for the next one (recycle)
		data[k] = '#'
	}

	for j, v := range got {
		if nulls[j] {
			continue
		}
		if s, ok := v.(string); !ok || s != want[j] {
			t.Fatalf("row %d: got %#v, want %q", j, v, want[j])
		}
	}
	short := 0
	for j, s := range want {
		if !nulls[j] && len(s) < strOwn {
			short += len(s)
		}
	}
	// Blocks end at a long string too, and a block may stop short of
	// strBlock when the next string does not fit: at most two per
	// strBlock bytes, plus one per long string and the batch's []string.
	long := len(src) / 500
	allocs := testing.AllocsPerRun(5, func() {
		r.strs[0] = batchStrings{}
		var v driver.Value
		for j := range src {
			r.fastValue(0, j, &v)
		}
	})
	if max := float64(2*short/strBlock + long + 1); allocs < float64(long) || allocs > max {
		t.Fatalf("%v allocations for %d rows (%d bytes of short strings, %d long ones), want at most %v", allocs, len(src), short, long, max)
	}
}
