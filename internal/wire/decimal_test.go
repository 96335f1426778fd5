package wire_test

import (
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/e6go/e6data/internal/wire"
)

func TestDec128Format(t *testing.T) {
	cases := []struct {
		unscaled string
		scale    int32
		want     string
	}{
		{"-12345", 2, "-123.45"},
		{"12345", 0, "12345"},
		{"12345", 5, "0.12345"},
		{"12345", 7, "0.0012345"},
		{"-1", 1, "-0.1"},
		{"0", 0, "0"},
		{"0", 3, "0.000"},
		{"0", -3, "0"},
		{"5", -3, "5000"},
		{"-5", -1, "-50"},
		{"10000000000000000000", 19, "1.0000000000000000000"}, // 10^19: one past a uint64 chunk
		{"18446744073709551616", 0, "18446744073709551616"},   // 2^64
		{"99999999999999999999999999999999999999", 38, "0.99999999999999999999999999999999999999"},
		{"-99999999999999999999999999999999999999", 2, "-999999999999999999999999999999999999.99"},
		{"-170141183460469231731687303715884105728", 0, "-170141183460469231731687303715884105728"},
		{"170141183460469231731687303715884105727", 39, "0.170141183460469231731687303715884105727"},
		{"-170141183460469231731687303715884105728", 45, "-0.000000170141183460469231731687303715884105728"},
	}
	for _, c := range cases {
		d := dec(c.unscaled)
		if got := d.Format(c.scale); got != c.want {
			t.Errorf("Format(%s, %d) = %s, want %s", c.unscaled, c.scale, got, c.want)
		}
		if got := string(d.AppendFormat([]byte("x="), c.scale)); got != "x="+c.want {
			t.Errorf("AppendFormat = %s", got)
		}
		// The text parses back to the same value and scale (except for
		// negative scales, which print as a plain integer).
		if c.scale >= 0 {
			p, sc, err := wire.ParseDec128(c.want)
			if err != nil || p != d || sc != c.scale {
				t.Errorf("ParseDec128(%s) = %v, %d, %v", c.want, p, sc, err)
			}
		}
	}
}

// TestDec128FormatMatchesBig checks random values at random scales against
// a formatting built on math/big.
func TestDec128FormatMatchesBig(t *testing.T) {
	g := newGen(7)
	for range 20000 {
		d := g.Dec()
		scale := int32(g.R.IntN(50) - 5)
		want := bigFormat(d.Big(), scale)
		if got := d.Format(scale); got != want {
			t.Fatalf("Format(%v, %d) = %s, want %s", d.Big(), scale, got, want)
		}
	}
}

func bigFormat(x *big.Int, scale int32) string {
	s := new(big.Int).Abs(x).String()
	neg := x.Sign() < 0
	switch {
	case scale < 0 && x.Sign() != 0:
		s += strings.Repeat("0", int(-scale))
	case scale > 0:
		if len(s) <= int(scale) {
			s = strings.Repeat("0", int(scale)-len(s)+1) + s
		}
		s = s[:len(s)-int(scale)] + "." + s[len(s)-int(scale):]
	}
	if neg {
		s = "-" + s
	}
	return s
}

func TestDec128FormatAllocs(t *testing.T) {
	d := wire.Dec128{Hi: math.MinInt64}
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { buf = d.AppendFormat(buf[:0], 20) }); n != 0 {
		t.Fatalf("AppendFormat allocates %v times", n)
	}
}

func TestParseDec128(t *testing.T) {
	cases := []struct {
		in       string
		unscaled string
		scale    int32
		err      string
	}{
		{"-123.45", "-12345", 2, ""},
		{"+7", "7", 0, ""},
		{"0.000", "0", 3, ""},
		{"-0", "0", 0, ""},
		{".5", "5", 1, ""},
		{"5.", "5", 0, ""},
		{"1.5E3", "15", -2, ""},
		{"1.5e-3", "15", 4, ""},
		{"00000000000000000000000000000000000000000000000001", "1", 0, ""},
		{"170141183460469231731687303715884105727", "170141183460469231731687303715884105727", 0, ""},
		{"-170141183460469231731687303715884105728", "-170141183460469231731687303715884105728", 0, ""},
		{"170141183460469231731687303715884105728", "", 0, "128-bit range"},
		{"-170141183460469231731687303715884105729", "", 0, "128-bit range"},
		{"999999999999999999999999999999999999999999", "", 0, "128-bit range"},
		{"", "", 0, "no digits"},
		{"-", "", 0, "no digits"},
		{".", "", 0, "no digits"},
		{"1.2.3", "", 0, "two decimal points"},
		{"12a", "", 0, "unexpected character"},
		{"1e", "", 0, "no exponent digits"},
		{"1e99999999999", "", 0, "exponent out of range"},
		{" 1", "", 0, "no digits"},
	}
	for _, c := range cases {
		d, scale, err := wire.ParseDec128(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseDec128(%q) error = %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || d.Big().String() != c.unscaled || scale != c.scale {
			t.Errorf("ParseDec128(%q) = %v, %d, %v; want %s, %d", c.in, d.Big(), scale, err, c.unscaled, c.scale)
		}
	}
}

func TestDec128Big(t *testing.T) {
	two127 := new(big.Int).Lsh(big.NewInt(1), 127)
	cases := []struct {
		x  *big.Int
		ok bool
	}{
		{big.NewInt(0), true},
		{big.NewInt(-1), true},
		{max38, true},
		{min38, true},
		{new(big.Int).Sub(two127, big.NewInt(1)), true},
		{new(big.Int).Neg(two127), true},
		{two127, false},
		{new(big.Int).Sub(new(big.Int).Neg(two127), big.NewInt(1)), false},
		{new(big.Int).Lsh(big.NewInt(1), 200), false},
		{new(big.Int).Neg(new(big.Int).Add(two127, two127)), false},
		{nil, false},
	}
	for _, c := range cases {
		d, err := wire.Dec128FromBig(c.x)
		if (err == nil) != c.ok {
			t.Errorf("Dec128FromBig(%v) error = %v", c.x, err)
			continue
		}
		if c.ok {
			if d.Big().Cmp(c.x) != 0 {
				t.Errorf("round trip of %v gave %v", c.x, d.Big())
			}
			if d.Sign() != c.x.Sign() {
				t.Errorf("Sign(%v) = %d", c.x, d.Sign())
			}
		}
	}
	if d := wire.Dec128FromInt64(math.MinInt64); d.Big().Int64() != math.MinInt64 {
		t.Errorf("Dec128FromInt64(MinInt64) = %v", d.Big())
	}
	if d := wire.Dec128FromInt64(-2); d != (wire.Dec128{Hi: -1, Lo: math.MaxUint64 - 1}) {
		t.Errorf("Dec128FromInt64(-2) = %#v", d)
	}
}
