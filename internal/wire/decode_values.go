package wire

// Decoding the Data union of a vector (the Thrift members, one per value
// type) into its value slices.

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// decodeData reads the union Data into v's value slices and p.
func decodeData(d *decoder, v *Vector, p *payload, oldZones []string) error {
	for {
		t, id, err := d.field("Data")
		if err != nil {
			return err
		}
		if t == tStop {
			return nil
		}
		if t != tStruct || id < 1 || id > maxMember {
			if err := d.skip(t, maxSkipDepth); err != nil {
				return err
			}
			continue
		}
		m := int(id)
		// A repeated member replaces the earlier one, as in Thrift.
		if p.members&(1<<m) != 0 {
			resetValues(v)
			p.haveValue = false
		}
		p.members |= 1 << m
		p.member = m
		if err := decodeMember(d, v, p, m, oldZones); err != nil {
			return err
		}
	}
}

// memberField gives, for each member, the wire type of its field 1 and,
// for lists, the element type.
var memberField = [maxMember + 1]struct{ typ, elem byte }{
	mBool: {tList, tBool}, mInt32: {tList, tI32}, mInt64: {tList, tI64}, mDate: {tList, tI64},
	mFloat32: {tList, tDouble}, mFloat64: {tList, tDouble}, mVarchar: {tList, tString},
	mBoolConst: {tBool, 0}, mDateConst: {tI64, 0}, mNullConst: {tByte, 0}, mNumericConst: {tI64, 0},
	mDoubleConst: {tDouble, 0}, mIntervalConst: {tByte, 0}, mTimeConst: {tI64, 0},
	mVarcharConst: {tString, 0}, mTime: {tList, tI64}, mDecimal: {tList, tString},
	mDecimalConst: {tString, 0},
}

func decodeMember(d *decoder, v *Vector, p *payload, m int, oldZones []string) error {
	name := memberNames[m]
	want := memberField[m]
	for {
		t, id, err := d.field(name)
		if err != nil {
			return err
		}
		if t == tStop {
			return nil
		}
		switch {
		case id == 1 && t == want.typ:
			if err := decodeMemberValue(d, v, p, m); err != nil {
				return err
			}
		case id == 2 && t == tList && m == mTime:
			if v.Zones, err = d.zones(oldZones, "timeData.zoneData"); err != nil {
				return err
			}
		case id == 2 && t == tString && m == mTimeConst:
			s, err := d.binary("timeConstantData.zoneData")
			if err != nil {
				return err
			}
			old := ""
			if len(oldZones) > 0 {
				old = oldZones[0]
			}
			v.Zones = append(oldZones[:0], intern(s, old))
		case id == 2 && t == tI32 && (m == mDecimal || m == mDecimalConst):
			if v.Scale, err = d.i32(name + ".scale"); err != nil {
				return err
			}
		default:
			if err := d.skip(t, maxSkipDepth); err != nil {
				return err
			}
		}
	}
}

func decodeMemberValue(d *decoder, v *Vector, p *payload, m int) (err error) {
	switch m {
	case mBool:
		v.Bools, err = d.bools(v.Bools, "boolData")
	case mInt32:
		v.Int32s, err = d.int32s(v.Int32s, "int32Data")
	case mInt64, mDate, mTime:
		v.Int64s, err = d.int64s(v.Int64s, memberNames[m])
	case mFloat32, mFloat64:
		v.Float64s, err = d.float64s(v.Float64s, memberNames[m])
	case mVarchar:
		if d.compact {
			spare := v.StrSpare
			v.StrSpare = nil
			v.StrOffsets, v.StrData, err = d.compactBinaries(v.StrOffsets, spare, "varcharData")
		} else {
			v.Bytes, err = d.binaries(v.Bytes, "varcharData")
		}
	case mDecimal:
		v.Decimals, err = d.decimals(v.Decimals, p, "decimal128Data")
	case mBoolConst:
		var b bool
		if b, err = d.bool(memberNames[m]); err == nil {
			v.Bools = append(v.Bools[:0], b)
			p.haveValue = true
		}
	case mDateConst, mNumericConst, mTimeConst:
		if p.i64, err = d.i64(memberNames[m]); err == nil {
			p.haveValue = true
		}
	case mDoubleConst:
		var x int64
		if x, err = d.i64(memberNames[m]); err == nil {
			v.Float64s = append(v.Float64s[:0], math.Float64frombits(uint64(x)))
			p.haveValue = true
		}
	case mVarcharConst:
		var s []byte
		if s, err = d.binary(memberNames[m]); err == nil {
			v.Bytes = append(v.Bytes[:0], s)
			p.haveValue = true
		}
	case mDecimalConst:
		at := d.off
		var s []byte
		if s, err = d.binary(memberNames[m]); err == nil {
			p.decForm, p.decScale = nil, nil
			var x Dec128
			if x, err = d.decimal(s, at, 0, 1, p, memberNames[m]); err != nil {
				return err
			}
			v.Decimals = append(v.Decimals[:0], x)
			p.haveValue = true
		}
	case mNullConst, mIntervalConst:
		_, err = d.byte1(memberNames[m])
		p.haveValue = err == nil
	}
	return err
}

