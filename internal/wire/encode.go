package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// AppendChunk appends the resultBatch encoding of c to dst: one bare Thrift
// TBinaryProtocol struct Chunk, laid out exactly as docs/protocol.md §8 says and
// byte for byte as Apache Thrift's generated code writes the same values
// (every Vector field 1..7 present, in field order; the optional zoneData
// only when Zones is not nil).
//
// For each vector it writes Size (raised to c.Rows if smaller), the data
// member that §8 names for its type, and exactly c.Rows nullSet entries and
// values (one of each for a constant vector, with the *ConstantData member).
// A constant vector whose one value is NULL may leave its value slice empty;
// the type's zero value is written. A NULL-type vector is always written as
// a constant vector with nullSet [true] and nullConstantData 0. Zones are
// written for DATETIME, TIMESTAMP and TIMESTAMP_TZ when not nil.
//
// It fails, wrapping ErrInvalid and returning dst unchanged, when c cannot
// be encoded: negative Rows, fewer Nulls or values than rows, INT96 or an
// unknown type, Zones on another type, a DECIMAL128 scale outside
// [-1000, 1000]. It allocates only to grow dst (once), never per value.
func AppendChunk(dst []byte, c *Chunk) ([]byte, error) {
	if c == nil {
		return dst, fmt.Errorf("%w: nil chunk", ErrInvalid)
	}
	if c.Rows < 0 {
		return dst, fmt.Errorf("%w: negative rows %d", ErrInvalid, c.Rows)
	}
	if len(c.Vectors) > math.MaxInt32 {
		return dst, fmt.Errorf("%w: %d vectors", ErrInvalid, len(c.Vectors))
	}
	need := 7 + 8 + 1
	for i := range c.Vectors {
		n, err := vectorWireSize(&c.Vectors[i], int(c.Rows))
		if err != nil {
			return dst, fmt.Errorf("%w: vector %d (%s): %s", ErrInvalid, i, c.Vectors[i].Type, err.Error())
		}
		need += n
	}
	if cap(dst)-len(dst) < need {
		grown := make([]byte, len(dst), len(dst)+need)
		copy(grown, dst)
		dst = grown
	}
	dst = appendFieldI32(dst, 1, c.Rows)
	dst = appendFieldHeader(dst, tList, 2)
	dst = appendListHeader(dst, tStruct, len(c.Vectors))
	for i := range c.Vectors {
		dst = appendVector(dst, &c.Vectors[i], int(c.Rows))
	}
	return append(dst, tStop), nil
}

// Sizes of the fixed parts of the encoding.
const (
	fieldHdr  = 3 // type, i16 id
	listHdr   = 5 // element type, i32 count
	fieldI32  = fieldHdr + 4
	fieldI64  = fieldHdr + 8
	vectorFix = fieldI32 + fieldI32 + fieldHdr + listHdr + // size, vectorType, nullSet header
		fieldHdr + fieldHdr + 1 + 1 + // data field, member field, member STOP, Data STOP
		fieldHdr + 1 + 2*(fieldHdr+4) + 1 // isConstantVector, zoneOffset, format headers, STOP
)

type errText string

func (e errText) Error() string { return string(e) }

