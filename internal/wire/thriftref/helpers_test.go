package thriftref_test

// The random chunk generator (gen) and chunkDiff are copies of those in
// internal/wire/helpers_test.go: test code cannot be shared across
// modules, and this module exists so that Apache Thrift, which only these
// tests need, is never a requirement of the driver's module. Keep the two
// in step when a vector type is added.

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/e6go/e6data/internal/wire"
	"github.com/e6go/e6data/internal/wire/thriftref"
)

// allTypes lists every type that can be carried (INT96 cannot).
var allTypes = []wire.VectorType{
	wire.Binary, wire.Boolean, wire.Double, wire.Float, wire.Integer, wire.Long, wire.String,
	wire.Date, wire.DateTime, wire.Timestamp, wire.Struct, wire.Map, wire.Array, wire.Null,
	wire.TimestampTZ, wire.Decimal128,
}

var (
	max38 = mustBig("99999999999999999999999999999999999999") // 10^38-1
	min38 = new(big.Int).Neg(max38)
)

func mustBig(s string) *big.Int {
	x, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return x
}

func mustDec(x *big.Int) wire.Dec128 {
	d, err := wire.Dec128FromBig(x)
	if err != nil {
		panic(err)
	}
	return d
}

var sampleZones = []string{"Z", "+05:30", "-08:00", "+0000", "America/New_York", "Asia/Kolkata", "Europe/Berlin", "UTC"}

var sampleText = []string{"", "a", "héllo wörld", "日本語のテキスト", "emoji 🎉🚀", "tab\tnew\nline", `{"k":[1,2]}`, strings.Repeat("x", 300)}

// gen makes random chunks from a fixed seed.
type gen struct{ r *rand.Rand }

func newGen(seed uint64) *gen { return &gen{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} }

func (g *gen) int64() int64 {
	switch g.r.IntN(8) {
	case 0:
		return math.MinInt64
	case 1:
		return math.MaxInt64
	case 2:
		return 0
	case 3:
		return -1
	case 4:
		return -g.r.Int64N(1 << 50) // before 1970, not at a whole second
	}
	return int64(g.r.Uint64())
}

func (g *gen) float64() float64 {
	switch g.r.IntN(10) {
	case 0:
		return math.NaN()
	case 1:
		return math.Inf(1)
	case 2:
		return math.Inf(-1)
	case 3:
		return math.Copysign(0, -1)
	case 4:
		return math.SmallestNonzeroFloat64
	}
	return g.r.NormFloat64() * math.Pow(10, float64(g.r.IntN(40)-20))
}

func (g *gen) bytes(t wire.VectorType) []byte {
	if t == wire.Binary && g.r.IntN(2) == 0 {
		b := make([]byte, g.r.IntN(20))
		for i := range b {
			b[i] = byte(g.r.Uint32())
		}
		if len(b) > 0 {
			b[0] = 0xff // never valid UTF-8
		}
		return b
	}
	return []byte(sampleText[g.r.IntN(len(sampleText))])
}

func (g *gen) dec() wire.Dec128 {
	switch g.r.IntN(7) {
	case 0:
		return mustDec(max38)
	case 1:
		return mustDec(min38)
	case 2:
		return wire.Dec128{Hi: math.MinInt64} // -2^127
	case 3:
		return wire.Dec128{Hi: math.MaxInt64, Lo: math.MaxUint64} // 2^127-1
	case 4:
		return wire.Dec128FromInt64(g.r.Int64N(2000) - 1000)
	}
	return wire.Dec128{Hi: int64(g.r.Uint64()), Lo: g.r.Uint64()}
}

