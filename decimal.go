package e6data

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Decimal is an exact decimal number as text ("-123.4500"), the value the
// connector returns for DECIMAL128 columns (up to 38 significant digits, any
// scale). Being a string type, it scans straight into *string, *float64 and
// *Decimal; Rat gives it as a *big.Rat, and RatScanner scans into one. It
// implements the decimal decomposition interface of database/sql, so
// decimal types that implement Compose (e.g. apd.Decimal) accept it too.
type Decimal string

// ParseDecimal checks s ("-12.50", "+3", "1.5e-3") and returns it as a
// Decimal in canonical form: no exponent, no '+', no superfluous leading
// zeros, the fraction digits kept as written (the scale is preserved).
func ParseDecimal(s string) (Decimal, error) {
	bad := func() (Decimal, error) { return "", fmt.Errorf("e6data: %q is not a decimal number", s) }
	t := strings.TrimSpace(s)
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg, t = t[0] == '-', t[1:]
	}
	mant, exp := t, 0
	if i := strings.IndexAny(t, "eE"); i >= 0 {
		e, err := strconv.Atoi(t[i+1:])
		if err != nil || e > 400 || e < -400 {
			return bad()
		}
		mant, exp = t[:i], e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" && frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return bad()
	}
	digits, point := intPart+frac, len(intPart)+exp
	if point < 0 {
		digits, point = strings.Repeat("0", -point)+digits, 0
	}
	if point > len(digits) {
		digits += strings.Repeat("0", point-len(digits))
	}
	out := strings.TrimLeft(digits[:point], "0")
	if out == "" {
		out = "0"
	}
	if fp := digits[point:]; fp != "" {
		out += "." + fp
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return Decimal(out), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Rat returns d as an exact rational; ok is false if d is not a number.
func (d Decimal) Rat() (r *big.Rat, ok bool) { return new(big.Rat).SetString(string(d)) }

// Float64 returns the nearest float64.
func (d Decimal) Float64() (float64, error) { return strconv.ParseFloat(string(d), 64) }

// String returns the decimal text.
func (d Decimal) String() string { return string(d) }

// Decompose implements database/sql's decimal decomposition: form 0 (finite),
// sign, big-endian coefficient and base-10 exponent. A d that is not a
// number gives form 2 (NaN). The coefficient is appended to buf[:0].
func (d Decimal) Decompose(buf []byte) (form byte, negative bool, coefficient []byte, exponent int32) {
	c, err := ParseDecimal(string(d))
	if err != nil {
		return 2, false, nil, 0
	}
	s := string(c)
	if strings.HasPrefix(s, "-") {
		negative, s = true, s[1:]
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		exponent = -int32(len(s) - i - 1)
		s = s[:i] + s[i+1:]
	}
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return 2, false, nil, 0
	}
	return 0, negative, append(buf[:0], n.Bytes()...), exponent
}

// RatScanner returns a sql.Scanner that stores a DECIMAL (or any numeric)
// column into r: rows.Scan(e6data.RatScanner(r)).
func RatScanner(r *big.Rat) interface{ Scan(any) error } { return ratScanner{r} }

type ratScanner struct{ r *big.Rat }

func (s ratScanner) Scan(src any) error {
	switch v := src.(type) {
	case Decimal:
		if _, ok := s.r.SetString(string(v)); ok {
			return nil
		}
	case string:
		if _, ok := s.r.SetString(v); ok {
			return nil
		}
	case int64:
		s.r.SetInt64(v)
		return nil
	case int32:
		s.r.SetInt64(int64(v))
		return nil
	case float64:
		if s.r.SetFloat64(v) != nil {
			return nil
		}
	case nil:
		return fmt.Errorf("e6data: cannot scan NULL into *big.Rat")
	}
	return fmt.Errorf("e6data: cannot scan %T (%v) into *big.Rat", src, src)
}
