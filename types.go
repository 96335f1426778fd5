package e6data

import (
	"database/sql/driver"
	"fmt"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/e6go/e6data/internal/wire"
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