// vectorWireSize validates v for encoding and returns its encoded size.
func vectorWireSize(v *Vector, rows int) (int, error) {
	if len(v.ZoneOffset) > math.MaxInt32 || len(v.Format) > math.MaxInt32 {
		return 0, errText("zoneOffset or format too long")
	}
	n := vectorFix + len(v.ZoneOffset) + len(v.Format)
	if v.Type == Null {
		return n + 1 + fieldHdr + 1, nil // nullSet [true], nullConstantData{1: byte}
	}
	if !v.Type.valid() || v.Type == Int96 {
		return 0, errText("type cannot be encoded")
	}
	k := rows // values and nulls to write
	if v.Constant {
		k = 1
		if len(v.Nulls) < 1 {
			return 0, errText("constant vector needs Nulls[0]")
		}
	} else if len(v.Nulls) < rows {
		return 0, errText(fmt.Sprintf("%d Nulls for %d rows", len(v.Nulls), rows))
	}
	n += k // nullSet entries
	have := valueLen(v)
	if have < k {
		if !(v.Constant && v.Nulls[0] && have == 0) {
			return 0, errText(fmt.Sprintf("%d values for %d rows", have, k))
		}
	}
	if v.Zones != nil && !usesTimeData(v.Type) {
		return 0, errText("Zones are only carried by DATETIME, TIMESTAMP and TIMESTAMP_TZ")
	}
	switch v.Type {
	case Boolean:
		n += payloadSize(v.Constant, 1, k)
	case Integer:
		if v.Constant {
			n += fieldI64
		} else {
			n += fieldHdr + listHdr + 4*k
		}
	case Long, Date, Double, Float:
		n += payloadSize(v.Constant, 8, k)
	case DateTime, Timestamp, TimestampTZ:
		n += payloadSize(v.Constant, 8, k)
		if v.Zones != nil {
			if v.Constant {
				if len(v.Zones) < 1 {
					return 0, errText("constant vector with empty Zones")
				}
				if len(v.Zones[0]) > math.MaxInt32 {
					return 0, errText("zone too long")
				}
				n += fieldHdr + 4 + len(v.Zones[0])
			} else {
				if len(v.Zones) < rows {
					return 0, errText(fmt.Sprintf("%d Zones for %d rows", len(v.Zones), rows))
				}
				n += fieldHdr + listHdr
				for _, z := range v.Zones[:rows] {
					if len(z) > math.MaxInt32 {
						return 0, errText("zone too long")
					}
					n += 4 + len(z)
				}
			}
		}
	case String, Binary, Array, Map, Struct:
		if v.Constant {
			n += fieldHdr + 4
			if have > 0 {
				n += len(v.Bytes[0])
			}
		} else {
			n += fieldHdr + listHdr + 4*k
			for _, s := range v.Bytes[:rows] {
				if len(s) > math.MaxInt32 {
					return 0, errText("value too long")
				}
				n += len(s)
			}
		}
	case Decimal128:
		if v.Scale < -maxDecimalScale || v.Scale > maxDecimalScale {
			return 0, errText(fmt.Sprintf("scale %d outside [-1000, 1000]", v.Scale))
		}
		if v.Constant {
			n += fieldHdr + 4 + 16
		} else {
			n += fieldHdr + listHdr + 20*k
		}
		n += fieldI32
	}
	return n, nil
}

// payloadSize is the size of field 1 of a member holding k fixed-size
// values of w bytes (a list), or one value (a constant).
func payloadSize(constant bool, w, k int) int {
	if constant {
		return fieldHdr + w
	}
	return fieldHdr + listHdr + w*k
}

func usesTimeData(t VectorType) bool { return t == DateTime || t == Timestamp || t == TimestampTZ }

// valueLen is the length of the value slice that v's type uses.
func valueLen(v *Vector) int {
	switch v.Type {
	case Boolean:
		return len(v.Bools)
	case Integer:
		return len(v.Int32s)
	case Long, Date, DateTime, Timestamp, TimestampTZ:
		return len(v.Int64s)
	case Double, Float:
		return len(v.Float64s)
	case String, Binary, Array, Map, Struct:
		return len(v.Bytes)
	case Decimal128:
		return len(v.Decimals)
	}
	return 0
}

func appendFieldHeader(dst []byte, t byte, id int16) []byte {
	return append(dst, t, byte(uint16(id)>>8), byte(id))
}

func appendFieldI32(dst []byte, id int16, v int32) []byte {
	dst = appendFieldHeader(dst, tI32, id)
	return binary.BigEndian.AppendUint32(dst, uint32(v))
}

func appendFieldI64(dst []byte, id int16, v int64) []byte {
	dst = appendFieldHeader(dst, tI64, id)
	return binary.BigEndian.AppendUint64(dst, uint64(v))
}

