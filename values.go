package e6data

import (
	"database/sql/driver"
	"fmt"
	"reflect"
	"time"
	"unsafe"

	"github.com/e6go/e6data/internal/wire"
)

// column describes one result column.
type column struct {
	name     string
	typ      wire.VectorType // -1 when the metadata names a type the connector does not know
	typeName string          // the type as the metadata names it
	zone     string          // TIMESTAMP_TZ default zone from the metadata
	format   string
	scale    int32 // DECIMAL128 scale, once seen in a batch (haveScale)
	// haveScale: scale was read from a batch. (A scale may be negative.)
	haveScale bool
}

// conform checks a decoded batch against the columns of the metadata and
// brings it to them, as e6data's own client reads it: a vector beyond the
// last column is ignored, and an INTEGER vector under a LONG column (a
// FLOAT under a DOUBLE) is widened to the declared type. A NULL-type vector
// fits any column. Anything else that differs is ErrProtocol's business:
// the returned message says what.
func conform(cols []column, c *wire.Chunk) (msg string, ok bool) {
	if len(c.Vectors) < len(cols) {
		return fmt.Sprintf("batch has %d columns, metadata has %d", len(c.Vectors), len(cols)), false
	}
	for i := range cols {
		v, col := &c.Vectors[i], &cols[i]
		if col.typ < 0 || v.Type == wire.Null || v.Widen(col.typ) {
			continue
		}
		return fmt.Sprintf("column %d (%s): vector type %v does not match metadata %s", i, col.name, v.Type, col.typeName), false
	}
	return "", true
}

var (
	scanBool    = reflect.TypeFor[bool]()
	scanInt32   = reflect.TypeFor[int32]()
	scanInt64   = reflect.TypeFor[int64]()
	scanFloat32 = reflect.TypeFor[float32]()
	scanFloat64 = reflect.TypeFor[float64]()
	scanString  = reflect.TypeFor[string]()
	scanBytes   = reflect.TypeFor[[]byte]()
	scanTime    = reflect.TypeFor[time.Time]()
	scanDecimal = reflect.TypeFor[Decimal]()
	scanAny     = reflect.TypeFor[any]()
)

// scanType is the Go type Next stores for a column of type t.
func scanType(t wire.VectorType) reflect.Type {
	switch t {
	case wire.Boolean:
		return scanBool
	case wire.Integer:
		return scanInt32
	case wire.Long:
		return scanInt64
	case wire.Float:
		return scanFloat32
	case wire.Double:
		return scanFloat64
	case wire.String, wire.Array, wire.Map, wire.Struct:
		return scanString
	case wire.Binary:
		return scanBytes
	case wire.Date, wire.DateTime, wire.TimestampTZ, wire.Timestamp:
		return scanTime
	case wire.Decimal128:
		return scanDecimal
	}
	return scanAny
}

// valueAt converts row of vector v into the driver value for column c.
func valueAt(c *column, v *wire.Vector, row int) (driver.Value, error) {
	if v.Type == wire.Null || v.IsNull(row) {
		return nil, nil
	}
	switch v.Type {
	case wire.Boolean:
		return v.Bool(row), nil
	case wire.Integer:
		return v.Int32(row), nil
	case wire.Long:
		return v.Int64(row), nil
	case wire.Double:
		return v.Float64(row), nil
	case wire.Float:
		return float32(v.Float64(row)), nil
	case wire.String, wire.Array, wire.Map, wire.Struct:
		return string(v.BytesAt(row)), nil
	case wire.Binary:
		return v.BytesAt(row), nil
	case wire.Date:
		return wire.DateFromMicros(v.Int64(row)), nil
	case wire.DateTime:
		return wire.TimeFromMicros(v.Int64(row), time.UTC), nil
	case wire.TimestampTZ:
		zone := v.Zone(row)
		if zone == "" {
			zone = v.ZoneOffset
		}
		if zone == "" {
			zone = c.zone
		}
		loc, err := wire.Location(zone)
		if err != nil {
			return nil, fmt.Errorf("%w: column %q: zone %q: %v", ErrProtocol, c.name, zone, err)
		}
		return wire.TimeFromMicros(v.Int64(row), loc), nil
	case wire.Decimal128:
		return Decimal(v.Decimal(row).Format(v.Scale)), nil
	}
	return nil, fmt.Errorf("%w: column %q has vector type %v, which the connector cannot read", ErrProtocol, c.name, v.Type)
}

// Boxing without allocating.
//
// database/sql takes every value as a driver.Value (an interface), and
// putting an int64, a float64 or a string into an interface copies it to
// the heap: one allocation per value. boxAt instead makes an interface
// whose data pointer is the address of the value inside the batch's own
// array, which is what the runtime would have produced after the copy.
// That is only sound if the array is never written to again, since the
// application may keep the interface (Scan into *any copies it as is):
// the rows therefore hand a delivered batch's value arrays to the
// garbage collector instead of decoding the next batch into them (see
// recycle), and a per-batch array holds each row's string.

// eface is the runtime's layout of an interface with no methods.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

// boxAt returns *p as an interface that refers to p itself. *p must never
// change afterwards. zero is the type's zero value boxed (a constant of the
// type, which the compiler boxes as static data: no call, no allocation).
func boxAt[T int32 | int64 | float64 | string](p *T, zero any) any {
	(*eface)(unsafe.Pointer(&zero)).data = unsafe.Pointer(p)
	return zero
}

