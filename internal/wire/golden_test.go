package wire_test

import (
	"encoding/hex"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/e6go/e6data/internal/wire"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ (and their fuzz seeds)")

func b(s string) []byte { return []byte(s) }

func nulls(n int, at ...int) []bool {
	out := make([]bool, n)
	for _, i := range at {
		out[i] = true
	}
	return out
}

func dec(s string) wire.Dec128 { return mustDec(mustBig(s)) }

// goldenMetadata are the resultMetaData fixtures.
var goldenMetadata = []struct {
	name string
	m    wire.Metadata
}{
	{"metadata_basic", wire.Metadata{RowCount: 1234, Fields: []wire.Field{
		{Name: "id", Type: "LONG"},
		{Name: "name", Type: "STRING"},
		{Name: "price", Type: "DECIMAL128"},
		{Name: "ratio", Type: "DOUBLE"},
		{Name: "day", Type: "DATE", Format: "yyyy-MM-dd"},
		{Name: "at", Type: "DATETIME"},
		{Name: "at_tz", Type: "TIMESTAMP_TZ", Zone: "Asia/Kolkata"},
		{Name: "ok", Type: "BOOLEAN"},
		{Name: "tags", Type: "ARRAY"},
	}}},
	{"metadata_unicode", wire.Metadata{RowCount: -1, Fields: []wire.Field{
		{Name: "prénom", Type: "STRING", Zone: "", Format: ""},
		{Name: "日付", Type: "DATE", Zone: "+05:30", Format: "yyyy年MM月dd日"},
		{Name: "nul\x00byte 🎉", Type: "BINARY"},
	}}},
	{"metadata_empty", wire.Metadata{RowCount: 0, Fields: []wire.Field{}}},
}

