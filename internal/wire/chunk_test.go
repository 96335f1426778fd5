package wire_test

import (
	"errors"
	"math"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/e6go/e6data/internal/wire"
)

// Thrift type bytes, for hand-made inputs.
const (
	tBool   = 2
	tByte   = 3
	tDouble = 4
	tI16    = 6
	tI32    = 8
	tI64    = 10
	tString = 11
	tStruct = 12
	tMap    = 13
	tSet    = 14
	tList   = 15
)

// tw is a tiny Thrift binary writer for hand-made test inputs; it shares no
// code with the package under test.
type tw []byte

func (w tw) f(t byte, id int16) tw { return append(w, t, byte(id>>8), byte(id)) }
func (w tw) u8(v byte) tw          { return append(w, v) }
func (w tw) i32(v int32) tw {
	return append(w, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}
func (w tw) i64(v int64) tw         { return w.i32(int32(v >> 32)).i32(int32(v)) }
func (w tw) str(s string) tw        { return append(w.i32(int32(len(s))), s...) }
func (w tw) list(et byte, n int) tw { return w.u8(et).i32(int32(n)) }
func (w tw) stop() tw               { return append(w, 0) }
func (w tw) raw(parts ...tw) tw {
	for _, p := range parts {
		w = append(w, p...)
	}
	return w
}

func boolList(id int16, vals ...bool) tw {
	w := tw{}.f(tList, id).list(tBool, len(vals))
	for _, v := range vals {
		if v {
			w = w.u8(1)
		} else {
			w = w.u8(0)
		}
	}
	return w
}

func i64List(id int16, vals ...int64) tw {
	w := tw{}.f(tList, id).list(tI64, len(vals))
	for _, v := range vals {
		w = w.i64(v)
	}
	return w
}

// member is a union Data holding one member struct with the given fields.
func member(id int16, fields ...tw) tw {
	return tw{}.f(tStruct, id).raw(fields...).stop().stop()
}

// vec is a Vector struct: vectorType, optional nullSet, optional data, extras.
func vec(typ int32, nulls tw, data tw, extra ...tw) tw {
	w := tw{}.f(tI32, 2).i32(typ).raw(nulls)
	if data != nil {
		w = w.f(tStruct, 4).raw(data)
	}
	return w.raw(extra...).stop()
}

func chunkOf(rows int32, vecs ...tw) []byte {
	w := tw{}.f(tI32, 1).i32(rows).f(tList, 2).list(tStruct, len(vecs)).raw(vecs...)
	return w.stop()
}

var constTrue = tw{}.f(tBool, 5).u8(1)

func TestDecodeChunkAccepts(t *testing.T) {
	longVec := vec(6, boolList(3, false, true), member(3, i64List(1, 7, 8)))
	cases := []struct {
		name  string
		in    []byte
		check func(t *testing.T, c *wire.Chunk)
	}{
		{"empty input is the end", nil, func(t *testing.T, c *wire.Chunk) { wantRows(t, c, 0, 0) }},
		{"size 0 is the end", chunkOf(0, longVec), func(t *testing.T, c *wire.Chunk) { wantRows(t, c, 0, 0) }},
		{"negative size is the end", chunkOf(-3, tw{}.stop()), func(t *testing.T, c *wire.Chunk) { wantRows(t, c, 0, 0) }},
		{"minimal vector without size, flags, zone, format", chunkOf(2, longVec), func(t *testing.T, c *wire.Chunk) {
			wantRows(t, c, 2, 1)
			v := &c.Vectors[0]
			if v.Size != 2 || v.Int64(0) != 7 || !v.IsNull(1) || v.Constant || v.ZoneOffset != "" {
				t.Fatalf("vector %+v", v)
			}
		}},
		{"vectors before size", tw{}.f(tList, 2).list(tStruct, 1).raw(longVec).f(tI32, 1).i32(2).stop(), func(t *testing.T, c *wire.Chunk) {
			wantRows(t, c, 2, 1)
			if c.Vectors[0].Int64(1) != 8 {
				t.Fatal(c.Vectors[0].Int64s)
			}
		}},
		{"unknown fields of every type are skipped", tw{}.
			f(tMap, 9).u8(tString).u8(tList).i32(1).str("k").list(tI32, 2).i32(1).i32(2).
			f(tI32, 1).i32(1).
			f(tSet, 10).list(tDouble, 2).i64(1).i64(2).
			f(tList, 2).list(tStruct, 1).raw(vec(7, boolList(3, false),
			tw{}.f(tString, 30).str("x").
				f(tStruct, 31).f(tList, 1).list(tStruct, 1).f(tI16, 1).u8(0).u8(1).stop().stop().
				f(tStruct, 7).f(tI16, 5).u8(0).u8(9).f(tList, 1).list(tString, 1).str("hi").f(tByte, 6).u8(1).stop().
				f(tI32, 99).i32(0).stop(),
			tw{}.f(tDouble, 20).i64(0).f(tString, 21).str("unknown"))).
			f(tString, 11).str("trailer").
			stop(), func(t *testing.T, c *wire.Chunk) {
			wantRows(t, c, 1, 1)
			if got := string(c.Vectors[0].BytesAt(0)); got != "hi" {
				t.Fatalf("got %q", got)
			}
		}},
		{"field of the wrong wire type is skipped", chunkOf(1, vec(6, boolList(3, false), member(3, i64List(1, 5)), tw{}.f(tI32, 5).i32(1))), func(t *testing.T, c *wire.Chunk) {
			if c.Vectors[0].Constant {
				t.Fatal("an i32 isConstantVector must be ignored")
			}
		}},
		{"DATE from int64Data, DATETIME from dateData, FLOAT from float64Data", chunkOf(1,
			vec(8, boolList(3, false), member(3, i64List(1, 86_400_000_000))),
			vec(9, boolList(3, false), member(4, i64List(1, -1))),
			vec(3, boolList(3, false), member(6, tw{}.f(tList, 1).list(tDouble, 1).i64(int64(math.Float64bits(0.5))))),
		), func(t *testing.T, c *wire.Chunk) {
			if c.Vectors[0].Int64(0) != 86_400_000_000 || c.Vectors[1].Int64(0) != -1 || c.Vectors[2].Float64(0) != 0.5 {
				t.Fatalf("%+v", c.Vectors)
			}
		}},
		{"constant vector with nullConstantData", chunkOf(3, vec(6, boolList(3, false), member(10, tw{}.f(tByte, 1).u8(0)), constTrue)), func(t *testing.T, c *wire.Chunk) {
			v := &c.Vectors[0]
			if !v.IsNull(0) || !v.IsNull(2) || v.Int64(2) != 0 {
				t.Fatalf("%+v", v)
			}
		}},
		{"NULL vector, non-constant, no data", chunkOf(2, vec(14, boolList(3, true, true), nil)), func(t *testing.T, c *wire.Chunk) {
			if !c.Vectors[0].IsNull(1) {
				t.Fatal("not null")
			}
		}},
		{"short decimals are sign-extended", chunkOf(4, vec(16, boolList(3, false, false, false, false),
			member(17, tw{}.f(tList, 1).list(tString, 4).str("\xff").str("\x7f").str("\x80\x00").str(strings.Repeat("\x00", 15)+"\x01"), tw{}.f(tI32, 2).i32(3)))),
			func(t *testing.T, c *wire.Chunk) {
				v := &c.Vectors[0]
				got := []string{v.Decimal(0).Format(v.Scale), v.Decimal(1).Format(v.Scale), v.Decimal(2).Format(v.Scale), v.Decimal(3).Format(v.Scale)}
				want := []string{"-0.001", "0.127", "-32.768", "0.001"}
				if strings.Join(got, " ") != strings.Join(want, " ") {
					t.Fatalf("got %v, want %v", got, want)
				}
			}},
		{"only the byte 1 is true", chunkOf(2, vec(1, boolList(3, false, false), member(1, tw{}.f(tList, 1).list(tBool, 2).u8(2).u8(1)))), func(t *testing.T, c *wire.Chunk) {
			if c.Vectors[0].Bool(0) || !c.Vectors[0].Bool(1) {
				t.Fatal(c.Vectors[0].Bools)
			}
		}},
		{"bytes after the chunk are ignored", append(chunkOf(2, longVec), 0xde, 0xad), func(t *testing.T, c *wire.Chunk) { wantRows(t, c, 2, 1) }},
		{"repeated data field: the last wins", chunkOf(1, vec(6, boolList(3, false), member(3, i64List(1, 1)), tw{}.f(tStruct, 4).raw(member(3, i64List(1, 2))))), func(t *testing.T, c *wire.Chunk) {
			if c.Vectors[0].Int64(0) != 2 {
				t.Fatal(c.Vectors[0].Int64s)
			}
		}},
		{"constant TIMESTAMP_TZ with zone", chunkOf(5, vec(15, boolList(3, false), member(14, tw{}.f(tI64, 1).i64(-1), tw{}.f(tString, 2).str("Europe/Paris")), constTrue)), func(t *testing.T, c *wire.Chunk) {
			v := &c.Vectors[0]
			if v.Zone(4) != "Europe/Paris" || v.Int64(3) != -1 {
				t.Fatalf("%+v", v)
			}
		}},
		{"INTEGER constant from numericConstantData", chunkOf(2, vec(5, boolList(3, false), member(11, tw{}.f(tI64, 1).i64(math.MinInt32)), constTrue)), func(t *testing.T, c *wire.Chunk) {
			if c.Vectors[0].Int32(1) != math.MinInt32 {
				t.Fatal(c.Vectors[0].Int32s)
			}
		}},
		{"nesting of 63 levels is skipped", chunkOf(1, vec(14, boolList(3, true), nil, nested(63))), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := wire.Chunk{Rows: 99, Vectors: make([]wire.Vector, 3)}
			if err := wire.DecodeChunk(tc.in, &c); err != nil {
				t.Fatalf("DecodeChunk: %v", err)
			}
			if tc.check != nil {
				tc.check(t, &c)
			}
		})
	}
}

