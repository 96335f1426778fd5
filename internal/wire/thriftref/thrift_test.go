package thriftref_test

import (
	"bytes"
	"testing"

	"github.com/e6go/e6data/internal/wire"
)

// TestThriftDecodesAppendChunk: our encoder's bytes, read by the code that
// Apache Thrift generates from our IDL, give back the same values; and the
// bytes are the very bytes the generated code writes for those values.
func TestThriftDecodesAppendChunk(t *testing.T) {
	for seed := range uint64(300) {
		c := newGen(seed).Chunk()
		b, err := wire.AppendChunk(nil, c)
		if err != nil {
			t.Fatalf("seed %d: AppendChunk: %v", seed, err)
		}
		if cap(b) != len(b) {
			t.Fatalf("seed %d: AppendChunk sized its buffer %d for %d bytes", seed, cap(b), len(b))
		}
		tc, err := thriftDecode(b)
		if err != nil {
			t.Fatalf("seed %d: Thrift cannot read AppendChunk output: %v", seed, err)
		}
		if d := chunkDiff(c, fromThrift(t, tc)); d != "" {
			t.Fatalf("seed %d: %s", seed, d)
		}
		tb, err := thriftEncode(toThrift(c))
		if err != nil {
			t.Fatalf("seed %d: Thrift encode: %v", seed, err)
		}
		if !bytes.Equal(b, tb) {
			t.Fatalf("seed %d: AppendChunk and Thrift differ at byte %d of %d/%d", seed, firstDiff(b, tb), len(b), len(tb))
		}
	}
}

// TestDecodeChunkReadsThrift: bytes written by the Thrift-generated code
// decode with DecodeChunk to the values they were built from.
func TestDecodeChunkReadsThrift(t *testing.T) {
	var got wire.Chunk // reused across seeds on purpose
	for seed := range uint64(300) {
		c := newGen(1000 + seed).Chunk()
		b, err := thriftEncode(toThrift(c))
		if err != nil {
			t.Fatalf("seed %d: Thrift encode: %v", seed, err)
		}
		if err := wire.DecodeChunk(b, &got); err != nil {
			t.Fatalf("seed %d: DecodeChunk: %v", seed, err)
		}
		if d := chunkDiff(c, &got); d != "" {
			t.Fatalf("seed %d: %s", seed, d)
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