// recycle prepares a delivered batch for decoding another into it: the
// vectors, null flags and string offsets are reused, but the value arrays
// that boxAt may have handed out are dropped. The buffer the batch was
// received into, and each column's string data (see copyStrings), are
// reused too, since their strings were copied before they were handed
// out, unless a BINARY vector's values, which Next hands out as they are,
// alias them. Rows read a batch at a time (QueryBatches) box nothing:
// their value arrays are decoded into again, while their string data went
// to the caller with the batch.
func (r *rows) recycle(c *wire.Chunk) {
	for i := range c.Vectors {
		v := &c.Vectors[i]
		if v.Type == wire.Binary {
			c.Recv = nil
			continue
		}
		if !r.batched {
			v.Int32s, v.Int64s, v.Float64s = nil, nil, nil
			if v.StrData != nil {
				v.StrSpare, v.StrData = v.StrData, nil
			}
		}
	}
}

// fastValue stores row of column i of the current batch in *dst without
// allocating for INTEGER, LONG and DOUBLE, and for STRING, ARRAY, MAP and
// STRUCT as a copy of the string made in blocks of rows (see copyStrings):
// about one allocation per 4 KiB of strings. It reports false for every
// other case, which valueAt handles.
func (r *rows) fastValue(i, row int, dst *driver.Value) bool {
	v := &r.chunk.Vectors[i]
	if v.Constant {
		return false
	}
	switch v.Type {
	case wire.Long:
		if row < len(v.Int64s) && !(row < len(v.Nulls) && v.Nulls[row]) { // IsNull, for a non-constant vector
			*dst = boxAt(&v.Int64s[row], any(int64(0)))
			return true
		}
	case wire.Double:
		if row < len(v.Float64s) && !(row < len(v.Nulls) && v.Nulls[row]) { // IsNull, for a non-constant vector
			*dst = boxAt(&v.Float64s[row], any(float64(0)))
			return true
		}
	case wire.Integer:
		if row < len(v.Int32s) && !(row < len(v.Nulls) && v.Nulls[row]) { // IsNull, for a non-constant vector
			*dst = boxAt(&v.Int32s[row], any(int32(0)))
			return true
		}
	case wire.String, wire.Array, wire.Map, wire.Struct:
		if p := r.stringAt(i, row); p != nil {
			*dst = boxAt(p, any(""))
			return true
		}
	}
	return false
}

// stringAt returns row of the string-typed column i of the current batch
// as a string copied in blocks of rows (see copyStrings), or nil when it is
// NULL, constant, or not decoded compact (a vector left in Bytes: all NULL,
// no data), which valueAt handles. The string pointed to never changes.
func (r *rows) stringAt(i, row int) *string {
	v := &r.chunk.Vectors[i]
	if v.Constant || row+1 >= len(v.StrOffsets) || (row < len(v.Nulls) && v.Nulls[row]) { // IsNull, for a non-constant vector
		return nil
	}
	s := r.strs[i].s
	if s == nil {
		s = make([]string, len(v.StrOffsets)-1)
		r.strs[i].s = s
	}
	if row >= r.strs[i].filled {
		r.copyStrings(i, row)
	}
	return &s[row]
}

// Strings in blocks.
//
// A string handed to the application must not alias the response buffer
// (a kept string would pin the whole batch, every column of it) and must
// never change. Copying each one on its own costs one allocation per row
// and most of the garbage collector's work on a large result, so the rows
// copy the strings of consecutive rows of a column into one new block of
// at most strBlock bytes and slice it: about one allocation per strBlock
// bytes of strings. A block is written once, before any of its strings is
// handed out, and never reused. The price: a string the application keeps
// keeps its block alive, at most strBlock bytes - the same trade the Go
// runtime makes when it packs tiny allocations into one 16-byte block,
// larger but bounded per kept string and never more than the strings the
// block holds. Strings of strOwn bytes or more get their own allocation, so
// a long string never pins others and a short one never pins a long one.
const (
	strBlock = 4 << 10
	strOwn   = 256
)

// batchStrings is one column's strings of the current batch: s[j] for
// rows j < filled have been copied out of the batch.
type batchStrings struct {
	s      []string
	filled int
}

// copyStrings copies the strings of column i from row on into a new block,
// as many rows as fit, or row's own string alone if it is a long one. The
// strings of consecutive rows lie one after the other in the vector's
// StrData, so a block is one copy.
func (r *rows) copyStrings(i, row int) {
	v, bs := &r.chunk.Vectors[i], &r.strs[i]
	offs, data := v.StrOffsets, v.StrData
	n := len(offs) - 1
	start := offs[row]
	end := row
	for end < n && int(offs[end+1]-start) <= strBlock && offs[end+1]-offs[end] < strOwn {
		end++
	}
	if end == row { // a long string (or a NULL row's long bytes)
		bs.s[row] = ""
		if !v.IsNull(row) {
			bs.s[row] = string(data[start:offs[row+1]])
		}
		bs.filled = row + 1
		return
	}
	// The block is a string built once and sliced. A NULL row's bytes
	// (normally none) are copied with the others but never handed out.
	block := string(data[start:offs[end]])
	for j := row; j < end; j++ {
		if a, b := offs[j]-start, offs[j+1]-start; a < b {
			bs.s[j] = block[a:b]
		} else {
			bs.s[j] = ""
		}
	}
	bs.filled = end
}
