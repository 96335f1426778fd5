package e6arrow

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/e6go/e6data/internal/batches"
	"github.com/e6go/e6data/internal/wire"
)

// ErrUnsupported is returned for a column the Arrow reader cannot represent.
var ErrUnsupported = errors.New("e6arrow: unsupported column")

// field returns the Arrow field for column c.
func field(c batches.Column) (arrow.Field, error) {
	var dt arrow.DataType
	switch c.Type {
	case wire.Boolean:
		dt = arrow.FixedWidthTypes.Boolean
	case wire.Integer:
		dt = arrow.PrimitiveTypes.Int32
	case wire.Long:
		dt = arrow.PrimitiveTypes.Int64
	case wire.Float:
		dt = arrow.PrimitiveTypes.Float32
	case wire.Double:
		dt = arrow.PrimitiveTypes.Float64
	case wire.String, wire.Array, wire.Map, wire.Struct:
		dt = arrow.BinaryTypes.String
	case wire.Binary:
		dt = arrow.BinaryTypes.Binary
	case wire.Date:
		dt = arrow.FixedWidthTypes.Date32
	case wire.DateTime, wire.Timestamp:
		dt = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	case wire.TimestampTZ:
		zone := c.Zone
		if zone == "" {
			zone = "UTC"
		}
		dt = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: zone}
	case wire.Decimal128:
		scale := max(c.Scale, 0)
		if scale > 38 {
			dt = arrow.BinaryTypes.String
		} else {
			dt = &arrow.Decimal128Type{Precision: 38, Scale: scale}
		}
	case wire.Null:
		dt = arrow.Null
	case -1:
		dt = arrow.BinaryTypes.String
	default:
		return arrow.Field{}, fmt.Errorf("%w: column %q has type %s", ErrUnsupported, c.Name, c.TypeName)
	}
	return arrow.Field{Name: c.Name, Type: dt, Nullable: true}, nil
}

// builder turns batches into records. It keeps nothing between batches
// but its pool: every record owns its buffers, and those of fixed width
// return to the pool when the record is released.
type builder struct {
	schema *arrow.Schema
	cols   []batches.Column
	pool   *pool
}

func newBuilder(cols []batches.Column) (*builder, error) {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		f, err := field(c)
		if err != nil {
			return nil, err
		}
		fields[i] = f
	}
	return &builder{schema: arrow.NewSchema(fields, nil), cols: cols, pool: &pool{}}, nil
}

// record builds the record of chunk c.
func (b *builder) record(c *wire.Chunk) (arrow.RecordBatch, error) {
	n := int(c.Rows)
	if len(c.Vectors) != len(b.cols) {
		return nil, fmt.Errorf("e6arrow: batch has %d columns, schema has %d", len(c.Vectors), len(b.cols))
	}
	arrs := make([]arrow.Array, len(b.cols))
	release := func() {
		for _, a := range arrs {
			if a != nil {
				a.Release()
			}
		}
	}
	for i := range c.Vectors {
		a, err := b.column(i, &c.Vectors[i], n)
		if err != nil {
			release()
			return nil, err
		}
		arrs[i] = a
	}
	rec := array.NewRecordBatch(b.schema, arrs, int64(n))
	release() // the record holds its own references
	return rec, nil
}

func (b *builder) column(i int, v *wire.Vector, n int) (arrow.Array, error) {
	dt := b.schema.Field(i).Type
	if v.Type == wire.Null || dt.ID() == arrow.NULL {
		return array.MakeArrayOfNull(memory.DefaultAllocator, dt, n), nil
	}
	if v.Constant && v.IsNull(0) {
		return array.MakeArrayOfNull(memory.DefaultAllocator, dt, n), nil
	}
	valid, nulls := validity(v, n)
	var data *memory.Buffer
	switch dt.ID() {
	case arrow.INT64, arrow.TIMESTAMP:
		if len(v.Int64s) < n && !v.Constant {
			break
		}
		data = fixed(b.pool, v.Int64s, v.Constant, n)
	case arrow.INT32:
		if len(v.Int32s) < n && !v.Constant {
			break
		}
		data = fixed(b.pool, v.Int32s, v.Constant, n)
	case arrow.FLOAT64:
		if len(v.Float64s) < n && !v.Constant {
			break
		}
		data = fixed(b.pool, v.Float64s, v.Constant, n)
	case arrow.FLOAT32:
		if len(v.Float64s) < n && !v.Constant {
			break
		}
		var out []float32
		data, out = pooled[float32](b.pool, n)
		for j := range out {
			out[j] = float32(v.Float64(j))
		}
	case arrow.DATE32:
		if len(v.Int64s) < n && !v.Constant {
			break
		}
		var out []int32
		data, out = pooled[int32](b.pool, n)
		for j := range out {
			out[j] = days(v.Int64(j))
		}
	case arrow.BOOL:
		if len(v.Bools) < n && !v.Constant {
			break
		}
		out := make([]byte, (n+7)/8)
		for j := 0; j < n; j++ {
			if v.Bool(j) {
				out[j>>3] |= 1 << (j & 7)
			}
		}
		data = memory.NewBufferBytes(out)
	case arrow.DECIMAL128:
		return b.decimals(i, v, n, valid, nulls)
	case arrow.STRING, arrow.BINARY:
		if v.Type == wire.Decimal128 {
			return decimalText(v, n, valid, nulls)
		}
		if v.Bytes == nil && len(v.StrOffsets) == 0 {
			return nil, fmt.Errorf("%w: column %q: vector type %v in a column of %s", ErrUnsupported, b.cols[i].Name, v.Type, b.cols[i].TypeName)
		}
		return varBinary(b.pool, dt, v, n, valid, nulls)
	}
	if data == nil {
		return nil, fmt.Errorf("e6arrow: column %q: vector %v does not match the column type %s", b.cols[i].Name, v.Type, b.cols[i].TypeName)
	}
	d := array.NewData(dt, n, []*memory.Buffer{valid, data}, nil, nulls, 0)
	data.Release() // d holds its own reference
	defer d.Release()
	return array.MakeFromData(d), nil
}