// vector makes a random vector of type t for rows rows.
func (g *gen) vector(t wire.VectorType, rows int) wire.Vector {
	v := wire.Vector{Type: t, Size: int32(rows + g.r.IntN(3))}
	if g.r.IntN(3) == 0 {
		v.ZoneOffset = sampleZones[g.r.IntN(len(sampleZones))]
	}
	if g.r.IntN(3) == 0 {
		v.Format = "yyyy-MM-dd"
	}
	if t == wire.Null {
		v.Constant = true
		v.Nulls = []bool{true}
		return v
	}
	n := rows
	if g.r.IntN(4) == 0 {
		v.Constant, n = true, 1
	}
	v.Nulls = make([]bool, n)
	for i := range v.Nulls {
		v.Nulls[i] = g.r.IntN(5) == 0
	}
	switch t {
	case wire.Boolean:
		v.Bools = make([]bool, n)
		for i := range n {
			v.Bools[i] = g.r.IntN(2) == 0
		}
	case wire.Integer:
		v.Int32s = make([]int32, n)
		for i := range n {
			v.Int32s[i] = int32(g.int64())
		}
	case wire.Long, wire.Date, wire.DateTime, wire.Timestamp, wire.TimestampTZ:
		v.Int64s = make([]int64, n)
		for i := range n {
			v.Int64s[i] = g.int64()
		}
		if t == wire.Date {
			for i := range n {
				v.Int64s[i] = (g.r.Int64N(200_000) - 100_000) * 86_400_000_000
			}
		}
		if (t == wire.TimestampTZ && g.r.IntN(4) != 0) || (t == wire.DateTime && g.r.IntN(8) == 0) {
			v.Zones = make([]string, n)
			for i := range n {
				v.Zones[i] = sampleZones[g.r.IntN(len(sampleZones))]
			}
		}
	case wire.Double, wire.Float:
		v.Float64s = make([]float64, n)
		for i := range n {
			v.Float64s[i] = g.float64()
			if t == wire.Float {
				v.Float64s[i] = float64(float32(v.Float64s[i]))
			}
		}
	case wire.String, wire.Binary, wire.Array, wire.Map, wire.Struct:
		v.Bytes = make([][]byte, n)
		for i := range n {
			v.Bytes[i] = g.bytes(t)
		}
	case wire.Decimal128:
		v.Decimals = make([]wire.Dec128, n)
		for i := range n {
			v.Decimals[i] = g.dec()
		}
		v.Scale = int32(g.r.IntN(39))
	}
	return v
}

// chunk makes a random chunk with every type at least once.
func (g *gen) chunk() *wire.Chunk {
	rows := 1 + g.r.IntN(40)
	c := &wire.Chunk{Rows: int32(rows)}
	for _, t := range allTypes {
		c.Vectors = append(c.Vectors, g.vector(t, rows))
	}
	for range g.r.IntN(4) {
		c.Vectors = append(c.Vectors, g.vector(allTypes[g.r.IntN(len(allTypes))], rows))
	}
	g.r.Shuffle(len(c.Vectors), func(i, j int) { c.Vectors[i], c.Vectors[j] = c.Vectors[j], c.Vectors[i] })
	return c
}

// chunkDiff compares two chunks row by row through the accessors; it returns
// "" when they hold the same values.
func chunkDiff(want, got *wire.Chunk) string {
	if want.Rows != got.Rows {
		return fmt.Sprintf("Rows: want %d, got %d", want.Rows, got.Rows)
	}
	if len(want.Vectors) != len(got.Vectors) {
		return fmt.Sprintf("len(Vectors): want %d, got %d", len(want.Vectors), len(got.Vectors))
	}
	// Constant vectors repeat one slot and the others hold at most one slot
	// per input byte, so the first 4096 rows show every difference that
	// the inputs of these tests can carry.
	rows := min(int(want.Rows), 1<<12)
	for i := range want.Vectors {
		if d := vectorDiff(&want.Vectors[i], &got.Vectors[i], want.Rows, rows); d != "" {
			return fmt.Sprintf("vector %d (%s): %s", i, want.Vectors[i].Type, d)
		}
	}
	return ""
}

func vectorDiff(w, g *wire.Vector, chunkRows int32, rows int) string {
	if w.Type != g.Type {
		return fmt.Sprintf("Type: want %s, got %s", w.Type, g.Type)
	}
	wantConst := w.Constant || w.Type == wire.Null
	if wantConst != g.Constant {
		return fmt.Sprintf("Constant: want %v, got %v", wantConst, g.Constant)
	}
	if max(w.Size, chunkRows) != max(g.Size, chunkRows) {
		return fmt.Sprintf("Size: want %d, got %d", w.Size, g.Size)
	}
	if w.ZoneOffset != g.ZoneOffset || w.Format != g.Format {
		return fmt.Sprintf("ZoneOffset/Format: want %q/%q, got %q/%q", w.ZoneOffset, w.Format, g.ZoneOffset, g.Format)
	}
	if (w.Zones == nil) != (g.Zones == nil) {
		return fmt.Sprintf("Zones nil: want %v, got %v", w.Zones == nil, g.Zones == nil)
	}
	if w.Type == wire.Decimal128 && w.Scale != g.Scale {
		return fmt.Sprintf("Scale: want %d, got %d", w.Scale, g.Scale)
	}
	for r := range rows {
		if w.IsNull(r) != g.IsNull(r) {
			return fmt.Sprintf("row %d IsNull: want %v, got %v", r, w.IsNull(r), g.IsNull(r))
		}
		if w.Zone(r) != g.Zone(r) {
			return fmt.Sprintf("row %d Zone: want %q, got %q", r, w.Zone(r), g.Zone(r))
		}
		var a, b any
		switch w.Type {
		case wire.Null:
			continue
		case wire.Boolean:
			a, b = w.Bool(r), g.Bool(r)
		case wire.Integer:
			a, b = w.Int32(r), g.Int32(r)
		case wire.Long, wire.Date, wire.DateTime, wire.Timestamp, wire.TimestampTZ:
			a, b = w.Int64(r), g.Int64(r)
		case wire.Double, wire.Float:
			a, b = math.Float64bits(w.Float64(r)), math.Float64bits(g.Float64(r))
		case wire.String, wire.Binary, wire.Array, wire.Map, wire.Struct:
			if !bytes.Equal(w.BytesAt(r), g.BytesAt(r)) {
				return fmt.Sprintf("row %d: want %q, got %q", r, w.BytesAt(r), g.BytesAt(r))
			}
			continue
		case wire.Decimal128:
			a, b = w.Decimal(r), g.Decimal(r)
		}
		if a != b {
			return fmt.Sprintf("row %d: want %v, got %v", r, a, b)
		}
	}
	return ""
}

