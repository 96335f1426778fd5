package wire_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/e6go/e6data/internal/wire"
)

// The lenient cases of docs/protocol.md §8: bytes e6data's own client reads that
// a strict reading of the layout would refuse. Each fixture under
// testdata/lenient was written by hand, byte by byte, from the layout, and
// is also a seed of FuzzDecodeChunk.

func lenient(t *testing.T, name string) []byte {
	t.Helper()
	s, err := os.ReadFile(filepath.Join("testdata", "lenient", name+".hex"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := parseHex(string(s))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

func decodeLenient(t *testing.T, name string) *wire.Chunk {
	t.Helper()
	var c wire.Chunk
	if err := wire.DecodeChunk(lenient(t, name), &c); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &c
}

// decimals reads column col of c as decimal text ("NULL" for a NULL).
func decimals(c *wire.Chunk, col int) []string {
	v := &c.Vectors[col]
	out := make([]string, c.Rows)
	for r := range out {
		if v.IsNull(r) {
			out[r] = "NULL"
		} else {
			out[r] = v.Decimal(r).Format(v.Scale)
		}
	}
	return out
}

func wantStrings(t *testing.T, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

func TestLenientNullSlots(t *testing.T) {
	t.Run("empty DECIMAL128 bytes in a NULL slot", func(t *testing.T) {
		c := decodeLenient(t, "decimal_empty_null")
		wantStrings(t, decimals(c, 0), "123.45", "NULL")
	})
	t.Run("bytes of no DECIMAL128 form in a NULL slot", func(t *testing.T) {
		in := chunkOf(2, vec(16, boolList(3, false, true), member(17, tw{}.f(tList, 1).list(tString, 2).str("\x01").str(strings.Repeat("\xff", 20)), tw{}.f(tI32, 2).i32(1))))
		var c wire.Chunk
		if err := wire.DecodeChunk(in, &c); err != nil {
			t.Fatal(err)
		}
		wantStrings(t, decimals(&c, 0), "0.1", "NULL")
	})
	t.Run("NULL constant DECIMAL128 with empty bytes", func(t *testing.T) {
		c := decodeLenient(t, "decimal_const_null")
		wantStrings(t, decimals(c, 0), "NULL", "NULL", "NULL")
	})
	t.Run("value list shorter than the rows", func(t *testing.T) {
		c := decodeLenient(t, "short_list_nulls")
		v := &c.Vectors[0]
		if c.Rows != 3 || v.Int64(0) != 7 || v.IsNull(0) || !v.IsNull(1) || !v.IsNull(2) || len(v.Int64s) != 3 {
			t.Fatalf("got rows %d, %+v", c.Rows, v)
		}
	})
	t.Run("all-NULL vector without data", func(t *testing.T) {
		c := decodeLenient(t, "all_null_no_data")
		v := &c.Vectors[0]
		if v.Type != wire.String || !v.IsNull(0) || !v.IsNull(1) || len(v.Bytes) != 2 {
			t.Fatalf("got %+v", v)
		}
	})
	t.Run("NULL-type vector with neither nullSet nor data", func(t *testing.T) {
		c := decodeLenient(t, "null_type_bare")
		v := &c.Vectors[0]
		if c.Rows != 2 || v.Type != wire.Null || !v.IsNull(0) || !v.IsNull(1) {
			t.Fatalf("got %+v", v)
		}
	})
}

func TestLenientDecimalText(t *testing.T) {
	c := decodeLenient(t, "decimal_text")
	// The text values carry their own scales (2, 1, -3) and the binary one
	// the vector's (0): all are brought, exactly, to the largest.
	wantStrings(t, decimals(c, 0), "123.45", "-0.50", "1000.00", "5.00")
	if c.Vectors[0].Scale != 2 {
		t.Fatalf("scale %d, want 2", c.Vectors[0].Scale)
	}
	wantStrings(t, decimals(c, 1), "-0.5", "-0.5", "-0.5", "-0.5")
	// Before, "123.45" read as the binary integer 0x3132332E3435.
	if got := decimals(c, 0)[0]; got == "54091676791861" {
		t.Fatal("text read as binary")
	}
}

func TestLenientNegativeScale(t *testing.T) {
	c := decodeLenient(t, "decimal_negative_scale")
	if v := &c.Vectors[0]; v.Scale != -3 {
		t.Fatalf("scale %d", v.Scale)
	}
	wantStrings(t, decimals(c, 0), "12000")
}

func TestLenientWiden(t *testing.T) {
	m, err := wire.DecodeMetadata(lenient(t, "widen_extra_metadata"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Fields) != 2 || m.Fields[0].Type != "LONG" || m.Fields[1].Type != "DOUBLE" {
		t.Fatalf("metadata %+v", m)
	}
	c := decodeLenient(t, "widen_extra")
	if len(c.Vectors) != 3 {
		t.Fatalf("%d vectors", len(c.Vectors))
	}
	a, b := &c.Vectors[0], &c.Vectors[1]
	if !a.Widen(wire.Long) || !b.Widen(wire.Double) {
		t.Fatal("Widen refused")
	}
	if a.Type != wire.Long || a.Int64(0) != 1 || a.Int64(1) != -2 {
		t.Fatalf("a = %+v", a)
	}
	if b.Type != wire.Double || b.Float64(0) != 1.5 || b.Float64(1) != 0.25 {
		t.Fatalf("b = %+v", b)
	}
	// Narrowing, or a change of kind, is refused and changes nothing.
	s := &c.Vectors[2]
	if s.Widen(wire.Long) || s.Type != wire.String {
		t.Fatal("STRING widened to LONG")
	}
	if a.Widen(wire.Integer) {
		t.Fatal("LONG narrowed to INTEGER")
	}
}

func TestLenientDateTruncation(t *testing.T) {
	c := decodeLenient(t, "date_not_midnight")
	v := &c.Vectors[0]
	want := []time.Time{time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)}
	for r, w := range want {
		if got := wire.DateFromMicros(v.Int64(r)); !got.Equal(w) || got.Location() != time.UTC {
			t.Fatalf("row %d: %v, want %v", r, got, w)
		}
	}
	for _, us := range []int64{-1 << 63, 1<<63 - 1, 0} {
		got := wire.DateFromMicros(us)
		if got.Hour() != 0 || got.Minute() != 0 || got.Second() != 0 || got.Nanosecond() != 0 || got.After(wire.TimeFromMicros(us, nil)) {
			t.Fatalf("%d: %v", us, got)
		}
	}
}

// TestLenientStillMalformed: what is still wrong stays an error.
func TestLenientStillMalformed(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		what string
	}{
		{"short list, a missing row not NULL", chunkOf(3, vec(6, boolList(3, false, true, false), member(3, i64List(1, 7)))), "int64Data has 1 values for 3 rows"},
		{"no data, a row not NULL", chunkOf(2, vec(7, boolList(3, true, false), nil)), "has no data"},
		{"17 bytes that are not text", chunkOf(1, vec(16, boolList(3, false), member(17, tw{}.f(tList, 1).list(tString, 1).str("12345678901234567x")))), "has 18 bytes"},
		{"text beyond 128 bits", chunkOf(1, vec(16, boolList(3, false), member(17, tw{}.f(tList, 1).list(tString, 1).str("1234567890123456789012345678901234567890")))), "bytes"},
		{"text scale beyond 1000", chunkOf(1, vec(16, boolList(3, false), member(17, tw{}.f(tList, 1).list(tString, 1).str("1E-1001")))), "scale 1001"},
		{"text and binary that do not fit one scale", chunkOf(2, vec(16, boolList(3, false, false), member(17, tw{}.f(tList, 1).list(tString, 2).str("1E-38").str(string(decBytes(mustDec(mustBig("170141183460469231731687303715884105727"))))), tw{}.f(tI32, 2).i32(0)))), "does not fit 128 bits"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c wire.Chunk
			checkDecodeError(t, wire.DecodeChunk(tc.in, &c), false, tc.what)
		})
	}
}
