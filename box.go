package e6data

import (
	"database/sql/driver"
	"unsafe"

	"github.com/e6go/e6data/internal/wire"
)

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
// change afterwards.
func boxAt[T int32 | int64 | float64 | string](p *T) any {
	var zero T
	v := any(zero) // the zero value of these types is boxed without allocating
	(*eface)(unsafe.Pointer(&v)).data = unsafe.Pointer(p)
	return v
}

// recycle prepares a delivered batch for decoding another into it: the
// vectors, null flags and string slice headers are reused, but the value
// arrays that boxAt may have handed out are dropped.
func recycle(c *wire.Chunk) {
	for i := range c.Vectors {
		v := &c.Vectors[i]
		v.Int32s, v.Int64s, v.Float64s = nil, nil, nil
	}
}

// fastValue stores row of column i of the current batch in *dst without
// allocating for INTEGER, LONG and DOUBLE, and with one allocation (the
// string's bytes) for STRING, ARRAY, MAP and STRUCT. It reports false for
// every other case, which valueAt handles.
func (r *rows) fastValue(i, row int, dst *driver.Value) bool {
	v := &r.chunk.Vectors[i]
	if v.Constant {
		return false
	}
	switch v.Type {
	case wire.Long:
		if row < len(v.Int64s) && !v.IsNull(row) {
			*dst = boxAt(&v.Int64s[row])
			return true
		}
	case wire.Double:
		if row < len(v.Float64s) && !v.IsNull(row) {
			*dst = boxAt(&v.Float64s[row])
			return true
		}
	case wire.Integer:
		if row < len(v.Int32s) && !v.IsNull(row) {
			*dst = boxAt(&v.Int32s[row])
			return true
		}
	case wire.String, wire.Array, wire.Map, wire.Struct:
		if row < len(v.Bytes) && !v.IsNull(row) {
			s := r.strs[i]
			if s == nil {
				s = make([]string, len(v.Bytes))
				r.strs[i] = s
			}
			s[row] = string(v.Bytes[row])
			*dst = boxAt(&s[row])
			return true
		}
	}
	return false
}