// validity returns the validity bitmap of v's first n rows (nil when none is
// NULL) and the number of NULLs.
func validity(v *wire.Vector, n int) (*memory.Buffer, int) {
	if v.Constant {
		return nil, 0 // a NULL constant is handled by the caller
	}
	nl := v.Nulls[:n]
	first := firstTrue(nl)
	if first < 0 {
		return nil, 0
	}
	bm := make([]byte, (n+7)/8)
	for j := range first / 8 {
		bm[j] = 0xff
	}
	nulls := 0
	for j := first &^ 7; j < n; j++ {
		if nl[j] {
			nulls++
		} else {
			bm[j>>3] |= 1 << (j & 7)
		}
	}
	return memory.NewBufferBytes(bm), nulls
}

// firstTrue returns the index of the first true in b, or -1. It looks at
// eight flags at a time: a Go bool is one byte, 0 or 1.
func firstTrue(b []bool) int {
	j := 0
	if len(b) >= 8 {
		bytes := unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), len(b))
		for ; j+8 <= len(bytes); j += 8 {
			if binary.LittleEndian.Uint64(bytes[j:]) != 0 {
				break
			}
		}
	}
	for ; j < len(b); j++ {
		if b[j] {
			return j
		}
	}
	return -1
}

// fixed returns a pooled buffer holding s's first n values, or for a
// constant vector its value repeated. (The driver decodes the next batch
// into s: see batches.Source.)
func fixed[T int32 | int64 | float64](p *pool, s []T, constant bool, n int) *memory.Buffer {
	buf, out := pooled[T](p, n)
	if !constant {
		copy(out, s[:n])
		return buf
	}
	var val T
	if len(s) > 0 {
		val = s[0]
	}
	for j := range out {
		out[j] = val
	}
	return buf
}

// pooled returns a buffer of p for n values of T, and the values, which
// the caller overwrites entirely. The caller owns one reference.
func pooled[T int32 | int64 | float32 | float64](p *pool, n int) (*memory.Buffer, []T) {
	var zero T
	buf := p.buffer(n * int(unsafe.Sizeof(zero)))
	if n == 0 {
		return buf, nil
	}
	return buf, unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(buf.Bytes()))), n)
}

func asBytes[T any](s []T) []byte {
	if len(s) == 0 {
		return []byte{}
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(zero)))
}

const microsPerDay = 86_400_000_000

// days converts microseconds since the epoch to days, rounding down (a
// date before 1970 is a negative day number).
func days(us int64) int32 {
	d := us / microsPerDay
	if us%microsPerDay < 0 {
		d--
	}
	return int32(d)
}

// varBinary builds a String or Binary array: offsets and one data buffer.
func varBinary(p *pool, dt arrow.DataType, v *wire.Vector, n int, valid *memory.Buffer, nulls int) (arrow.Array, error) {
	if !v.Constant && v.StringCount() < n {
		return nil, fmt.Errorf("e6arrow: %d values for %d rows", v.StringCount(), n)
	}
	if !v.Constant && len(v.StrOffsets) > 0 {
		return compactBinary(p, dt, v, n, valid, nulls), nil
	}
	total := 0
	if v.Constant {
		total = len(v.Bytes[0]) * n
	} else {
		for j, b := range v.Bytes[:n] {
			if !v.Nulls[j] {
				total += len(b)
			}
		}
	}
	if total > math.MaxInt32 {
		return nil, fmt.Errorf("e6arrow: a batch holds %d bytes of strings in one column, more than an Arrow String array can", total)
	}
	obuf, offsets := pooled[int32](p, n+1)
	offsets[0] = 0
	data := noZeroBytes(total)
	off := 0
	if v.Constant {
		val := v.Bytes[0]
		for j := range n {
			off += copy(data[off:], val)
			offsets[j+1] = int32(off)
		}
	} else {
		for j, b := range v.Bytes[:n] {
			if !v.Nulls[j] {
				off += copy(data[off:], b)
			}
			offsets[j+1] = int32(off)
		}
	}
	d := array.NewData(dt, n, []*memory.Buffer{valid, obuf, memory.NewBufferBytes(data)}, nil, nulls, 0)
	obuf.Release() // d holds its own reference
	defer d.Release()
	return array.MakeFromData(d), nil
}