// nested is an unknown Vector field made of depth nested structs.
func nested(depth int) tw {
	w := tw{}.f(tStruct, 40)
	for range depth - 1 {
		w = w.f(tStruct, 1)
	}
	for range depth {
		w = w.stop()
	}
	return w
}

func wantRows(t *testing.T, c *wire.Chunk, rows int32, vectors int) {
	t.Helper()
	if c.Rows != rows || len(c.Vectors) != vectors {
		t.Fatalf("Rows %d with %d vectors, want %d with %d", c.Rows, len(c.Vectors), rows, vectors)
	}
}

func TestDecodeChunkRejects(t *testing.T) {
	nulls2 := boolList(3, false, false)
	long2 := member(3, i64List(1, 1, 2))
	cases := []struct {
		name      string
		in        []byte
		truncated bool
		what      string
	}{
		{"missing size", tw{}.f(tList, 2).list(tStruct, 0).stop(), false, "Chunk.size"},
		{"size twice", tw{}.f(tI32, 1).i32(1).f(tI32, 1).i32(2).stop(), false, "appears twice"},
		{"no STOP", tw{}.f(tI32, 1).i32(1), true, "STOP"},
		{"cut field header", []byte{tI32, 0}, true, "field header"},
		{"vector list of 2^31-1 in 20 bytes", tw{}.f(tI32, 1).i32(1).f(tList, 2).list(tStruct, math.MaxInt32).raw(make(tw, 8)), true, "cannot fit"},
		{"nullSet of 2^31-1", chunkOf(1, tw{}.f(tList, 3).list(tBool, math.MaxInt32).stop()), true, "cannot fit"},
		{"negative list length", chunkOf(1, tw{}.f(tList, 3).list(tBool, -1).stop()), false, "negative list length"},
		{"nullSet of i32", chunkOf(1, vec(6, tw{}.f(tList, 3).list(tI32, 1).i32(0), long2)), false, "want list of BOOL"},
		{"vectors not structs", tw{}.f(tI32, 1).i32(1).f(tList, 2).list(tI32, 3).i32(0).i32(0).i32(0).stop(), false, "want list of STRUCT"},
		{"missing nullSet", chunkOf(2, vec(6, nil, long2)), false, "nullSet"},
		{"short nullSet", chunkOf(2, vec(6, boolList(3, false), long2)), false, "nullSet has 1 entries for 2 rows"},
		{"constant with empty nullSet", chunkOf(2, vec(6, boolList(3), member(11, tw{}.f(tI64, 1).i64(1)), constTrue)), false, "empty nullSet"},
		{"missing data", chunkOf(2, vec(6, nulls2, nil)), false, "has no data"},
		{"LONG with int32Data", chunkOf(2, vec(6, nulls2, member(2, tw{}.f(tList, 1).list(tI32, 2).i32(1).i32(2)))), false, "int32Data does not fit a non-constant LONG"},
		{"constant member on a non-constant vector", chunkOf(2, vec(6, nulls2, member(11, tw{}.f(tI64, 1).i64(1)))), false, "numericConstantData does not fit a non-constant LONG"},
		{"list member on a constant vector", chunkOf(2, vec(6, nulls2, long2, constTrue)), false, "int64Data does not fit a constant LONG"},
		{"two union members", chunkOf(2, vec(6, nulls2, tw{}.f(tStruct, 3).raw(i64List(1, 1, 2)).stop().f(tStruct, 4).raw(i64List(1, 1, 2)).stop().stop())), false, "sets 2 members"},
		{"data shorter than rows", chunkOf(3, vec(6, boolList(3, false, false, false), long2)), false, "int64Data has 2 values for 3 rows"},
		{"zoneData shorter than rows", chunkOf(2, vec(15, nulls2, member(16, i64List(1, 1, 2), tw{}.f(tList, 2).list(tString, 1).str("Z")))), false, "zoneData has 1 zones for 2 rows"},
		{"17-byte decimal", chunkOf(1, vec(16, boolList(3, false), member(17, tw{}.f(tList, 1).list(tString, 1).str(strings.Repeat("\x00", 17))))), false, "has 17 bytes"},
		{"17-byte decimal constant", chunkOf(1, vec(16, boolList(3, false), member(18, tw{}.f(tString, 1).str(strings.Repeat("\x00", 17))), constTrue)), false, "has 17 bytes"},
		{"decimal scale 1001", chunkOf(1, vec(16, boolList(3, false), member(17, tw{}.f(tList, 1).list(tString, 1).str("\x01"), tw{}.f(tI32, 2).i32(1001)))), false, "scale 1001"},
		{"INT96", chunkOf(1, vec(4, boolList(3, false), member(7, tw{}.f(tList, 1).list(tString, 1).str("123456789012")))), false, "INT96"},
		{"unknown vector type", chunkOf(1, vec(99, boolList(3, false), long2)), false, "unknown vectorType 99"},
		{"INTEGER constant out of range", chunkOf(1, vec(5, boolList(3, false), member(11, tw{}.f(tI64, 1).i64(math.MaxInt32+1)), constTrue)), false, "out of the int32 range"},
		{"constant without its value", chunkOf(1, vec(6, boolList(3, false), member(11), constTrue)), false, "has no value"},
		{"nullConstantData on a non-constant vector", chunkOf(1, vec(6, boolList(3, false), member(10, tw{}.f(tByte, 1).u8(0)))), false, "non-constant"},
		{"temporalIntervalConstantData for LONG", chunkOf(1, vec(6, boolList(3, false), member(13, tw{}.f(tByte, 1).u8(0)), constTrue)), false, "temporalIntervalConstantData does not fit"},
		{"negative string length", chunkOf(1, vec(7, boolList(3, false), member(7, tw{}.f(tList, 1).list(tString, 1).i32(-5)))), false, "negative string length"},
		{"string longer than the input", chunkOf(1, vec(7, boolList(3, false), member(7, tw{}.f(tList, 1).list(tString, 1).i32(1000).raw(make(tw, 10))))), true, "varcharData element"},
		{"nesting of 65 levels", chunkOf(1, vec(14, boolList(3, true), nil, nested(65))), false, "nested more than 64"},
		{"unknown Thrift type", chunkOf(1, vec(14, boolList(3, true), nil, tw{}.f(1, 50))), false, "unknown Thrift type 1"},
		{"skipped map of unknown types", tw{}.f(tI32, 1).i32(1).f(tMap, 9).u8(99).u8(tI32).i32(0).stop(), false, "unknown"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := wire.Chunk{Rows: 7, Vectors: make([]wire.Vector, 2)}
			err := wire.DecodeChunk(tc.in, &c)
			checkDecodeError(t, err, tc.truncated, tc.what)
			if c.Rows != 0 || len(c.Vectors) != 0 {
				t.Fatalf("after an error: Rows %d, %d vectors", c.Rows, len(c.Vectors))
			}
		})
	}
}

