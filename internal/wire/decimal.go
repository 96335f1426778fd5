package wire

import (
	"encoding/binary"
	"errors"
	"math"
	"math/big"
	"math/bits"
	"strconv"
)

// Dec128 is a DECIMAL128 unscaled value: a 128-bit two's-complement integer
// whose high 64 bits are Hi (with the sign) and low 64 bits are Lo. The
// decimal value is the integer divided by 10^scale, the scale travelling
// separately (Vector.Scale).
type Dec128 struct {
	Hi int64
	Lo uint64
}

// Dec128FromInt64 returns the Dec128 holding v.
func Dec128FromInt64(v int64) Dec128 { return Dec128{Hi: v >> 63, Lo: uint64(v)} }

// errDecRange is returned when a value needs more than 128 bits.
var errDecRange = errors.New("wire: value does not fit in a 128-bit decimal")

// Dec128FromBig converts x, which must lie in [-2^127, 2^127-1].
func Dec128FromBig(x *big.Int) (Dec128, error) {
	if x == nil {
		return Dec128{}, errors.New("wire: nil *big.Int")
	}
	neg := x.Sign() < 0
	n := x.BitLen() // of |x|
	if neg {
		if n > 128 || (n == 128 && x.TrailingZeroBits() != 127) {
			return Dec128{}, errDecRange
		}
	} else if n > 127 {
		return Dec128{}, errDecRange
	}
	var buf [16]byte
	x.FillBytes(buf[:]) // |x|, fits: n <= 128
	hi, lo := binary.BigEndian.Uint64(buf[:8]), binary.BigEndian.Uint64(buf[8:])
	if neg {
		hi, lo = neg128(hi, lo)
	}
	return Dec128{Hi: int64(hi), Lo: lo}, nil
}

// neg128 returns the two's-complement negation of (hi, lo).
func neg128(hi, lo uint64) (uint64, uint64) {
	lo, borrow := bits.Sub64(0, lo, 0)
	hi, _ = bits.Sub64(0, hi, borrow)
	return hi, lo
}

// abs returns the magnitude of d as an unsigned 128-bit number (2^127 for
// the most negative value) and whether d is negative.
func (d Dec128) abs() (hi, lo uint64, neg bool) {
	if d.Hi < 0 {
		hi, lo = neg128(uint64(d.Hi), d.Lo)
		return hi, lo, true
	}
	return uint64(d.Hi), d.Lo, false
}

// Big returns d as a new *big.Int.
func (d Dec128) Big() *big.Int {
	hi, lo, neg := d.abs()
	var buf [16]byte
	binary.BigEndian.PutUint64(buf[:8], hi)
	binary.BigEndian.PutUint64(buf[8:], lo)
	z := new(big.Int).SetBytes(buf[:])
	if neg {
		z.Neg(z)
	}
	return z
}

// Sign returns -1, 0 or +1.
func (d Dec128) Sign() int {
	switch {
	case d.Hi < 0:
		return -1
	case d.Hi == 0 && d.Lo == 0:
		return 0
	}
	return 1
}

// scaleUp returns d * 10^k (k >= 0), reporting false when that leaves
// the 128-bit range.
func (d Dec128) scaleUp(k int32) (Dec128, bool) {
	if k <= 0 || d.Sign() == 0 {
		return d, true
	}
	if k > 39 {
		return Dec128{}, false
	}
	x := d.Big()
	x.Mul(x, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k)), nil))
	r, err := Dec128FromBig(x)
	return r, err == nil
}

// appendBytes16 appends d as 16 big-endian two's-complement bytes.
func (d Dec128) appendBytes16(dst []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(d.Hi))
	return binary.BigEndian.AppendUint64(dst, d.Lo)
}

// dec128FromBytes sign-extends 1..16 big-endian two's-complement bytes.
func dec128FromBytes(p []byte) Dec128 {
	if len(p) == 16 {
		return Dec128{Hi: int64(binary.BigEndian.Uint64(p)), Lo: binary.BigEndian.Uint64(p[8:])}
	}
	var buf [16]byte
	if p[0]&0x80 != 0 {
		for i := range 16 - len(p) {
			buf[i] = 0xff
		}
	}
	copy(buf[16-len(p):], p)
	return Dec128{Hi: int64(binary.BigEndian.Uint64(buf[:])), Lo: binary.BigEndian.Uint64(buf[8:])}
}

const pow19 = 10_000_000_000_000_000_000 // 10^19, the largest power of ten in a uint64