// goldenChunks are the resultBatch fixtures, one per group of types.
var goldenChunks = []struct {
	name string
	c    wire.Chunk
}{
	{"chunk_long_string", wire.Chunk{Rows: 3, Vectors: []wire.Vector{
		{Type: wire.Long, Size: 3, Nulls: nulls(3, 1), Int64s: []int64{42, 0, math.MinInt64}},
		{Type: wire.String, Size: 3, Nulls: nulls(3, 2), Bytes: [][]byte{b("héllo"), b(""), nil}},
	}}},
	{"chunk_numeric", wire.Chunk{Rows: 4, Vectors: []wire.Vector{
		{Type: wire.Boolean, Size: 4, Nulls: nulls(4, 3), Bools: []bool{true, false, true, false}},
		{Type: wire.Integer, Size: 4, Nulls: nulls(4), Int32s: []int32{math.MinInt32, -1, 0, math.MaxInt32}},
		{Type: wire.Long, Size: 4, Nulls: nulls(4, 0), Int64s: []int64{0, math.MaxInt64, -7, 1 << 40}},
		{Type: wire.Double, Size: 4, Nulls: nulls(4), Float64s: []float64{3.25, math.Inf(-1), math.Copysign(0, -1), 1e-300}},
		{Type: wire.Float, Size: 4, Nulls: nulls(4, 2), Float64s: []float64{1.5, float64(float32(0.1)), 0, math.MaxFloat32}},
	}}},
	{"chunk_text", wire.Chunk{Rows: 2, Vectors: []wire.Vector{
		{Type: wire.String, Size: 2, Nulls: nulls(2), Bytes: [][]byte{b("日本語"), b("emoji 🎉")}},
		{Type: wire.Binary, Size: 2, Nulls: nulls(2), Bytes: [][]byte{{0xff, 0xfe, 0x00, 0xc0, 0x80}, {}}},
		{Type: wire.Array, Size: 2, Nulls: nulls(2, 1), Bytes: [][]byte{b("[1,2,3]"), b("")}},
		{Type: wire.Map, Size: 2, Nulls: nulls(2), Bytes: [][]byte{b(`{"a":1}`), b("{}")}},
		{Type: wire.Struct, Size: 2, Nulls: nulls(2), Bytes: [][]byte{b(`{"x":1,"y":"z"}`), b(`{"x":null}`)}},
	}}},
	{"chunk_temporal", wire.Chunk{Rows: 3, Vectors: []wire.Vector{
		// 1969-12-31, 2024-02-29, 1900-01-01 as UTC midnights in µs.
		{Type: wire.Date, Size: 3, Nulls: nulls(3), Int64s: []int64{-86_400_000_000, 1_709_164_800_000_000, -2_208_988_800_000_000}},
		// 1969-12-31T23:59:59.999999Z, 2024-02-29T12:34:56.789012Z, epoch.
		{Type: wire.DateTime, Size: 3, Nulls: nulls(3, 2), Int64s: []int64{-1, 1_709_210_096_789_012, 0}},
		{Type: wire.Timestamp, Size: 5, Nulls: nulls(3), Int64s: []int64{-1_500_000, 1, 999_999}},
	}}},
	{"chunk_timestamp_tz", wire.Chunk{Rows: 4, Vectors: []wire.Vector{
		{Type: wire.TimestampTZ, Size: 4, Nulls: nulls(4, 3), Int64s: []int64{1_709_210_096_789_012, -123_456_789, 0, 0},
			Zones: []string{"Asia/Kolkata", "-08:00", "Z", "America/New_York"}},
		{Type: wire.TimestampTZ, Size: 4, Nulls: nulls(4), Int64s: []int64{1, 2, 3, 4}}, // no zoneData: UTC
		{Type: wire.TimestampTZ, Size: 4, Constant: true, Nulls: []bool{false}, Int64s: []int64{-62_135_596_800_000_000},
			Zones: []string{"+05:30"}},
	}}},
	{"chunk_decimal128", wire.Chunk{Rows: 5, Vectors: []wire.Vector{
		{Type: wire.Decimal128, Size: 5, Scale: 10, Nulls: nulls(5, 4), Decimals: []wire.Dec128{
			dec("99999999999999999999999999999999999999"), dec("-99999999999999999999999999999999999999"),
			dec("-12345"), dec("0"), dec("0")}},
		{Type: wire.Decimal128, Size: 5, Scale: 0, Nulls: nulls(5), Decimals: []wire.Dec128{
			{Hi: math.MinInt64}, {Hi: math.MaxInt64, Lo: math.MaxUint64}, dec("1"), dec("-1"), dec("18446744073709551616")}},
		{Type: wire.Decimal128, Size: 5, Scale: 38, Constant: true, Nulls: []bool{false}, Decimals: []wire.Dec128{dec("-31415926535897932384626433832795028841")}},
	}}},
	{"chunk_constant", wire.Chunk{Rows: 3, Vectors: []wire.Vector{
		{Type: wire.Boolean, Size: 3, Constant: true, Nulls: []bool{false}, Bools: []bool{true}},
		{Type: wire.Integer, Size: 3, Constant: true, Nulls: []bool{false}, Int32s: []int32{-5}},
		{Type: wire.Long, Size: 3, Constant: true, Nulls: []bool{false}, Int64s: []int64{1 << 62}},
		{Type: wire.Double, Size: 3, Constant: true, Nulls: []bool{false}, Float64s: []float64{-2.5}},
		{Type: wire.Float, Size: 3, Constant: true, Nulls: []bool{false}, Float64s: []float64{0.5}},
		{Type: wire.String, Size: 3, Constant: true, Nulls: []bool{false}, Bytes: [][]byte{b("same")}},
		{Type: wire.Date, Size: 3, Constant: true, Nulls: []bool{false}, Int64s: []int64{0}},
		{Type: wire.DateTime, Size: 3, Constant: true, Nulls: []bool{false}, Int64s: []int64{-1}},
		{Type: wire.Long, Size: 3, Constant: true, Nulls: []bool{true}, Int64s: []int64{0}}, // constant NULL
	}}},
	{"chunk_nulls", wire.Chunk{Rows: 2, Vectors: []wire.Vector{
		{Type: wire.Null, Size: 2, Constant: true, Nulls: []bool{true}},
		{Type: wire.Long, Size: 2, Nulls: nulls(2, 0, 1), Int64s: []int64{0, 0}},
		{Type: wire.String, Size: 2, Nulls: nulls(2, 0, 1), Bytes: [][]byte{nil, nil}},
		{Type: wire.Decimal128, Size: 2, Nulls: nulls(2, 0, 1), Decimals: make([]wire.Dec128, 2), Scale: 2},
	}}},
	{"chunk_end", wire.Chunk{Rows: 0, Vectors: []wire.Vector{}}},
}

func goldenPath(name string) string { return filepath.Join("testdata", name+".bin") }

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte, fuzzTarget string) {
	t.Helper()
	path := goldenPath(name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		writeSeed(t, fuzzTarget, "golden_"+name, got)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Fatalf("%s: encoding differs from the golden file at byte %d\nwant %s\ngot  %s", name, firstDiff(want, got), hex.EncodeToString(want), hex.EncodeToString(got))
	}
}

// writeSeed writes b as a seed corpus entry of a fuzz target.
func writeSeed(t *testing.T, target, name string, b []byte) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestGoldenMetadata(t *testing.T) {
	for _, tc := range goldenMetadata {
		t.Run(tc.name, func(t *testing.T) {
			got, err := wire.AppendMetadata(nil, &tc.m)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tc.name, got, "FuzzDecodeMetadata")
			file, err := os.ReadFile(goldenPath(tc.name))
			if err != nil {
				t.Fatal(err)
			}
			m, err := wire.DecodeMetadata(file)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, &tc.m) {
				t.Fatalf("decoded %+v, want %+v", m, tc.m)
			}
		})
	}
}