func checkDecodeError(t *testing.T, err error, truncated bool, what string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	var de *wire.DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("%T is not a *DecodeError: %v", err, err)
	}
	if !errors.Is(err, wire.ErrMalformed) {
		t.Fatalf("errors.Is(%v, ErrMalformed) is false", err)
	}
	if errors.Is(err, wire.ErrTruncated) != truncated || de.Truncated != truncated {
		t.Fatalf("truncated = %v, want %v: %v", de.Truncated, truncated, err)
	}
	if !strings.Contains(de.What, what) {
		t.Fatalf("error %q does not say %q", err, what)
	}
	if de.Offset < 0 {
		t.Fatalf("negative offset in %v", err)
	}
}

// TestDecodeChunkEveryPrefixFails: cutting a valid batch anywhere yields a
// truncation error, never a panic or a silently shorter result.
func TestDecodeChunkEveryPrefixFails(t *testing.T) {
	names := []string{"worked_chunk"}
	for _, g := range goldenChunks {
		names = append(names, g.name)
	}
	var c wire.Chunk
	for _, name := range names {
		file, err := os.ReadFile(goldenPath(name))
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(file); i++ {
			err := wire.DecodeChunk(file[:i], &c)
			if err == nil {
				t.Fatalf("%s cut to %d of %d bytes decoded without error", name, i, len(file))
			}
			if !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("%s cut to %d: %v", name, i, err)
			}
		}
	}
}

