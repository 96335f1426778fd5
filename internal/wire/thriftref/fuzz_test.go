package thriftref_test

import (
	"os"
	"testing"

	"github.com/e6go/e6data/internal/wire"
)

// FuzzThriftReadsDecodeChunk: whatever DecodeChunk accepts as a batch with
// rows, the Thrift-generated code reads too (DecodeChunk is no more
// lenient than the reference, except where internal/wire's lenient tests
// say so on purpose for end-of-results and ignored fields).
func FuzzThriftReadsDecodeChunk(f *testing.F) {
	f.Add([]byte{})
	names, err := goldenChunkFiles()
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range names {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c wire.Chunk
		if err := wire.DecodeChunk(b, &c); err != nil || c.Rows <= 0 {
			return
		}
		if _, err := thriftDecode(b); err != nil {
			t.Fatalf("DecodeChunk accepted what Thrift rejects: %v", err)
		}
	})
}

// FuzzThriftRoundTrip: random chunks (from a fuzzed seed) encoded by
// AppendChunk read the same through the Thrift-generated code, and
// decode with DecodeChunk from what the Thrift-generated code writes.
func FuzzThriftRoundTrip(f *testing.F) {
	for seed := range uint64(8) {
		f.Add(seed * 1_000_003)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		c := newGen(seed).Chunk()
		b, err := wire.AppendChunk(nil, c)
		if err != nil {
			t.Fatal(err)
		}
		tc, err := thriftDecode(b)
		if err != nil {
			t.Fatal(err)
		}
		if d := chunkDiff(c, fromThrift(t, tc)); d != "" {
			t.Fatalf("via Thrift: %s", d)
		}
		tb, err := thriftEncode(toThrift(c))
		if err != nil {
			t.Fatal(err)
		}
		var got wire.Chunk
		if err := wire.DecodeChunk(tb, &got); err != nil {
			t.Fatal(err)
		}
		if d := chunkDiff(c, &got); d != "" {
			t.Fatalf("Thrift's bytes: %s", d)
		}
	})
}