func TestGoldenChunks(t *testing.T) {
	for _, tc := range goldenChunks {
		t.Run(tc.name, func(t *testing.T) {
			got, err := wire.AppendChunk(nil, &tc.c)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tc.name, got, "FuzzDecodeChunk")
			file, err := os.ReadFile(goldenPath(tc.name))
			if err != nil {
				t.Fatal(err)
			}
			var c wire.Chunk
			if err := wire.DecodeChunk(file, &c); err != nil {
				t.Fatal(err)
			}
			if d := chunkDiff(&tc.c, &c); d != "" {
				t.Fatal(d)
			}
			// The generated Thrift code reads every golden file too: see
			// TestThriftReadsGoldenChunks in internal/wire/thriftref.
		})
	}
}

// TestGoldenValues pins the human-meaningful values of some fixtures, so that
// a wrong conversion cannot hide behind a symmetric encoder and decoder.
func TestGoldenValues(t *testing.T) {
	read := func(name string) *wire.Chunk {
		t.Helper()
		file, err := os.ReadFile(goldenPath(name))
		if err != nil {
			t.Fatal(err)
		}
		var c wire.Chunk
		if err := wire.DecodeChunk(file, &c); err != nil {
			t.Fatal(err)
		}
		return &c
	}
	dc := read("chunk_decimal128")
	tz := read("chunk_timestamp_tz")
	tm := read("chunk_temporal")
	cases := []struct {
		name, got, want string
	}{
		{"decimal +max", dc.Vectors[0].Decimal(0).Format(dc.Vectors[0].Scale), "9999999999999999999999999999.9999999999"},
		{"decimal -max", dc.Vectors[0].Decimal(1).Format(dc.Vectors[0].Scale), "-9999999999999999999999999999.9999999999"},
		{"decimal small", dc.Vectors[0].Decimal(2).Format(dc.Vectors[0].Scale), "-0.0000012345"},
		{"decimal -2^127", dc.Vectors[1].Decimal(0).Format(0), "-170141183460469231731687303715884105728"},
		{"decimal 2^127-1", dc.Vectors[1].Decimal(1).Format(0), "170141183460469231731687303715884105727"},
		{"decimal constant", dc.Vectors[2].Decimal(4).Format(dc.Vectors[2].Scale), "-0.31415926535897932384626433832795028841"},
		{"date before 1970", wire.TimeFromMicros(tm.Vectors[0].Int64(0), nil).Format("2006-01-02"), "1969-12-31"},
		{"datetime -1µs", wire.TimeFromMicros(tm.Vectors[1].Int64(0), nil).Format("2006-01-02T15:04:05.000000Z07:00"), "1969-12-31T23:59:59.999999Z"},
		{"datetime µs", wire.TimeFromMicros(tm.Vectors[1].Int64(1), nil).Format("2006-01-02T15:04:05.000000Z07:00"), "2024-02-29T12:34:56.789012Z"},
		{"tz IANA", zoned(t, tz, 0, 0), "2024-02-29T18:04:56.789012+05:30"},
		{"tz offset", zoned(t, tz, 0, 1), "1969-12-31T15:57:56.543211-08:00"},
		{"tz Z", zoned(t, tz, 0, 2), "1970-01-01T00:00:00.000000Z"},
		{"tz absent", zoned(t, tz, 1, 0), "1970-01-01T00:00:00.000001Z"},
		{"tz constant", zoned(t, tz, 2, 3), "0001-01-01T05:30:00.000000+05:30"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, c.got, c.want)
		}
	}
}

func zoned(t *testing.T, c *wire.Chunk, col, row int) string {
	t.Helper()
	v := &c.Vectors[col]
	loc, err := wire.Location(v.Zone(row))
	if err != nil {
		t.Fatal(err)
	}
	return wire.TimeFromMicros(v.Int64(row), loc).Format("2006-01-02T15:04:05.000000Z07:00")
}

