package e6data

import (
	"testing"

	"github.com/e6go/e6data/internal/wire"
)

// TestRecycle checks what a delivered batch keeps for the next decode: a
// STRING vector's data comes back as StrSpare (its strings were copied
// before they were handed out) and the boxed value arrays are dropped;
// a BINARY vector (its values are handed out as they are) gives back
// neither its data nor the receive buffer; rows read a batch at a time
// keep their value arrays and give no string data back (it went to the
// caller with the batch).
func TestRecycle(t *testing.T) {
	mk := func() wire.Chunk {
		return wire.Chunk{Rows: 1, Recv: []byte("recv"), Vectors: []wire.Vector{
			{Type: wire.Long, Int64s: []int64{1}},
			{Type: wire.String, StrOffsets: []int32{0, 3}, StrData: []byte("abc")},
			{Type: wire.Binary, StrOffsets: []int32{0, 2}, StrData: []byte("xy")},
		}}
	}
	r := &rows{}
	c := mk()
	r.recycle(&c)
	if c.Vectors[0].Int64s != nil {
		t.Error("rows: LONG values kept for reuse; boxAt may have handed them out")
	}
	if s := &c.Vectors[1]; string(s.StrSpare) != "abc" || s.StrData != nil {
		t.Errorf("rows: STRING StrSpare %q, StrData %q; want the data as the spare", s.StrSpare, s.StrData)
	}
	if b := &c.Vectors[2]; b.StrSpare != nil {
		t.Errorf("rows: BINARY data %q offered for reuse", b.StrSpare)
	}
	if c.Recv != nil {
		t.Error("rows: receive buffer kept with a BINARY vector")
	}

	r = &rows{batched: true}
	c = mk()
	c.Vectors = c.Vectors[:2]
	r.recycle(&c)
	if c.Vectors[0].Int64s == nil {
		t.Error("batched: LONG values dropped")
	}
	if s := &c.Vectors[1]; s.StrSpare != nil {
		t.Errorf("batched: STRING data %q offered for reuse", s.StrSpare)
	}
	if c.Recv == nil {
		t.Error("batched: receive buffer dropped without a BINARY vector")
	}
}