// bools reads a list<bool>. A Thrift bool is one byte, 1 for true; when
// every byte is 0 or 1 (what every encoder writes) the result aliases the
// input, with its capacity cut to its length, and costs no allocation.
// Otherwise it is a new slice (dst is never written to: it may alias an
// earlier input).
func (d *decoder) bools(dst []bool, what string) ([]bool, error) {
	n, err := d.list(tBool, what)
	if err != nil {
		return dst[:0], err
	}
	src := d.b[d.off : d.off+n : d.off+n]
	d.off += n
	if n == 0 {
		return nil, nil
	}
	if canonicalBools(src) {
		return unsafe.Slice((*bool)(unsafe.Pointer(unsafe.SliceData(src))), n), nil
	}
	out := make([]bool, n)
	for i, c := range src {
		out[i] = c == 1
	}
	return out, nil
}

// canonicalBools reports whether every byte of b is 0 or 1, eight at a time.
func canonicalBools(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&0xfefefefefefefefe != 0 {
			return false
		}
	}
	for ; i < len(b); i++ {
		if b[i] > 1 {
			return false
		}
	}
	return true
}

func (d *decoder) int32s(dst []int32, what string) ([]int32, error) {
	n, err := d.list(tI32, what)
	if err != nil {
		return dst[:0], err
	}
	dst = resizeNoZero(dst, n)
	src := d.b[d.off : d.off+4*n]
	for i := range dst {
		dst[i] = int32(binary.BigEndian.Uint32(src[4*i:]))
	}
	d.off += 4 * n
	return dst, nil
}

func (d *decoder) int64s(dst []int64, what string) ([]int64, error) {
	n, err := d.list(tI64, what)
	if err != nil {
		return dst[:0], err
	}
	dst = resizeNoZero(dst, n)
	src := d.b[d.off : d.off+8*n]
	for i := range dst {
		dst[i] = int64(binary.BigEndian.Uint64(src[8*i:]))
	}
	d.off += 8 * n
	return dst, nil
}

func (d *decoder) float64s(dst []float64, what string) ([]float64, error) {
	n, err := d.list(tDouble, what)
	if err != nil {
		return dst[:0], err
	}
	dst = resizeNoZero(dst, n)
	src := d.b[d.off : d.off+8*n]
	for i := range dst {
		dst[i] = math.Float64frombits(binary.BigEndian.Uint64(src[8*i:]))
	}
	d.off += 8 * n
	return dst, nil
}

// binaries reads a list<string>, each element aliasing the input.
func (d *decoder) binaries(dst [][]byte, what string) ([][]byte, error) {
	n, err := d.list(tString, what)
	if err != nil {
		return dst[:0], err
	}
	dst = resize(dst, n)
	b, off := d.b, d.off
	for i := range dst {
		if len(b)-off < 4 {
			d.off = off
			return dst[:0], d.short(4, what+" element length")
		}
		l := int(int32(binary.BigEndian.Uint32(b[off:])))
		if l < 0 {
			d.off = off
			return dst[:0], d.malformedAt(off, what+": negative string length "+itoa(l))
		}
		off += 4
		if l > len(b)-off {
			d.off = off
			return dst[:0], d.short(l, what+" element")
		}
		dst[i] = b[off : off+l : off+l]
		off += l
	}
	d.off = off
	return dst, nil
}

