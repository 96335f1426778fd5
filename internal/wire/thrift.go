package wire

import "encoding/binary"

// Thrift TBinaryProtocol type ids.
const (
	tStop   byte = 0
	tBool   byte = 2
	tByte   byte = 3
	tDouble byte = 4
	tI16    byte = 6
	tI32    byte = 8
	tI64    byte = 10
	tString byte = 11 // also binary
	tStruct byte = 12
	tMap    byte = 13
	tSet    byte = 14
	tList   byte = 15
)

// maxSkipDepth bounds the nesting of unknown values that are skipped, as
// Apache Thrift's own Skip does (DEFAULT_RECURSION_DEPTH).
const maxSkipDepth = 64

// minWire is the fewest bytes a value of Thrift type t occupies on the wire,
// or 0 for an unknown type.
func minWire(t byte) int {
	switch t {
	case tBool, tByte:
		return 1
	case tI16:
		return 2
	case tI32, tString: // a string is at least its i32 length
		return 4
	case tI64, tDouble:
		return 8
	case tStruct: // at least the STOP byte
		return 1
	case tMap: // key type, value type, i32 count
		return 6
	case tSet, tList: // element type, i32 count
		return 5
	}
	return 0
}

// fixedWire reports whether every value of type t has the size minWire(t).
func fixedWire(t byte) bool {
	switch t {
	case tBool, tByte, tI16, tI32, tI64, tDouble:
		return true
	}
	return false
}

var typeNames = [...]string{tStop: "STOP", tBool: "BOOL", tByte: "BYTE", tDouble: "DOUBLE", tI16: "I16",
	tI32: "I32", tI64: "I64", tString: "STRING", tStruct: "STRUCT", tMap: "MAP", tSet: "SET", tList: "LIST"}

func typeName(t byte) string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return "type " + itoa(int(t))
}

// decoder reads Thrift binary values from b, advancing off. Every method
// checks bounds; none panics on any input.
type decoder struct {
	b       []byte
	off     int
	compact bool // lists of strings into Vector.StrOffsets and StrData (DecodeChunkCompact)
}

func (d *decoder) left() int { return len(d.b) - d.off }

func (d *decoder) malformedAt(off int, what string) error {
	return &DecodeError{Offset: off, What: what}
}

func (d *decoder) truncatedAt(off int, what string) error {
	return &DecodeError{Offset: off, What: what, Truncated: true}
}

// short is the error for a value of n bytes that does not fit.
func (d *decoder) short(n int, what string) error {
	return d.truncatedAt(d.off, what+": needs "+itoa(n)+" bytes, "+itoa(d.left())+" left")
}

func (d *decoder) advance(n int, what string) error {
	if n > d.left() {
		return d.short(n, what)
	}
	d.off += n
	return nil
}

func (d *decoder) byte1(what string) (byte, error) {
	if d.off >= len(d.b) {
		return 0, d.short(1, what)
	}
	v := d.b[d.off]
	d.off++
	return v, nil
}

// bool reads a Thrift bool; like Apache Thrift, only the byte 1 is true.
func (d *decoder) bool(what string) (bool, error) {
	v, err := d.byte1(what)
	return v == 1, err
}

func (d *decoder) i32(what string) (int32, error) {
	if d.left() < 4 {
		return 0, d.short(4, what)
	}
	v := int32(binary.BigEndian.Uint32(d.b[d.off:]))
	d.off += 4
	return v, nil
}

func (d *decoder) i64(what string) (int64, error) {
	if d.left() < 8 {
		return 0, d.short(8, what)
	}
	v := int64(binary.BigEndian.Uint64(d.b[d.off:]))
	d.off += 8
	return v, nil
}

// binary reads a Thrift string/binary. The result aliases the input, with
// its capacity cut to its length.
func (d *decoder) binary(what string) ([]byte, error) {
	at := d.off
	n, err := d.i32(what)
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, d.malformedAt(at, what+": negative length "+itoa(int(n)))
	}
	if int(n) > d.left() {
		return nil, d.short(int(n), what)
	}
	s := d.b[d.off : d.off+int(n) : d.off+int(n)]
	d.off += int(n)
	return s, nil
}