// toThrift builds the Thrift-generated structure for c, following the
// table of docs/protocol.md §8 independently of the wire package's encoder.
func toThrift(c *wire.Chunk) *thriftref.Chunk {
	tc := &thriftref.Chunk{Size: c.Rows, Vectors: []*thriftref.Vector{}}
	rows := int(c.Rows)
	for i := range c.Vectors {
		v := &c.Vectors[i]
		tv := &thriftref.Vector{
			Size: max(v.Size, c.Rows), VectorType: thriftref.VectorType(v.Type),
			IsConstantVector: v.Constant || v.Type == wire.Null,
			ZoneOffset:       v.ZoneOffset, Format: v.Format, Data: &thriftref.Data{},
		}
		n := rows
		if tv.IsConstantVector {
			n = 1
		}
		tv.NullSet = append([]bool{}, v.Nulls[:n]...)
		d := tv.Data
		switch v.Type {
		case wire.Null:
			tv.NullSet = []bool{true}
			d.NullConstantData = &thriftref.NullConstant{}
		case wire.Boolean:
			if v.Constant {
				d.BoolConstantData = &thriftref.BoolConstant{Data: v.Bools[0]}
			} else {
				d.BoolData = &thriftref.BoolList{Data: append([]bool{}, v.Bools[:n]...)}
			}
		case wire.Integer:
			if v.Constant {
				d.NumericConstantData = &thriftref.NumericConstant{Data: int64(v.Int32s[0])}
			} else {
				d.Int32Data = &thriftref.Int32List{Data: append([]int32{}, v.Int32s[:n]...)}
			}
		case wire.Long:
			if v.Constant {
				d.NumericConstantData = &thriftref.NumericConstant{Data: v.Int64s[0]}
			} else {
				d.Int64Data = &thriftref.Int64List{Data: append([]int64{}, v.Int64s[:n]...)}
			}
		case wire.Date:
			if v.Constant {
				d.DateConstantData = &thriftref.DateConstant{Data: v.Int64s[0]}
			} else {
				d.DateData = &thriftref.DateList{Data: append([]int64{}, v.Int64s[:n]...)}
			}
		case wire.DateTime, wire.Timestamp, wire.TimestampTZ:
			if v.Constant {
				d.TimeConstantData = &thriftref.TimeConstant{Data: v.Int64s[0]}
				if v.Zones != nil {
					z := v.Zones[0]
					d.TimeConstantData.ZoneData = &z
				}
			} else {
				d.TimeData = &thriftref.TimeList{Data: append([]int64{}, v.Int64s[:n]...)}
				if v.Zones != nil {
					d.TimeData.ZoneData = append([]string{}, v.Zones[:n]...)
				}
			}
		case wire.Double, wire.Float:
			switch {
			case v.Constant:
				d.NumericDecimalConstantData = &thriftref.NumericDecimalConstant{Data: v.Float64s[0]}
			case v.Type == wire.Float:
				d.Float32Data = &thriftref.Float32List{Data: append([]float64{}, v.Float64s[:n]...)}
			default:
				d.Float64Data = &thriftref.Float64List{Data: append([]float64{}, v.Float64s[:n]...)}
			}
		case wire.String, wire.Binary, wire.Array, wire.Map, wire.Struct:
			if v.Constant {
				d.VarcharConstantData = &thriftref.VarcharConstant{Data: string(v.Bytes[0])}
			} else {
				l := &thriftref.VarcharList{Data: []string{}}
				for _, b := range v.Bytes[:n] {
					l.Data = append(l.Data, string(b))
				}
				d.VarcharData = l
			}
		case wire.Decimal128:
			if v.Constant {
				d.NumericDecimal128ConstantData = &thriftref.Decimal128Constant{Data: decBytes(v.Decimals[0]), Scale: v.Scale}
			} else {
				l := &thriftref.Decimal128List{Data: [][]byte{}, Scale: v.Scale}
				for _, x := range v.Decimals[:n] {
					l.Data = append(l.Data, decBytes(x))
				}
				d.Decimal128Data = l
			}
		}
		tc.Vectors = append(tc.Vectors, tv)
	}
	return tc
}