// TestDecodeRejectsBeforeAllocating: declared lengths far beyond the input
// are refused without allocating for them.
func TestDecodeRejectsBeforeAllocating(t *testing.T) {
	inputs := map[string][]byte{
		"vectors":  tw{}.f(tI32, 1).i32(1).f(tList, 2).list(tStruct, math.MaxInt32).raw(make(tw, 8)),
		"nullSet":  chunkOf(1, tw{}.f(tList, 3).list(tBool, math.MaxInt32)),
		"int64s":   chunkOf(1, tw{}.f(tStruct, 4).f(tStruct, 3).f(tList, 1).list(tI64, 1<<28)),
		"strings":  chunkOf(1, tw{}.f(tStruct, 4).f(tStruct, 7).f(tList, 1).list(tString, 1<<30)),
		"decimals": chunkOf(1, tw{}.f(tStruct, 4).f(tStruct, 17).f(tList, 1).list(tString, 1<<30)),
		"zones":    chunkOf(1, tw{}.f(tStruct, 4).f(tStruct, 16).f(tList, 2).list(tString, 1<<30)),
		"skipped":  tw{}.f(tI32, 1).i32(1).f(tList, 9).list(tList, math.MaxInt32),
		"metadata": tw{}.i64(1).i32(math.MaxInt32).raw(make(tw, 8)),
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var c wire.Chunk
			for range 10 {
				var err error
				if name == "metadata" {
					_, err = wire.DecodeMetadata(in)
				} else {
					err = wire.DecodeChunk(in, &c)
				}
				if !errors.Is(err, wire.ErrTruncated) {
					t.Fatalf("want a truncation error, got %v", err)
				}
			}
			runtime.ReadMemStats(&after)
			if got := after.TotalAlloc - before.TotalAlloc; got > 64<<10 {
				t.Fatalf("10 rejected decodes allocated %d bytes", got)
			}
		})
	}
}