// field reads a field header. At STOP, id is 0.
func (d *decoder) field(what string) (typ byte, id int16, err error) {
	if d.off >= len(d.b) {
		return 0, 0, d.truncatedAt(d.off, what+": input ends before the STOP byte")
	}
	typ = d.b[d.off]
	if typ == tStop {
		d.off++
		return tStop, 0, nil
	}
	if d.left() < 3 {
		return 0, 0, d.short(3, what+" field header")
	}
	id = int16(binary.BigEndian.Uint16(d.b[d.off+1:]))
	d.off += 3
	return typ, id, nil
}

// list reads a list header whose elements must be of type elem, and checks
// that n elements of elem's minimum size fit in the rest of the input, so
// that a caller may allocate n elements.
func (d *decoder) list(elem byte, what string) (int, error) {
	return d.listMin(elem, minWire(elem), what)
}

// listMin is list with a caller-given minimum element size.
func (d *decoder) listMin(elem byte, min int, what string) (int, error) {
	at := d.off
	if d.left() < 5 {
		return 0, d.short(5, what+" list header")
	}
	et := d.b[d.off]
	n := int32(binary.BigEndian.Uint32(d.b[d.off+1:]))
	if et != elem {
		return 0, d.malformedAt(at, what+": list of "+typeName(et)+", want list of "+typeName(elem))
	}
	if n < 0 {
		return 0, d.malformedAt(at, what+": negative list length "+itoa(int(n)))
	}
	d.off += 5
	if int(n) > d.left()/min {
		return 0, d.truncatedAt(at, what+": list of "+itoa(int(n))+" elements cannot fit in the "+itoa(d.left())+" bytes left")
	}
	return int(n), nil
}

// skip skips one value of type t, as Apache Thrift's Skip(t, depth) does.
func (d *decoder) skip(t byte, depth int) error {
	if depth <= 0 {
		return d.malformedAt(d.off, "values nested more than 64 deep")
	}
	switch t {
	case tBool, tByte, tI16, tI32, tI64, tDouble:
		return d.advance(minWire(t), "skipped "+typeName(t))
	case tString:
		_, err := d.binary("skipped string")
		return err
	case tStruct:
		for {
			ft, _, err := d.field("skipped struct")
			if err != nil {
				return err
			}
			if ft == tStop {
				return nil
			}
			if err := d.skip(ft, depth-1); err != nil {
				return err
			}
		}
	case tMap:
		at := d.off
		if d.left() < 6 {
			return d.short(6, "skipped map header")
		}
		kt, vt := d.b[d.off], d.b[d.off+1]
		n := int32(binary.BigEndian.Uint32(d.b[d.off+2:]))
		if minWire(kt) == 0 || minWire(vt) == 0 {
			return d.malformedAt(at, "skipped map of unknown "+typeName(kt)+" to "+typeName(vt))
		}
		if n < 0 {
			return d.malformedAt(at, "skipped map: negative length "+itoa(int(n)))
		}
		d.off += 6
		per := minWire(kt) + minWire(vt)
		if int(n) > d.left()/per {
			return d.truncatedAt(at, "skipped map of "+itoa(int(n))+" entries cannot fit in the "+itoa(d.left())+" bytes left")
		}
		if n > 0 && depth <= 1 {
			return d.malformedAt(d.off, "values nested more than 64 deep")
		}
		if fixedWire(kt) && fixedWire(vt) {
			d.off += int(n) * per
			return nil
		}
		for range n {
			if err := d.skip(kt, depth-1); err != nil {
				return err
			}
			if err := d.skip(vt, depth-1); err != nil {
				return err
			}
		}
		return nil
	case tSet, tList:
		at := d.off
		if d.left() < 5 {
			return d.short(5, "skipped list header")
		}
		et := d.b[d.off]
		if minWire(et) == 0 {
			return d.malformedAt(at, "skipped list of unknown "+typeName(et))
		}
		n, err := d.list(et, "skipped list")
		if err != nil {
			return err
		}
		if n > 0 && depth <= 1 {
			return d.malformedAt(d.off, "values nested more than 64 deep")
		}
		if fixedWire(et) {
			d.off += n * minWire(et)
			return nil
		}
		for range n {
			if err := d.skip(et, depth-1); err != nil {
				return err
			}
		}
		return nil
	}
	return d.malformedAt(d.off, "unknown Thrift "+typeName(t))
}