func appendListHeader(dst []byte, elem byte, n int) []byte {
	dst = append(dst, elem)
	return binary.BigEndian.AppendUint32(dst, uint32(n))
}

func appendString(dst []byte, s []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

func appendFieldString(dst []byte, id int16, s string) []byte {
	dst = appendFieldHeader(dst, tString, id)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// appendVector writes a vector that vectorWireSize accepted.
func appendVector(dst []byte, v *Vector, rows int) []byte {
	size := max(v.Size, int32(rows))
	dst = appendFieldI32(dst, 1, size)
	dst = appendFieldI32(dst, 2, int32(v.Type))
	dst = appendFieldHeader(dst, tList, 3)
	constant := v.Constant || v.Type == Null
	switch {
	case v.Type == Null:
		dst = appendListHeader(dst, tBool, 1)
		dst = append(dst, 1)
	case constant:
		dst = appendListHeader(dst, tBool, 1)
		dst = appendBool(dst, v.Nulls[0])
	default:
		dst = appendListHeader(dst, tBool, rows)
		for _, b := range v.Nulls[:rows] {
			dst = appendBool(dst, b)
		}
	}
	dst = appendFieldHeader(dst, tStruct, 4)
	dst = appendData(dst, v, rows, constant)
	dst = append(dst, tStop) // end of Data
	dst = appendFieldHeader(dst, tBool, 5)
	dst = appendBool(dst, constant)
	dst = appendFieldString(dst, 6, v.ZoneOffset)
	dst = appendFieldString(dst, 7, v.Format)
	return append(dst, tStop)
}

// appendData writes the one member of union Data, including its STOP.
func appendData(dst []byte, v *Vector, rows int, constant bool) []byte {
	has := valueLen(v) > 0
	if constant {
		switch v.Type {
		case Null:
			dst = appendFieldHeader(dst, tStruct, mNullConst)
			dst = appendFieldHeader(dst, tByte, 1)
			dst = append(dst, 0)
		case Boolean:
			dst = appendFieldHeader(dst, tStruct, mBoolConst)
			dst = appendFieldHeader(dst, tBool, 1)
			dst = appendBool(dst, has && v.Bools[0])
		case Integer:
			var x int64
			if has {
				x = int64(v.Int32s[0])
			}
			dst = appendFieldHeader(dst, tStruct, mNumericConst)
			dst = appendFieldI64(dst, 1, x)
		case Long:
			dst = appendFieldHeader(dst, tStruct, mNumericConst)
			dst = appendFieldI64(dst, 1, first(v.Int64s))
		case Date:
			dst = appendFieldHeader(dst, tStruct, mDateConst)
			dst = appendFieldI64(dst, 1, first(v.Int64s))
		case DateTime, Timestamp, TimestampTZ:
			dst = appendFieldHeader(dst, tStruct, mTimeConst)
			dst = appendFieldI64(dst, 1, first(v.Int64s))
			if v.Zones != nil {
				dst = appendFieldString(dst, 2, v.Zones[0])
			}
		case Double, Float:
			dst = appendFieldHeader(dst, tStruct, mDoubleConst)
			dst = appendFieldHeader(dst, tDouble, 1)
			dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(first(v.Float64s)))
		case String, Binary, Array, Map, Struct:
			dst = appendFieldHeader(dst, tStruct, mVarcharConst)
			dst = appendFieldHeader(dst, tString, 1)
			dst = appendString(dst, first(v.Bytes))
		case Decimal128:
			dst = appendFieldHeader(dst, tStruct, mDecimalConst)
			dst = appendFieldHeader(dst, tString, 1)
			dst = binary.BigEndian.AppendUint32(dst, 16)
			dst = first(v.Decimals).appendBytes16(dst)
			dst = appendFieldI32(dst, 2, v.Scale)
		}
		return append(dst, tStop) // end of the member struct
	}
	switch v.Type {
	case Boolean:
		dst = appendFieldHeader(dst, tStruct, mBool)
		dst = appendFieldHeader(dst, tList, 1)
		dst = appendListHeader(dst, tBool, rows)
		for _, b := range v.Bools[:rows] {
			dst = appendBool(dst, b)
		}
	case Integer:
		dst = appendFieldHeader(dst, tStruct, mInt32)
		dst = appendFieldHeader(dst, tList, 1)
		dst = appendListHeader(dst, tI32, rows)
		dst = appendInt32s(dst, v.Int32s[:rows])
	case Long:
		dst = appendFieldHeader(dst, tStruct, mInt64)
		dst = appendFieldHeader(dst, tList, 1)
		dst = appendListHeader(dst, tI64, rows)
		dst = appendInt64s(dst, v.Int64s[:rows])
	case Date:
		dst = appendFieldHeader(dst, tStruct, mDate)
		dst = appendFieldHeader(dst, tList, 1)
		dst = appendListHeader(dst, tI64, rows)
		dst = appendInt64s(dst, v.Int64s[:rows])
	case DateTime, Timestamp, TimestampTZ:
		dst = appendFieldHeader(dst, tStruct, mTime)
		dst = appendFieldHeader(dst, tList, 1)
		dst = appendListHeader(dst, tI64, rows)
		dst = appendInt64s(dst, v.Int64s[:rows])
		if v.Zones != nil {
			dst = appendFieldHeader(dst, tList, 2)
			dst = appendListHeader(dst, tString, rows)
			for _, z := range v.Zones[:rows] {
				dst = binary.BigEndian.AppendUint32(dst, uint32(len(z)))
				dst = append(dst, z...)
			}
		}
	case Double, Float:
		m := int16(mFloat64)
		if v.Type == Float {
			m = mFloat32
		}
		dst = appendFieldHeader(dst, tStruct, m)
		dst = appendFieldHeader(dst, tList, 1)
		dst = appendListHeader(dst, tDouble, rows)
		dst = appendFloat64s(dst, v.Float64s[:rows])
	case String, Binary, Array, Map, Struct:
		dst = appendFieldHeader(dst, tStruct, mVarchar)
		dst = appendFieldHeader(dst, tList, 1)
		dst = appendListHeader(dst, tString, rows)
		for _, s := range v.Bytes[:rows] {
			dst = appendString(dst, s)
		}
	case Decimal128:
		dst = appendFieldHeader(dst, tStruct, mDecimal)
		dst = appendFieldHeader(dst, tList, 1)
		dst = appendListHeader(dst, tString, rows)
		for _, d := range v.Decimals[:rows] {
			dst = binary.BigEndian.AppendUint32(dst, 16)
			dst = d.appendBytes16(dst)
		}
		dst = appendFieldI32(dst, 2, v.Scale)
	}
	return append(dst, tStop) // end of the member struct
}

func first[T any](s []T) T {
	var zero T
	if len(s) > 0 {
		return s[0]
	}
	return zero
}

func appendInt32s(dst []byte, s []int32) []byte {
	dst = slices.Grow(dst, 4*len(s))
	off := len(dst)
	dst = dst[:off+4*len(s)]
	out := dst[off:]
	for i, x := range s {
		binary.BigEndian.PutUint32(out[4*i:], uint32(x))
	}
	return dst
}

func appendInt64s(dst []byte, s []int64) []byte {
	dst = slices.Grow(dst, 8*len(s))
	off := len(dst)
	dst = dst[:off+8*len(s)]
	out := dst[off:]
	for i, x := range s {
		binary.BigEndian.PutUint64(out[8*i:], uint64(x))
	}
	return dst
}

func appendFloat64s(dst []byte, s []float64) []byte {
	dst = slices.Grow(dst, 8*len(s))
	off := len(dst)
	dst = dst[:off+8*len(s)]
	out := dst[off:]
	for i, x := range s {
		binary.BigEndian.PutUint64(out[8*i:], math.Float64bits(x))
	}
	return dst
}