// TestDecodeChunkReuse: decoding into the same Chunk reuses its storage:
// the second decode of a batch allocates nothing, and values from an
// earlier, different batch do not leak into a later one.
func TestDecodeChunkReuse(t *testing.T) {
	big := benchChunk(1000)
	big.Vectors = append(big.Vectors,
		wire.Vector{Type: wire.TimestampTZ, Nulls: make([]bool, 1000), Int64s: make([]int64, 1000), Zones: repeat("Asia/Kolkata", 1000)},
		wire.Vector{Type: wire.Decimal128, Nulls: make([]bool, 1000), Decimals: make([]wire.Dec128, 1000), Scale: 3})
	bigBytes, err := wire.AppendChunk(nil, big)
	if err != nil {
		t.Fatal(err)
	}
	var c wire.Chunk
	if err := wire.DecodeChunk(bigBytes, &c); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(20, func() {
		if err := wire.DecodeChunk(bigBytes, &c); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("re-decoding into the same Chunk: %v allocations, want 0", allocs)
	}
	// Now a smaller batch with other types in the same positions.
	small := &wire.Chunk{Rows: 1, Vectors: []wire.Vector{
		{Type: wire.String, Nulls: []bool{false}, Bytes: [][]byte{b("s")}},
		{Type: wire.TimestampTZ, Nulls: []bool{false}, Int64s: []int64{5}},
	}}
	smallBytes, err := wire.AppendChunk(nil, small)
	if err != nil {
		t.Fatal(err)
	}
	if err := wire.DecodeChunk(smallBytes, &c); err != nil {
		t.Fatal(err)
	}
	if d := chunkDiff(small, &c); d != "" {
		t.Fatal(d)
	}
	v := &c.Vectors[0]
	if len(v.Int64s) != 0 || len(v.Float64s) != 0 || v.Zones != nil || len(v.Bytes) != 1 {
		t.Fatalf("stale values left in a reused vector: %d int64s, %d float64s, zones %v", len(v.Int64s), len(v.Float64s), v.Zones)
	}
	if c.Vectors[1].Zones != nil {
		t.Fatal("zones of an earlier batch survived")
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestDecodeChunkAliases: variable-length values point into the input,
// with capacity cut so that an append cannot clobber the next value.
func TestDecodeChunkAliases(t *testing.T) {
	in := unhex(t, workedChunk)
	var c wire.Chunk
	if err := wire.DecodeChunk(in, &c); err != nil {
		t.Fatal(err)
	}
	ab := c.Vectors[1].BytesAt(0)
	if cap(ab) != len(ab) {
		t.Fatalf("cap %d, len %d", cap(ab), len(ab))
	}
	i := strings.Index(string(in), "ab")
	in[i] = 'X'
	if string(c.Vectors[1].BytesAt(0)) != "Xb" {
		t.Fatalf("value does not alias the input: %q", c.Vectors[1].BytesAt(0))
	}
}

func TestAppendChunkRejects(t *testing.T) {
	cases := []struct {
		name string
		c    *wire.Chunk
		what string
	}{
		{"nil", nil, "nil chunk"},
		{"negative rows", &wire.Chunk{Rows: -1}, "negative rows"},
		{"short nulls", &wire.Chunk{Rows: 2, Vectors: []wire.Vector{{Type: wire.Long, Nulls: []bool{false}, Int64s: []int64{1, 2}}}}, "1 Nulls for 2 rows"},
		{"short values", &wire.Chunk{Rows: 2, Vectors: []wire.Vector{{Type: wire.Long, Nulls: []bool{false, false}, Int64s: []int64{1}}}}, "1 values for 2 rows"},
		{"constant without nulls", &wire.Chunk{Rows: 2, Vectors: []wire.Vector{{Type: wire.Long, Constant: true, Int64s: []int64{1}}}}, "Nulls[0]"},
		{"constant non-null without value", &wire.Chunk{Rows: 2, Vectors: []wire.Vector{{Type: wire.Long, Constant: true, Nulls: []bool{false}}}}, "0 values for 1 rows"},
		{"INT96", &wire.Chunk{Rows: 1, Vectors: []wire.Vector{{Type: wire.Int96, Nulls: []bool{true}}}}, "cannot be encoded"},
		{"unknown type", &wire.Chunk{Rows: 1, Vectors: []wire.Vector{{Type: 42, Nulls: []bool{true}}}}, "cannot be encoded"},
		{"zones on LONG", &wire.Chunk{Rows: 1, Vectors: []wire.Vector{{Type: wire.Long, Nulls: []bool{false}, Int64s: []int64{1}, Zones: []string{"Z"}}}}, "Zones"},
		{"short zones", &wire.Chunk{Rows: 2, Vectors: []wire.Vector{{Type: wire.TimestampTZ, Nulls: []bool{false, false}, Int64s: []int64{1, 2}, Zones: []string{"Z"}}}}, "1 Zones for 2 rows"},
		{"decimal scale", &wire.Chunk{Rows: 1, Vectors: []wire.Vector{{Type: wire.Decimal128, Nulls: []bool{false}, Decimals: []wire.Dec128{{}}, Scale: -1001}}}, "scale -1001"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("keep")
			out, err := wire.AppendChunk(dst, tc.c)
			if !errors.Is(err, wire.ErrInvalid) || !strings.Contains(err.Error(), tc.what) {
				t.Fatalf("err = %v, want ErrInvalid saying %q", err, tc.what)
			}
			if string(out) != "keep" {
				t.Fatalf("dst changed to %q", out)
			}
		})
	}
}

// TestAppendChunkEncodingChoices pins choices the package documents.
func TestAppendChunkEncodingChoices(t *testing.T) {
	var c wire.Chunk
	roundTrip := func(in *wire.Chunk) *wire.Chunk {
		t.Helper()
		out, err := wire.AppendChunk(nil, in)
		if err != nil {
			t.Fatal(err)
		}
		if err := wire.DecodeChunk(out, &c); err != nil {
			t.Fatal(err)
		}
		return &c
	}
	// A NULL vector is a constant with nullSet [true], whatever it says.
	got := roundTrip(&wire.Chunk{Rows: 3, Vectors: []wire.Vector{{Type: wire.Null, Nulls: []bool{false, false, false}}}})
	if v := got.Vectors[0]; !v.Constant || len(v.Nulls) != 1 || !v.Nulls[0] || v.Size != 3 {
		t.Fatalf("NULL vector decoded as %+v", v)
	}
	// A constant NULL may omit its value; the zero value is sent.
	got = roundTrip(&wire.Chunk{Rows: 2, Vectors: []wire.Vector{{Type: wire.String, Constant: true, Nulls: []bool{true}}}})
	if v := got.Vectors[0]; !v.IsNull(1) || len(v.BytesAt(1)) != 0 {
		t.Fatalf("constant NULL decoded as %+v", v)
	}
	// Size is raised to the rows; only Rows values are written.
	got = roundTrip(&wire.Chunk{Rows: 1, Vectors: []wire.Vector{{Type: wire.Long, Size: 0, Nulls: []bool{false, true}, Int64s: []int64{9, 10}}}})
	if v := got.Vectors[0]; v.Size != 1 || len(v.Int64s) != 1 || len(v.Nulls) != 1 {
		t.Fatalf("decoded as %+v", v)
	}
	// Rows 0 encodes the end-of-results chunk.
	got = roundTrip(&wire.Chunk{Rows: 0, Vectors: []wire.Vector{{Type: wire.Long}}})
	if got.Rows != 0 || len(got.Vectors) != 0 {
		t.Fatalf("%+v", got)
	}
}

// TestAppendChunkNoPerValueAllocation: with room in dst, encoding allocates
// nothing at all.
func TestAppendChunkNoPerValueAllocation(t *testing.T) {
	c := benchChunk(2000)
	dst, err := wire.AppendChunk(nil, c)
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(20, func() {
		if dst, err = wire.AppendChunk(dst[:0], c); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations", allocs)
	}
	// Appending to nil grows once.
	allocs = testing.AllocsPerRun(20, func() {
		if _, err = wire.AppendChunk(nil, c); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 1 {
		t.Fatalf("%v allocations into a nil dst, want 1", allocs)
	}
}

func TestAccessorsConstant(t *testing.T) {
	v := wire.Vector{Type: wire.Decimal128, Constant: true, Nulls: []bool{false}, Decimals: []wire.Dec128{wire.Dec128FromInt64(-5)}, Scale: 1, Zones: nil}
	for row := range 1000 {
		if v.IsNull(row) || v.Decimal(row).Format(v.Scale) != "-0.5" || v.Zone(row) != "" {
			t.Fatalf("row %d", row)
		}
	}
	n := wire.Vector{Type: wire.Null}
	if !n.IsNull(5) {
		t.Fatal("NULL-type vector row not null")
	}
	s := wire.Vector{Type: wire.TimestampTZ, Nulls: []bool{false, true}, Int64s: []int64{1, 2}, Zones: []string{"Z", "+01:00"}}
	if s.IsNull(0) || !s.IsNull(1) || s.Zone(1) != "+01:00" || s.Int64(1) != 2 {
		t.Fatal("non-constant accessors")
	}
	if !wire.IsEnd(nil) || !wire.IsEnd([]byte{}) || wire.IsEnd([]byte{0}) {
		t.Fatal("IsEnd")
	}
}

// TestDecodeDeclaredLength2Pow31: a list length of 2^31 (negative as a
// Thrift i32) or 2^31-1 in 20 bytes of input is refused by both decoders
// with a *DecodeError, allocating kilobytes, not gigabytes.
func TestDecodeDeclaredLength2Pow31(t *testing.T) {
	for _, n := range []uint32{1 << 31, 1<<31 - 1, 0xffffffff} {
		inputs := map[string][]byte{
			"chunk":    tw{}.f(tI32, 1).i32(1).f(tList, 2).u8(tStruct).i32(int32(n)).raw(make(tw, 5)),
			"metadata": tw{}.i64(1).i32(int32(n)).raw(make(tw, 8)),
		}
		for name, in := range inputs {
			if len(in) != 20 {
				t.Fatalf("%s: %d bytes, want 20", name, len(in))
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var err error
			if name == "metadata" {
				_, err = wire.DecodeMetadata(in)
			} else {
				var c wire.Chunk
				err = wire.DecodeChunk(in, &c)
			}
			runtime.ReadMemStats(&after)
			var de *wire.DecodeError
			if !errors.As(err, &de) || !errors.Is(err, wire.ErrMalformed) {
				t.Errorf("%s, length %#x: error %v (%T), want a *DecodeError", name, n, err, err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 64<<10 {
				t.Errorf("%s, length %#x: the rejected decode allocated %d bytes", name, n, got)
			}
		}
	}
}