// decBytes is the 16-byte big-endian two's complement of x, computed
// through math/big so that it does not share code with the package.
func decBytes(x wire.Dec128) []byte {
	b := x.Big()
	if b.Sign() < 0 {
		b.Add(b, new(big.Int).Lsh(big.NewInt(1), 128))
	}
	out := make([]byte, 16)
	b.FillBytes(out)
	return out
}

// fromThrift builds a wire.Chunk from the Thrift-generated structure.
func fromThrift(t *testing.T, tc *thriftref.Chunk) *wire.Chunk {
	t.Helper()
	c := &wire.Chunk{Rows: tc.Size}
	for i, tv := range tc.Vectors {
		v := wire.Vector{
			Type: wire.VectorType(tv.VectorType), Size: tv.Size, Constant: tv.IsConstantVector,
			Nulls: tv.NullSet, ZoneOffset: tv.ZoneOffset, Format: tv.Format,
		}
		d := tv.Data
		if d == nil || d.CountSetFieldsData() != 1 {
			t.Fatalf("vector %d: Thrift Data sets %d members", i, d.CountSetFieldsData())
		}
		switch {
		case d.BoolData != nil:
			v.Bools = d.BoolData.Data
		case d.BoolConstantData != nil:
			v.Bools = []bool{d.BoolConstantData.Data}
		case d.Int32Data != nil:
			v.Int32s = d.Int32Data.Data
		case d.NumericConstantData != nil && v.Type == wire.Integer:
			v.Int32s = []int32{int32(d.NumericConstantData.Data)}
		case d.NumericConstantData != nil:
			v.Int64s = []int64{d.NumericConstantData.Data}
		case d.Int64Data != nil:
			v.Int64s = d.Int64Data.Data
		case d.DateData != nil:
			v.Int64s = d.DateData.Data
		case d.DateConstantData != nil:
			v.Int64s = []int64{d.DateConstantData.Data}
		case d.TimeData != nil:
			v.Int64s = d.TimeData.Data
			v.Zones = d.TimeData.ZoneData
		case d.TimeConstantData != nil:
			v.Int64s = []int64{d.TimeConstantData.Data}
			if d.TimeConstantData.ZoneData != nil {
				v.Zones = []string{*d.TimeConstantData.ZoneData}
			}
		case d.Float32Data != nil:
			v.Float64s = d.Float32Data.Data
		case d.Float64Data != nil:
			v.Float64s = d.Float64Data.Data
		case d.NumericDecimalConstantData != nil:
			v.Float64s = []float64{d.NumericDecimalConstantData.Data}
		case d.VarcharData != nil:
			for _, s := range d.VarcharData.Data {
				v.Bytes = append(v.Bytes, []byte(s))
			}
		case d.VarcharConstantData != nil:
			v.Bytes = [][]byte{[]byte(d.VarcharConstantData.Data)}
		case d.Decimal128Data != nil:
			v.Scale = d.Decimal128Data.Scale
			for _, b := range d.Decimal128Data.Data {
				v.Decimals = append(v.Decimals, decFromBytes(t, b))
			}
		case d.NumericDecimal128ConstantData != nil:
			v.Scale = d.NumericDecimal128ConstantData.Scale
			v.Decimals = []wire.Dec128{decFromBytes(t, d.NumericDecimal128ConstantData.Data)}
		case d.NullConstantData != nil:
		default:
			t.Fatalf("vector %d: unexpected Thrift member", i)
		}
		c.Vectors = append(c.Vectors, v)
	}
	return c
}

func decFromBytes(t *testing.T, b []byte) wire.Dec128 {
	t.Helper()
	if len(b) != 16 {
		t.Fatalf("decimal of %d bytes, want 16", len(b))
	}
	x := new(big.Int).SetBytes(b)
	if b[0]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), 128))
	}
	d, err := wire.Dec128FromBig(x)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// thriftDecode decodes b with the Thrift-generated code over a TMemoryBuffer.
func thriftDecode(b []byte) (*thriftref.Chunk, error) {
	buf := thrift.NewTMemoryBuffer()
	if _, err := buf.Write(b); err != nil {
		return nil, err
	}
	p := thrift.NewTBinaryProtocolConf(buf, &thrift.TConfiguration{})
	tc := thriftref.NewChunk()
	if err := tc.Read(context.Background(), p); err != nil {
		return nil, err
	}
	return tc, nil
}

// thriftEncode serialises tc with the Thrift-generated code.
func thriftEncode(tc *thriftref.Chunk) ([]byte, error) {
	buf := thrift.NewTMemoryBuffer()
	p := thrift.NewTBinaryProtocolConf(buf, &thrift.TConfiguration{})
	if err := tc.Write(context.Background(), p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
