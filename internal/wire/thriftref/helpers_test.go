package thriftref_test

// The random chunk generator and chunkDiff come from internal/wire/wiretest,
// shared with internal/wire's own tests. This module exists so that Apache
// Thrift, which only these tests need, is never a requirement of the
// driver's module.

import (
	"context"
	"math/big"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/e6go/e6data/internal/wire"
	"github.com/e6go/e6data/internal/wire/thriftref"
	"github.com/e6go/e6data/internal/wire/wiretest"
)

// The random batches and their comparison live in wiretest, shared with
// the Thrift reference module's tests.

var (
	newGen    = wiretest.NewGen
	chunkDiff = wiretest.ChunkDiff
	decBytes  = wiretest.DecBytes
)

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