// compactBinaries reads a list<string> into one data buffer (the values
// one after the other) and offsets: value i is data[offs[i]:offs[i+1]]. It
// checks every length first, so that the data is allocated once at its
// size, and fails exactly where binaries fails. The data buffer is spare
// when it is large enough, a new slice otherwise (with room to spare when
// a spare was offered: the caller reuses its buffers).
func (d *decoder) compactBinaries(offs []int32, spare []byte, what string) ([]int32, []byte, error) {
	n, err := d.list(tString, what)
	if err != nil {
		return offs[:0], nil, err
	}
	b, off := d.b, d.off
	total := 0
	for range n {
		if len(b)-off < 4 {
			d.off = off
			return offs[:0], nil, d.short(4, what+" element length")
		}
		l := int(int32(binary.BigEndian.Uint32(b[off:])))
		if l < 0 {
			d.off = off
			return offs[:0], nil, d.malformedAt(off, what+": negative string length "+itoa(l))
		}
		off += 4
		if l > len(b)-off {
			d.off = off
			return offs[:0], nil, d.short(l, what+" element")
		}
		off += l
		total += l
	}
	if total > math.MaxInt32 {
		return offs[:0], nil, d.malformedAt(d.off, what+": "+itoa(total)+" bytes of strings, more than offsets of 32 bits can address")
	}
	offs = resizeNoZero(offs, n+1)
	var data []byte
	switch {
	case spare == nil:
		data = noZeroBytes(total)
	case cap(spare) >= total:
		data = spare[:total]
	default: // to be reused: room for a slightly larger next batch
		data = noZeroBytes(total + total/8)[:total]
	}
	off, at := d.off, 0
	offs[0] = 0
	for i := range n {
		l := int(binary.BigEndian.Uint32(b[off:]))
		off += 4
		copyShort(data[at:at+l], b[off:off+l])
		at += l
		off += l
		offs[i+1] = int32(at)
	}
	d.off = off
	if data == nil {
		data = []byte{}
	}
	return offs, data, nil
}

// copyShort is copy(dst, src) for len(dst) == len(src), without a call
// for the short strings results are mostly made of: two overlapping loads
// and stores, never outside either slice.
func copyShort(dst, src []byte) {
	switch l := len(src); {
	case l >= 8 && l <= 16:
		binary.LittleEndian.PutUint64(dst, binary.LittleEndian.Uint64(src))
		binary.LittleEndian.PutUint64(dst[l-8:], binary.LittleEndian.Uint64(src[l-8:]))
	case l >= 4 && l < 8:
		binary.LittleEndian.PutUint32(dst, binary.LittleEndian.Uint32(src))
		binary.LittleEndian.PutUint32(dst[l-4:], binary.LittleEndian.Uint32(src[l-4:]))
	default:
		copy(dst, src)
	}
}

func (d *decoder) decimals(dst []Dec128, p *payload, what string) ([]Dec128, error) {
	n, err := d.list(tString, what)
	if err != nil {
		return dst[:0], err
	}
	p.decForm, p.decScale = nil, nil
	dst = resize(dst, n)
	for i := range dst {
		at := d.off
		s, err := d.binary(what)
		if err != nil {
			return dst[:0], err
		}
		if dst[i], err = d.decimal(s, at, i, n, p, what); err != nil {
			return dst[:0], err
		}
	}
	return dst, nil
}

// decimal reads DECIMAL128 value i (of n) in any of its forms: no bytes
// (NULL), UTF-8 decimal text ("123.45", "-0.5", "1E+3": any length but 16
// whose bytes are all decimal-literal characters and which parses), or
// 1..16 bytes of big-endian two's complement. The forms other than binary
// are noted in p, for checkVector to settle the scale.
func (d *decoder) decimal(s []byte, at, i, n int, p *payload, what string) (Dec128, error) {
	if len(s) == 0 {
		p.note(i, n, decEmpty, 0)
		return Dec128{}, nil
	}
	if len(s) != maxDecimalLength && decimalLiteral(s) {
		if x, scale, err := ParseDec128(string(s)); err == nil {
			if scale < -maxDecimalScale || scale > maxDecimalScale {
				return Dec128{}, d.malformedAt(at, what+": value "+itoa(i)+" has scale "+itoa(int(scale))+", outside [-1000, 1000]")
			}
			p.note(i, n, decText, scale)
			return x, nil
		}
	}
	if len(s) > maxDecimalLength {
		// Read only if its row is not NULL: checkVector decides.
		p.note(i, n, decInvalid, int32(min(len(s), math.MaxInt32)))
		return Dec128{}, nil
	}
	return dec128FromBytes(s), nil
}

// decimalLiteral reports whether every byte of s may appear in a decimal
// literal: digits, signs, a point and an exponent mark.
func decimalLiteral(s []byte) bool {
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9', c == '+', c == '-', c == '.', c == 'e', c == 'E':
		default:
			return false
		}
	}
	return true
}

// zones reads a list<string> of zone names into old's storage. Runs of the
// same zone (and zones equal to the ones decoded last time) share one string.
func (d *decoder) zones(old []string, what string) ([]string, error) {
	n, err := d.list(tString, what)
	if err != nil {
		return nil, err
	}
	dst := resize(old[:0], n)
	prev := ""
	for i := range dst {
		s, err := d.binary(what)
		if err != nil {
			return nil, err
		}
		switch {
		case i > 0 && string(s) == prev:
			dst[i] = prev
		case i < len(old) && string(s) == old[i]:
			dst[i] = old[i]
		default:
			dst[i] = string(s)
		}
		prev = dst[i]
	}
	return dst, nil
}