// compactBinary builds a String or Binary array from a vector decoded by
// wire.DecodeChunkCompact, whose strings are already laid out as Arrow's:
// without NULLs its data becomes the array's as it is (the decoder
// allocates it for this batch alone and never writes to it again) and the
// offsets are copied; a NULL row's bytes are left out, as varBinary does.
func compactBinary(p *pool, dt arrow.DataType, v *wire.Vector, n int, valid *memory.Buffer, nulls int) arrow.Array {
	obuf, offsets := pooled[int32](p, n+1)
	var data []byte
	if nulls == 0 {
		copy(offsets, v.StrOffsets[:n+1])
		data = v.StrData[:v.StrOffsets[n]]
	} else {
		total := 0
		for j := range n {
			if !v.Nulls[j] {
				total += int(v.StrOffsets[j+1] - v.StrOffsets[j])
			}
		}
		data = noZeroBytes(total)
		off := 0
		offsets[0] = 0
		for j := range n {
			if !v.Nulls[j] {
				off += copy(data[off:], v.StrData[v.StrOffsets[j]:v.StrOffsets[j+1]])
			}
			offsets[j+1] = int32(off)
		}
	}
	d := array.NewData(dt, n, []*memory.Buffer{valid, obuf, memory.NewBufferBytes(data)}, nil, nulls, 0)
	obuf.Release() // d holds its own reference
	defer d.Release()
	return array.MakeFromData(d)
}

// noZeroBytes returns n bytes that the caller overwrites entirely: the
// memory is not cleared first (strings.Builder allocates it so). The
// buffer is only ever read once filled.
func noZeroBytes(n int) []byte {
	if n == 0 {
		return []byte{}
	}
	var sb strings.Builder
	sb.Grow(n)
	return unsafe.Slice(unsafe.StringData(sb.String()), n)
}

// decimals builds a Decimal128 array in the schema's scale.
func (b *builder) decimals(i int, v *wire.Vector, n int, valid *memory.Buffer, nulls int) (arrow.Array, error) {
	if v.Type != wire.Decimal128 || !v.Constant && len(v.Decimals) < n || v.Constant && len(v.Decimals) == 0 {
		return nil, fmt.Errorf("e6arrow: column %q: vector %v does not match the column type %s", b.cols[i].Name, v.Type, b.cols[i].TypeName)
	}
	scale := b.schema.Field(i).Type.(*arrow.Decimal128Type).Scale
	out := make([]decimal128.Num, n)
	for j := range out {
		if !v.Constant && v.Nulls[j] {
			continue
		}
		d := v.Decimal(j)
		num := decimal128.New(d.Hi, d.Lo)
		if v.Scale != scale {
			var err error
			if num, err = num.Rescale(v.Scale, scale); err != nil {
				return nil, fmt.Errorf("e6arrow: column %q: a batch with scale %d cannot be read at the column's scale %d: %v", b.cols[i].Name, v.Scale, scale, err)
			}
		}
		out[j] = num
	}
	d := array.NewData(b.schema.Field(i).Type, n, []*memory.Buffer{valid, memory.NewBufferBytes(asBytes(out))}, nil, nulls, 0)
	defer d.Release()
	return array.MakeFromData(d), nil
}

// decimalText builds the String array of a DECIMAL128 column whose scale
// Arrow's Decimal128 cannot hold.
func decimalText(v *wire.Vector, n int, valid *memory.Buffer, nulls int) (arrow.Array, error) {
	if !v.Constant && len(v.Decimals) < n || v.Constant && len(v.Decimals) == 0 {
		return nil, fmt.Errorf("e6arrow: %d decimals for %d rows", len(v.Decimals), n)
	}
	offsets := make([]int32, n+1)
	var data []byte
	for j := range n {
		if v.Constant || !v.Nulls[j] {
			data = v.Decimal(j).AppendFormat(data, v.Scale)
		}
		offsets[j+1] = int32(len(data))
	}
	d := array.NewData(arrow.BinaryTypes.String, n, []*memory.Buffer{valid, memory.NewBufferBytes(asBytes(offsets)), memory.NewBufferBytes(data)}, nil, nulls, 0)
	defer d.Release()
	return array.MakeFromData(d), nil
}