// unhex reads annotated hex: "--" starts a comment to the end of the line;
// spaces and newlines are ignored.
func unhex(t *testing.T, s string) []byte {
	t.Helper()
	out, err := parseHex(s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func parseHex(s string) ([]byte, error) {
	var clean strings.Builder
	for line := range strings.SplitSeq(s, "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		clean.WriteString(strings.Join(strings.Fields(line), ""))
	}
	return hex.DecodeString(clean.String())
}

// workedMetadata is a resultMetaData with two fields, written byte by byte
// from docs/protocol.md §7.
const workedMetadata = `
00 00 00 00 00 00 00 02   -- int64 rowCount = 2
00 00 00 02               -- int32 fieldCount = 2
00 02 69 64               -- field 0 name: utf length 2, "id"
00 04 4C 4F 4E 47         --         type: "LONG"
00 00                     --         zone: ""
00 00                     --         format: ""
00 04 6E 61 6D 65         -- field 1 name: "name"
00 06 53 54 52 49 4E 47   --         type: "STRING"
00 01 5A                  --         zone: "Z"
00 04 74 65 78 74         --         format: "text"
`

// workedChunk is a Chunk of 2 rows, a LONG column (42, NULL) and a STRING
// column ("ab", ""), written byte by byte from docs/protocol.md §8 in Thrift
// TBinaryProtocol: a field is its type byte (08 i32, 0A i64, 0B string,
// 0C struct, 0F list, 02 bool), its i16 id, then the value; a struct ends
// with 00; a list is its element type byte and an i32 count.
const workedChunk = `
08 00 01  00 00 00 02               -- Chunk.size (i32, field 1) = 2
0F 00 02  0C 00 00 00 02            -- Chunk.vectors (list, field 2): 2 structs
  08 00 01  00 00 00 02             -- Vector.size = 2
  08 00 02  00 00 00 06             -- Vector.vectorType = LONG (6)
  0F 00 03  02 00 00 00 02  00 01   -- Vector.nullSet: list<bool> [false, true]
  0C 00 04                          -- Vector.data (struct, field 4): union Data
    0C 00 03                        --   member 3 int64Data (struct)
      0F 00 01  0A 00 00 00 02      --     field 1: list<i64>, 2 values
        00 00 00 00 00 00 00 2A     --       42
        00 00 00 00 00 00 00 00     --       0 (the NULL row keeps its slot)
      00                            --     end of int64Data
    00                              --   end of Data
  02 00 05  00                      -- Vector.isConstantVector = false
  0B 00 06  00 00 00 00             -- Vector.zoneOffset = ""
  0B 00 07  00 00 00 00             -- Vector.format = ""
  00                                -- end of Vector 0
  08 00 01  00 00 00 02             -- Vector.size = 2
  08 00 02  00 00 00 07             -- Vector.vectorType = STRING (7)
  0F 00 03  02 00 00 00 02  00 00   -- Vector.nullSet: [false, false]
  0C 00 04                          -- Vector.data
    0C 00 07                        --   member 7 varcharData
      0F 00 01  0B 00 00 00 02      --     field 1: list<string>, 2 values
        00 00 00 02  61 62          --       "ab"
        00 00 00 00                 --       ""
      00                            --     end of varcharData
    00                              --   end of Data
  02 00 05  00                      -- Vector.isConstantVector = false
  0B 00 06  00 00 00 00             -- Vector.zoneOffset = ""
  0B 00 07  00 00 00 00             -- Vector.format = ""
  00                                -- end of Vector 1
00                                  -- end of Chunk
`

var workedMetadataValue = wire.Metadata{RowCount: 2, Fields: []wire.Field{
	{Name: "id", Type: "LONG"},
	{Name: "name", Type: "STRING", Zone: "Z", Format: "text"},
}}

var workedChunkValue = wire.Chunk{Rows: 2, Vectors: []wire.Vector{
	{Type: wire.Long, Size: 2, Nulls: []bool{false, true}, Int64s: []int64{42, 0}},
	{Type: wire.String, Size: 2, Nulls: []bool{false, false}, Bytes: [][]byte{b("ab"), b("")}},
}}

func TestWorkedExamples(t *testing.T) {
	t.Run("metadata", func(t *testing.T) {
		want := unhex(t, workedMetadata)
		got, err := wire.AppendMetadata(nil, &workedMetadataValue)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("AppendMetadata\ngot  %x\nwant %x", got, want)
		}
		m, err := wire.DecodeMetadata(want)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(m, &workedMetadataValue) {
			t.Fatalf("DecodeMetadata = %+v", m)
		}
		checkGolden(t, "worked_metadata", want, "FuzzDecodeMetadata")
	})
	t.Run("chunk", func(t *testing.T) {
		want := unhex(t, workedChunk)
		got, err := wire.AppendChunk(nil, &workedChunkValue)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("AppendChunk differs at byte %d\ngot  %x\nwant %x", firstDiff(got, want), got, want)
		}
		var c wire.Chunk
		if err := wire.DecodeChunk(want, &c); err != nil {
			t.Fatal(err)
		}
		if d := chunkDiff(&workedChunkValue, &c); d != "" {
			t.Fatal(d)
		}
		if c.Vectors[0].Int64(0) != 42 || !c.Vectors[0].IsNull(1) || string(c.Vectors[1].BytesAt(0)) != "ab" {
			t.Fatalf("decoded values: %+v", c.Vectors)
		}
		checkGolden(t, "worked_chunk", want, "FuzzDecodeChunk")
	})
}