// appendDigits appends the decimal digits of the unsigned 128-bit (hi, lo),
// without leading zeros ("0" for zero). It needs no allocation.
func appendDigits(dst []byte, hi, lo uint64) []byte {
	var buf [40]byte // 2^128 has 39 digits
	i := len(buf)
	for hi != 0 {
		var r uint64
		qhi := hi / pow19
		lo, r = bits.Div64(hi%pow19, lo, pow19)
		hi = qhi
		for range 19 {
			i--
			buf[i] = byte('0' + r%10)
			r /= 10
		}
	}
	for {
		i--
		buf[i] = byte('0' + lo%10)
		lo /= 10
		if lo == 0 {
			break
		}
	}
	return append(dst, buf[i:]...)
}

// AppendFormat appends the exact decimal text of d / 10^scale: "-123.45"
// for -12345 at scale 2, an integer for scale 0, and for a negative scale
// the integer followed by -scale zeros (zero itself stays "0"). There is no
// exponent form and no rounding, for the whole 128-bit range; the caller
// bounds the scale (text grows with |scale|).
func (d Dec128) AppendFormat(dst []byte, scale int32) []byte {
	hi, lo, neg := d.abs()
	if neg {
		dst = append(dst, '-')
	}
	start := len(dst)
	dst = appendDigits(dst, hi, lo)
	n := len(dst) - start
	switch {
	case scale == 0:
	case scale < 0:
		if hi == 0 && lo == 0 {
			break
		}
		for range -int64(scale) {
			dst = append(dst, '0')
		}
	case int64(scale) >= int64(n):
		// 0.000ddd: shift the digits right by 2+scale-n.
		pad := 2 + int(scale) - n
		for range pad {
			dst = append(dst, 0)
		}
		copy(dst[start+pad:], dst[start:start+n])
		dst[start], dst[start+1] = '0', '.'
		for i := start + 2; i < start+pad; i++ {
			dst[i] = '0'
		}
	default:
		p := start + n - int(scale) // position of the point
		dst = append(dst, 0)
		copy(dst[p+1:], dst[p:start+n])
		dst[p] = '.'
	}
	return dst
}

// Format returns AppendFormat(nil, scale) as a string.
func (d Dec128) Format(scale int32) string {
	var buf [48]byte
	return string(d.AppendFormat(buf[:0], scale))
}

// ParseDec128 parses decimal text: an optional sign, digits with at most one
// '.', and an optional exponent (e or E, optional sign, digits). The result
// is the unscaled integer and the scale, such that value = d / 10^scale;
// "-123.45" gives (-12345, 2), "1.5E3" gives (15, -2). The unscaled value
// must lie in the 128-bit two's-complement range.
func ParseDec128(s string) (d Dec128, scale int32, err error) {
	fail := func(what string) (Dec128, int32, error) {
		return Dec128{}, 0, errors.New("wire: parsing decimal " + quoteShort(s) + ": " + what)
	}
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var hi, lo uint64
	digits, frac := 0, int64(0)
	point := false
	for ; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			if point {
				return fail("two decimal points")
			}
			point = true
			continue
		}
		if c < '0' || c > '9' {
			break
		}
		digits++
		if point {
			frac++
		}
		// (hi, lo) = (hi, lo)*10 + digit, refusing to pass 2^127.
		h1, l1 := bits.Mul64(lo, 10)
		h2, h3 := bits.Mul64(hi, 10)
		var carry uint64
		h3, carry = bits.Add64(h3, h1, 0)
		if h2 != 0 || carry != 0 {
			return fail("out of the 128-bit range")
		}
		lo, carry = bits.Add64(l1, uint64(c-'0'), 0)
		hi = h3 + carry
		if hi > 1<<63 || (hi == 1<<63 && (lo != 0 || !neg)) || hi < h3 {
			return fail("out of the 128-bit range")
		}
	}
	if digits == 0 {
		return fail("no digits")
	}
	exp := int64(0)
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return fail("no exponent digits")
		}
		for ; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				break
			}
			exp = exp*10 + int64(c-'0')
			if exp > math.MaxInt32 {
				return fail("exponent out of range")
			}
		}
		if eneg {
			exp = -exp
		}
	}
	if i != len(s) {
		return fail("unexpected character " + quoteShort(s[i:i+1]))
	}
	sc := frac - exp
	if sc < math.MinInt32 || sc > math.MaxInt32 {
		return fail("scale out of range")
	}
	if neg {
		hi, lo = neg128(hi, lo)
	}
	return Dec128{Hi: int64(hi), Lo: lo}, int32(sc), nil
}

// quoteShort quotes s for an error message, cut to a readable length.
func quoteShort(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
