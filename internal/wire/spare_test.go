package wire_test

import (
	"strconv"
	"testing"
	"unsafe"

	"github.com/e6go/e6data/internal/wire"
)

// stringChunk encodes a one-column STRING chunk of the given values.
func stringChunk(t *testing.T, vals []string) []byte {
	t.Helper()
	bs := make([][]byte, len(vals))
	for i, s := range vals {
		bs[i] = []byte(s)
	}
	enc, err := wire.AppendChunk(nil, &wire.Chunk{Rows: int32(len(vals)), Vectors: []wire.Vector{{Type: wire.String, Nulls: make([]bool, len(vals)), Bytes: bs}}})
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

func values(n, width int, prefix string) []string {
	vals := make([]string, n)
	for i := range vals {
		s := prefix + strconv.Itoa(i)
		for len(s) < width {
			s += "."
		}
		vals[i] = s
	}
	return vals
}

func checkStrings(t *testing.T, v *wire.Vector, want []string) {
	t.Helper()
	if v.StringCount() != len(want) {
		t.Fatalf("%d values, want %d", v.StringCount(), len(want))
	}
	for i, w := range want {
		if got := string(v.BytesAt(i)); got != w {
			t.Fatalf("value %d: %q, want %q", i, got, w)
		}
	}
}

// DecodeChunkCompact decodes a list of strings into StrSpare when it is
// large enough (and takes it), into a new slice with room to spare when it
// is not, and DecodeChunk leaves it alone.
func TestCompactStrSpare(t *testing.T) {
	first, second := values(300, 12, "a"), values(300, 12, "b")
	var c wire.Chunk
	if err := wire.DecodeChunkCompact(stringChunk(t, first), &c); err != nil {
		t.Fatal(err)
	}
	v := &c.Vectors[0]
	checkStrings(t, v, first)
	if cap(v.StrData) != len(v.StrData) {
		t.Fatalf("without a spare, StrData has capacity %d for %d bytes, want exact", cap(v.StrData), len(v.StrData))
	}
	old := v.StrData
	v.StrSpare, v.StrData = old, nil

	if err := wire.DecodeChunkCompact(stringChunk(t, second), &c); err != nil {
		t.Fatal(err)
	}
	v = &c.Vectors[0]
	checkStrings(t, v, second)
	if unsafe.SliceData(v.StrData) != unsafe.SliceData(old) {
		t.Fatal("StrData was not decoded into the spare of the same size")
	}
	if v.StrSpare != nil {
		t.Fatal("the decoder did not take StrSpare")
	}

	// A spare too small: a new slice, larger than needed.
	small := v.StrData[:10:10]
	v.StrSpare, v.StrData = small, nil
	if err := wire.DecodeChunkCompact(stringChunk(t, first), &c); err != nil {
		t.Fatal(err)
	}
	v = &c.Vectors[0]
	checkStrings(t, v, first)
	if unsafe.SliceData(v.StrData) == unsafe.SliceData(small) || cap(v.StrData) <= len(v.StrData) || v.StrSpare != nil {
		t.Fatalf("too small a spare: StrData %d/%d bytes, shared %v, StrSpare %d", len(v.StrData), cap(v.StrData),
			unsafe.SliceData(v.StrData) == unsafe.SliceData(small), len(v.StrSpare))
	}

	// DecodeChunk does not use it.
	spare := v.StrData
	v.StrSpare, v.StrData = spare, nil
	if err := wire.DecodeChunk(stringChunk(t, second), &c); err != nil {
		t.Fatal(err)
	}
	v = &c.Vectors[0]
	checkStrings(t, v, second)
	if unsafe.SliceData(v.StrSpare) != unsafe.SliceData(spare) {
		t.Fatal("DecodeChunk took StrSpare")
	}
}
