package wire_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/e6go/e6data/internal/wire"
)

// handSeeds are unusual but valid batches (and a few broken ones) that
// seed FuzzDecodeChunk beside the golden files.
func handSeeds() map[string][]byte {
	long := vec(6, boolList(3, false, true), member(3, i64List(1, 7, 8)))
	return map[string][]byte{
		"vectors_before_size": tw{}.f(tList, 2).list(tStruct, 1).raw(long).f(tI32, 1).i32(2).stop(),
		"unknown_fields":      chunkOf(1, vec(14, boolList(3, true), nil, tw{}.f(tMap, 9).u8(tString).u8(tList).i32(1).str("k").list(tI32, 1).i32(1), nested(5))),
		"null_constant":       chunkOf(3, vec(6, boolList(3, false), member(10, tw{}.f(tByte, 1).u8(0)), constTrue)),
		"short_decimals":      chunkOf(2, vec(16, boolList(3, false, false), member(17, tw{}.f(tList, 1).list(tString, 2).str("\xff").str("\x01\x00"), tw{}.f(tI32, 2).i32(2)))),
		"tz_constant":         chunkOf(4, vec(15, boolList(3, false), member(14, tw{}.f(tI64, 1).i64(-1), tw{}.f(tString, 2).str("+05:30")), constTrue)),
		"date_from_int64":     chunkOf(1, vec(8, boolList(3, false), member(3, i64List(1, -86_400_000_000)))),
		"huge_list":           tw{}.f(tI32, 1).i32(1).f(tList, 2).list(tStruct, 1<<31-1).raw(make(tw, 8)),
		"size_zero":           chunkOf(0, long),
	}
}

// TestWriteFuzzSeeds rewrites the hand-made seed corpora with -update.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*update {
		t.Skip("only with -update")
	}
	for name, b := range handSeeds() {
		writeSeed(t, "FuzzDecodeChunk", "hand_"+name, b)
	}
	for name, tc := range map[string]wire.Metadata{"two_fields": workedMetadataValue} {
		b, err := wire.AppendMetadata(nil, &tc)
		if err != nil {
			t.Fatal(err)
		}
		writeSeed(t, "FuzzDecodeMetadata", "hand_"+name, append(b, "trailing"...))
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzRoundTrip")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for seed := range 8 {
		body := fmt.Sprintf("go test fuzz v1\nuint64(%d)\n", seed*1_000_003)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed_%d", seed)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func checkFuzzError(t *testing.T, b []byte, err error) {
	t.Helper()
	var de *wire.DecodeError
	if !errors.As(err, &de) || !errors.Is(err, wire.ErrMalformed) {
		t.Fatalf("error %v (%T) is not a *DecodeError matching ErrMalformed", err, err)
	}
	if de.Offset < 0 || de.Offset > len(b) {
		t.Fatalf("offset %d outside the %d-byte input", de.Offset, len(b))
	}
}

// FuzzDecodeMetadata: any input either fails with a *DecodeError, or
// decodes to metadata whose encoding is a prefix of the input.
func FuzzDecodeMetadata(f *testing.F) {
	f.Add([]byte{})
	f.Add(unhexF(workedMetadata))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := wire.DecodeMetadata(b)
		if err != nil {
			checkFuzzError(t, b, err)
			return
		}
		out, err := wire.AppendMetadata(nil, m)
		if err != nil {
			t.Fatalf("decoded metadata does not encode: %v", err)
		}
		if !bytes.HasPrefix(b, out) {
			t.Fatalf("re-encoding is not a prefix of the input\nin  %x\nout %x", b, out)
		}
	})
}

// FuzzDecodeChunk: any input either fails with a *DecodeError or decodes
// to a chunk that (a) can be read through the accessors for every row,
// (b) aliases only the input, and (c) encodes and decodes again to the same
// values. (FuzzThriftReadsDecodeChunk in internal/wire/thriftref checks
// that the Thrift-generated code also reads what DecodeChunk accepts.)
func FuzzDecodeChunk(f *testing.F) {
	f.Add([]byte{})
	f.Add(unhexF(workedChunk))
	for _, b := range handSeeds() {
		f.Add(b)
	}
	lenientSeeds, _ := filepath.Glob(filepath.Join("testdata", "lenient", "*.hex"))
	for _, name := range lenientSeeds {
		if s, err := os.ReadFile(name); err == nil {
			if b, err := parseHex(string(s)); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c wire.Chunk
		if err := wire.DecodeChunk(b, &c); err != nil {
			checkFuzzError(t, b, err)
			return
		}
		if c.Rows <= 0 {
			if c.Rows != 0 || len(c.Vectors) != 0 {
				t.Fatalf("end of results with Rows %d and %d vectors", c.Rows, len(c.Vectors))
			}
			return
		}
		rows := min(int(c.Rows), 1<<12)
		for i := range c.Vectors {
			v := &c.Vectors[i]
			for r := range rows {
				touch(v, r)
			}
			for _, s := range v.Bytes {
				if len(s) > 0 && !inside(b, s) {
					t.Fatalf("vector %d holds bytes outside the input", i)
				}
			}
		}
		out, err := wire.AppendChunk(nil, &c)
		if err != nil {
			t.Fatalf("a decoded chunk does not encode: %v", err)
		}
		var again wire.Chunk
		if err := wire.DecodeChunk(out, &again); err != nil {
			t.Fatalf("re-encoded chunk does not decode: %v", err)
		}
		if d := chunkDiff(&c, &again); d != "" {
			t.Fatalf("round trip changed the chunk: %s", d)
		}
	})
}

// FuzzRoundTrip: random chunks (from a fuzzed seed) encode and decode to
// the same values. (FuzzThriftRoundTrip in internal/wire/thriftref reads
// them through the Thrift-generated code too.)
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint64(0))
	f.Fuzz(func(t *testing.T, seed uint64) {
		c := newGen(seed).Chunk()
		b, err := wire.AppendChunk(nil, c)
		if err != nil {
			t.Fatal(err)
		}
		var got wire.Chunk
		if err := wire.DecodeChunk(b, &got); err != nil {
			t.Fatal(err)
		}
		if d := chunkDiff(c, &got); d != "" {
			t.Fatal(d)
		}
	})
}

// touch reads row r through the accessor of v's type.
func touch(v *wire.Vector, r int) {
	_ = v.IsNull(r)
	_ = v.Zone(r)
	switch v.Type {
	case wire.Boolean:
		_ = v.Bool(r)
	case wire.Integer:
		_ = v.Int32(r)
	case wire.Long, wire.Date, wire.DateTime, wire.Timestamp, wire.TimestampTZ:
		_ = v.Int64(r)
	case wire.Double, wire.Float:
		_ = v.Float64(r)
	case wire.String, wire.Binary, wire.Array, wire.Map, wire.Struct:
		_ = v.BytesAt(r)
	case wire.Decimal128:
		_ = v.Decimal(r).Format(v.Scale)
	}
}

// inside reports whether s lies within b's memory.
func inside(b, s []byte) bool {
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	return p >= lo && p+uintptr(len(s)) <= lo+uintptr(len(b))
}

func unhexF(s string) []byte {
	b, err := parseHex(s)
	if err != nil {
		panic(err)
	}
	return b
}
