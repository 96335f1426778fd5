package wire_test

import (
	"errors"
	"testing"

	"github.com/e6go/e6data/internal/wire"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func TestVectorTypeNames(t *testing.T) {
	cases := []struct {
		t    wire.VectorType
		wire int32
		name string
	}{
		{wire.Binary, 0, "BINARY"}, {wire.Boolean, 1, "BOOLEAN"}, {wire.Double, 2, "DOUBLE"},
		{wire.Float, 3, "FLOAT"}, {wire.Int96, 4, "INT96"}, {wire.Integer, 5, "INTEGER"},
		{wire.Long, 6, "LONG"}, {wire.String, 7, "STRING"}, {wire.Date, 8, "DATE"},
		{wire.DateTime, 9, "DATETIME"}, {wire.Timestamp, 10, "TIMESTAMP"}, {wire.Struct, 11, "STRUCT"},
		{wire.Map, 12, "MAP"}, {wire.Array, 13, "ARRAY"}, {wire.Null, 14, "NULL"},
		{wire.TimestampTZ, 15, "TIMESTAMP_TZ"}, {wire.Decimal128, 16, "DECIMAL128"},
	}
	for _, c := range cases {
		if int32(c.t) != c.wire {
			t.Errorf("%s = %d, want %d", c.name, c.t, c.wire)
		}
		if c.t.String() != c.name {
			t.Errorf("VectorType(%d).String() = %q, want %q", c.wire, c.t.String(), c.name)
		}
		for _, s := range []string{c.name, toLower(c.name)} {
			if got, ok := wire.ParseVectorType(s); !ok || got != c.t {
				t.Errorf("ParseVectorType(%q) = %v, %v", s, got, ok)
			}
		}
	}
	for _, s := range []string{"", "LONGER", "timestamp tz", "DECIMAL"} {
		if _, ok := wire.ParseVectorType(s); ok {
			t.Errorf("ParseVectorType(%q) accepted", s)
		}
	}
	if s := wire.VectorType(17).String(); s != "VectorType(17)" {
		t.Errorf("unknown type prints %q", s)
	}
	if s := wire.VectorType(-1).String(); s != "VectorType(-1)" {
		t.Errorf("negative type prints %q", s)
	}
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func TestDecodeErrorMatching(t *testing.T) {
	trunc := &wire.DecodeError{Offset: 3, What: "x", Truncated: true}
	bad := &wire.DecodeError{Offset: 9, What: "y"}
	if !errors.Is(trunc, wire.ErrMalformed) || !errors.Is(trunc, wire.ErrTruncated) {
		t.Error("truncation must match both sentinels")
	}
	if !errors.Is(bad, wire.ErrMalformed) || errors.Is(bad, wire.ErrTruncated) {
		t.Error("malformed must match ErrMalformed only")
	}
	if errors.Unwrap(trunc) != wire.ErrTruncated || errors.Unwrap(bad) != wire.ErrMalformed {
		t.Error("Unwrap")
	}
	if got := bad.Error(); got != "wire: malformed input at byte 9: y" {
		t.Errorf("Error() = %q", got)
	}
	if got := trunc.Error(); got != "wire: truncated input at byte 3: x" {
		t.Errorf("Error() = %q", got)
	}
}
