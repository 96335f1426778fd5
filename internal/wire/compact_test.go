package wire_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/e6go/e6data/internal/wire"
)

// expand brings a chunk decoded by DecodeChunkCompact to DecodeChunk's
// form: every StrOffsets vector's values into Bytes.
func expand(c *wire.Chunk) {
	for i := range c.Vectors {
		v := &c.Vectors[i]
		if len(v.StrOffsets) == 0 {
			continue
		}
		v.Bytes = make([][]byte, v.StringCount())
		for j := range v.Bytes {
			v.Bytes[j] = v.BytesAt(j)
		}
		v.StrOffsets, v.StrData = nil, nil
	}
}

// FuzzDecodeChunkCompact: DecodeChunkCompact accepts and rejects exactly
// what DecodeChunk does, with the same errors, and reads the same values;
// its strings are copies, not the input's bytes, and decoding into a used
// chunk gives the same result as into a new one.
func FuzzDecodeChunkCompact(f *testing.F) {
	f.Add([]byte{})
	f.Add(unhexF(workedChunk))
	for _, b := range handSeeds() {
		f.Add(b)
	}
	seeds, _ := filepath.Glob(filepath.Join("testdata", "lenient", "*.hex"))
	for _, name := range seeds {
		if s, err := os.ReadFile(name); err == nil {
			if b, err := parseHex(string(s)); err == nil {
				f.Add(b)
			}
		}
	}
	golden, _ := filepath.Glob(filepath.Join("testdata", "chunk_*.bin"))
	for _, name := range golden {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want, got wire.Chunk
		werr := wire.DecodeChunk(b, &want)
		// Decode into a chunk that already holds a batch, as the driver does;
		// for every other input with the earlier strings handed back as
		// StrSpare, as the rows do (recycle).
		if err := wire.DecodeChunkCompact(unhexF(workedChunk), &got); err != nil {
			t.Fatal(err)
		}
		if len(b)%2 == 1 {
			for i := range got.Vectors {
				v := &got.Vectors[i]
				v.StrSpare, v.StrData = v.StrData, nil
			}
		}
		gerr := wire.DecodeChunkCompact(b, &got)
		if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			t.Fatalf("DecodeChunkCompact: %v; DecodeChunk: %v", gerr, werr)
		}
		if werr != nil {
			if got.Rows != 0 || len(got.Vectors) != 0 {
				t.Fatalf("failed with Rows %d and %d vectors", got.Rows, len(got.Vectors))
			}
			return
		}
		for i := range got.Vectors {
			v := &got.Vectors[i]
			if len(v.StrOffsets) > 0 {
				if len(v.Bytes) != 0 {
					t.Fatalf("vector %d has both StrOffsets and %d Bytes", i, len(v.Bytes))
				}
				if len(v.StrData) > 0 && inside(b, v.StrData) {
					t.Fatalf("vector %d: StrData aliases the input", i)
				}
				if v.StrOffsets[0] != 0 || int(v.StrOffsets[len(v.StrOffsets)-1]) != len(v.StrData) {
					t.Fatalf("vector %d: offsets %d..%d for %d bytes", i, v.StrOffsets[0], v.StrOffsets[len(v.StrOffsets)-1], len(v.StrData))
				}
			}
		}
		expand(&got)
		// chunkDiff compares a round trip, which makes a NULL-type
		// vector constant; here both come from the same bytes.
		for i := range want.Vectors {
			if want.Vectors[i].Type == wire.Null && got.Vectors[i].Type == wire.Null {
				want.Vectors[i].Constant, got.Vectors[i].Constant = true, true
			}
		}
		if d := chunkDiff(&want, &got); d != "" {
			t.Fatalf("DecodeChunkCompact differs from DecodeChunk: %s", d)
		}
	})
}

// Strings of every length up to 40 come out whole, next to each other.
func TestCompactStringLengths(t *testing.T) {
	const n = 41
	vals := make([][]byte, n)
	for l := range n {
		vals[l] = make([]byte, l)
		for k := range l {
			vals[l][k] = byte('a' + (l+k)%26)
		}
	}
	enc, err := wire.AppendChunk(nil, &wire.Chunk{Rows: n, Vectors: []wire.Vector{{Type: wire.String, Nulls: make([]bool, n), Bytes: vals}}})
	if err != nil {
		t.Fatal(err)
	}
	var c wire.Chunk
	if err := wire.DecodeChunkCompact(enc, &c); err != nil {
		t.Fatal(err)
	}
	v := &c.Vectors[0]
	for l := range n {
		if got := v.BytesAt(l); string(got) != string(vals[l]) {
			t.Errorf("value of %d bytes: %q, want %q", l, got, vals[l])
		}
	}
}
