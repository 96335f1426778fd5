// Package wiretest makes random result batches and compares them, for the
// tests of internal/wire and of the Thrift reference module
// (internal/wire/thriftref), which cannot share test files.
package wiretest

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"

	"github.com/e6go/e6data/internal/wire"
)

// AllTypes lists every type that can be carried (INT96 cannot).
var AllTypes = []wire.VectorType{
	wire.Binary, wire.Boolean, wire.Double, wire.Float, wire.Integer, wire.Long, wire.String,
	wire.Date, wire.DateTime, wire.Timestamp, wire.Struct, wire.Map, wire.Array, wire.Null,
	wire.TimestampTZ, wire.Decimal128,
}

var (
	Max38 = MustBig("99999999999999999999999999999999999999") // 10^38-1
	Min38 = new(big.Int).Neg(Max38)
)

func MustBig(s string) *big.Int {
	x, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return x
}

func MustDec(x *big.Int) wire.Dec128 {
	d, err := wire.Dec128FromBig(x)
	if err != nil {
		panic(err)
	}
	return d
}

var SampleZones = []string{"Z", "+05:30", "-08:00", "+0000", "America/New_York", "Asia/Kolkata", "Europe/Berlin", "UTC"}

var SampleText = []string{"", "a", "héllo wörld", "日本語のテキスト", "emoji 🎉🚀", "tab\tnew\nline", `{"k":[1,2]}`, strings.Repeat("x", 300)}

// Gen makes random chunks from a fixed seed.
type Gen struct{ R *rand.Rand }

func NewGen(seed uint64) *Gen { return &Gen{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} }

func (g *Gen) Int64() int64 {
	switch g.R.IntN(8) {
	case 0:
		return math.MinInt64
	case 1:
		return math.MaxInt64
	case 2:
		return 0
	case 3:
		return -1
	case 4:
		return -g.R.Int64N(1 << 50) // before 1970, not at a whole second
	}
	return int64(g.R.Uint64())
}

func (g *Gen) Float64() float64 {
	switch g.R.IntN(10) {
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
	return g.R.NormFloat64() * math.Pow(10, float64(g.R.IntN(40)-20))
}

func (g *Gen) Bytes(t wire.VectorType) []byte {
	if t == wire.Binary && g.R.IntN(2) == 0 {
		b := make([]byte, g.R.IntN(20))
		for i := range b {
			b[i] = byte(g.R.Uint32())
		}
		if len(b) > 0 {
			b[0] = 0xff // never valid UTF-8
		}
		return b
	}
	return []byte(SampleText[g.R.IntN(len(SampleText))])
}

func (g *Gen) Dec() wire.Dec128 {
	switch g.R.IntN(7) {
	case 0:
		return MustDec(Max38)
	case 1:
		return MustDec(Min38)
	case 2:
		return wire.Dec128{Hi: math.MinInt64} // -2^127
	case 3:
		return wire.Dec128{Hi: math.MaxInt64, Lo: math.MaxUint64} // 2^127-1
	case 4:
		return wire.Dec128FromInt64(g.R.Int64N(2000) - 1000)
	}
	return wire.Dec128{Hi: int64(g.R.Uint64()), Lo: g.R.Uint64()}
}

// vector makes a random vector of type t for rows rows.
func (g *Gen) Vector(t wire.VectorType, rows int) wire.Vector {
	v := wire.Vector{Type: t, Size: int32(rows + g.R.IntN(3))}
	if g.R.IntN(3) == 0 {
		v.ZoneOffset = SampleZones[g.R.IntN(len(SampleZones))]
	}
	if g.R.IntN(3) == 0 {
		v.Format = "yyyy-MM-dd"
	}
	if t == wire.Null {
		v.Constant = true
		v.Nulls = []bool{true}
		return v
	}
	n := rows
	if g.R.IntN(4) == 0 {
		v.Constant, n = true, 1
	}
	v.Nulls = make([]bool, n)
	for i := range v.Nulls {
		v.Nulls[i] = g.R.IntN(5) == 0
	}
	switch t {
	case wire.Boolean:
		v.Bools = make([]bool, n)
		for i := range n {
			v.Bools[i] = g.R.IntN(2) == 0
		}
	case wire.Integer:
		v.Int32s = make([]int32, n)
		for i := range n {
			v.Int32s[i] = int32(g.Int64())
		}
	case wire.Long, wire.Date, wire.DateTime, wire.Timestamp, wire.TimestampTZ:
		v.Int64s = make([]int64, n)
		for i := range n {
			v.Int64s[i] = g.Int64()
		}
		if t == wire.Date {
			for i := range n {
				v.Int64s[i] = (g.R.Int64N(200_000) - 100_000) * 86_400_000_000
			}
		}
		if (t == wire.TimestampTZ && g.R.IntN(4) != 0) || (t == wire.DateTime && g.R.IntN(8) == 0) {
			v.Zones = make([]string, n)
			for i := range n {
				v.Zones[i] = SampleZones[g.R.IntN(len(SampleZones))]
			}
		}
	case wire.Double, wire.Float:
		v.Float64s = make([]float64, n)
		for i := range n {
			v.Float64s[i] = g.Float64()
			if t == wire.Float {
				v.Float64s[i] = float64(float32(v.Float64s[i]))
			}
		}
	case wire.String, wire.Binary, wire.Array, wire.Map, wire.Struct:
		v.Bytes = make([][]byte, n)
		for i := range n {
			v.Bytes[i] = g.Bytes(t)
		}
	case wire.Decimal128:
		v.Decimals = make([]wire.Dec128, n)
		for i := range n {
			v.Decimals[i] = g.Dec()
		}
		v.Scale = int32(g.R.IntN(39))
	}
	return v
}

// chunk makes a random chunk with every type at least once.
func (g *Gen) Chunk() *wire.Chunk {
	rows := 1 + g.R.IntN(40)
	c := &wire.Chunk{Rows: int32(rows)}
	for _, t := range AllTypes {
		c.Vectors = append(c.Vectors, g.Vector(t, rows))
	}
	for range g.R.IntN(4) {
		c.Vectors = append(c.Vectors, g.Vector(AllTypes[g.R.IntN(len(AllTypes))], rows))
	}
	g.R.Shuffle(len(c.Vectors), func(i, j int) { c.Vectors[i], c.Vectors[j] = c.Vectors[j], c.Vectors[i] })
	return c
}

// ChunkDiff compares two chunks row by row through the accessors; it returns
// "" when they hold the same values.
func ChunkDiff(want, got *wire.Chunk) string {
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
		if d := VectorDiff(&want.Vectors[i], &got.Vectors[i], want.Rows, rows); d != "" {
			return fmt.Sprintf("vector %d (%s): %s", i, want.Vectors[i].Type, d)
		}
	}
	return ""
}

func VectorDiff(w, g *wire.Vector, chunkRows int32, rows int) string {
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

// DecBytes is the 16-byte big-endian two's complement of x, computed
// through math/big so that it does not share code with the package.
func DecBytes(x wire.Dec128) []byte {
	b := x.Big()
	if b.Sign() < 0 {
		b.Add(b, new(big.Int).Lsh(big.NewInt(1), 128))
	}
	out := make([]byte, 16)
	b.FillBytes(out)
	return out
}
