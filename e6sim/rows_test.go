package e6sim

import (
	"testing"

	"github.com/e6go/e6data/internal/wire"
)

// firstColumn decodes a result batch whose first column is a LONG and
// returns that column.
func firstColumn(t *testing.T, b []byte) []int64 {
	t.Helper()
	var c wire.Chunk
	if err := wire.DecodeChunk(b, &c); err != nil {
		t.Fatalf("decode batch: %v", err)
	}
	if c.Rows == 0 {
		return nil
	}
	v := &c.Vectors[0]
	out := make([]int64, c.Rows)
	for i := range out {
		if v.IsNull(i) {
			t.Fatalf("row %d is NULL", i)
		}
		out[i] = v.Int64(i)
	}
	return out
}
