package e6data

import (
	"database/sql/driver"
	"strings"
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
// change afterwards. zero is the type's zero value boxed (a constant of the
// type, which the compiler boxes as static data: no call, no allocation).
func boxAt[T int32 | int64 | float64 | string](p *T, zero any) any {
	(*eface)(unsafe.Pointer(&zero)).data = unsafe.Pointer(p)
	return zero
}

// recycle prepares a delivered batch for decoding another into it: the
// vectors, null flags and string slice headers are reused, but the value
// arrays that boxAt may have handed out are dropped. The buffer the batch
// was received into is reused too (its strings were copied before they
// were handed out), unless a BINARY vector's values, which Next hands out
// as they are, alias it. Rows read a batch at a time (QueryBatches) box
// nothing: their value arrays are decoded into again.
func (r *rows) recycle(c *wire.Chunk) {
	for i := range c.Vectors {
		v := &c.Vectors[i]
		if !r.batched {
			v.Int32s, v.Int64s, v.Float64s = nil, nil, nil
		}
		if v.Type == wire.Binary {
			c.Recv = nil
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
		if row < len(v.Bytes) && !(row < len(v.Nulls) && v.Nulls[row]) { // IsNull, for a non-constant vector
			s := r.strs[i].s
			if s == nil {
				s = make([]string, len(v.Bytes))
				r.strs[i].s = s
			}
			if row >= r.strs[i].filled {
				r.copyStrings(i, row)
			}
			*dst = boxAt(&s[row], any(""))
			return true
		}
	}
	return false
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
// as many rows as fit, or row's own string alone if it is a long one.
func (r *rows) copyStrings(i, row int) {
	v, bs := &r.chunk.Vectors[i], &r.strs[i]
	src := v.Bytes
	end, n := row, 0
	for end < len(src) {
		l := len(src[end])
		if v.IsNull(end) {
			l = 0 // never delivered as a string
		}
		if l >= strOwn || n+l > strBlock {
			break
		}
		n += l
		end++
	}
	if end == row { // a long string
		bs.s[row] = string(src[row])
		bs.filled = row + 1
		return
	}
	// The block is a string built once (strings.Builder does not zero it
	// first) and sliced.
	var sb strings.Builder
	sb.Grow(n)
	for j := row; j < end; j++ {
		if !v.IsNull(j) {
			sb.Write(src[j])
		}
	}
	block, off := sb.String(), 0
	for j := row; j < end; j++ {
		if l := len(src[j]); l > 0 && !v.IsNull(j) {
			bs.s[j] = block[off : off+l]
			off += l
		} else {
			bs.s[j] = ""
		}
	}
	bs.filled = end
}
