package e6data

import (
	"bytes"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The unit tests of parameters and decimals: placeholder scanning and
// client-side interpolation, no server. The same values end to end through
// the simulator are in internal/e2e/params_test.go.

// hostileStrings is the string corpus every parameter path must carry
// byte for byte.
func hostileStrings() []string {
	return []string{
		"", " ", "'", "''", "'''", "a'b", "it''s", "'; DROP TABLE customers; --",
		`\`, `\\`, `\'`, `it\'s`, `\''`, `'\`, `\n`, `\x00`,
		`"`, `""`, `a"b`, "`", "``", "-- comment", "--\n", "a -- b\nc", "/*", "*/", "/* ? */", "/* /* */",
		"?", "??", "'?'", "\"?\"", "? ?", "$1", "$$", "$$?$$", "$tag$?$tag$", "E'", "E'\\'?'", ":name", "@p1", "%s %d %v",
		";", "a;b", ";;", "SELECT ?", "null", "NULL", "TRUE",
		"tab\tnl\ncr\rcrlf\r\n", "\x01\x02\x1f\x7f", "\u2028\u2029", "\u00a0nbsp", "\ufeffBOM",
		"🎉", "😀👍🏽👨‍👩‍👧‍👦", "e\u0301 a\u0308\u0301\u0327", "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627", "\u202eRTL override\u202c", "日本語テキスト", "\U0010FFFF\uFFFD",
		"naïve café 日本語 🎉 'single' \"double\" back\\slash tab\tend",
		strings.Repeat("'", 101), strings.Repeat(`\'`, 50), strings.Repeat("?", 64),
		"\x00", "\x00\x00\x00", "a\x00b", "\x00'; --", "'\x00'", "/*\x00*/", "--\x00\n?", "\\\x00\\", "🎉\x00\U0010FFFF", strings.Repeat("\x00'", 40),
	}
}

func TestDecimalDecompose(t *testing.T) {
	for _, c := range []struct {
		d     Decimal
		form  byte
		neg   bool
		coef  string
		exp   int32
		isNaN bool
	}{
		{d: "0", coef: "0"},
		{d: "-1.25", neg: true, coef: "125", exp: -2},
		{d: "12.50", coef: "1250", exp: -2},
		{d: "99999999999999999999999999999999999999", coef: "99999999999999999999999999999999999999"},
		{d: "-170141183460469231731687303715884105728", neg: true, coef: "170141183460469231731687303715884105728"},
		{d: "0.0000000001", coef: "1", exp: -10},
		{d: "1e5", coef: "100000"},       // not canonical: canonicalised first
		{d: "+1.5", coef: "15", exp: -1}, // idem
		{d: "-0.00", coef: "0", exp: -2},
		{d: "abc", form: 2, isNaN: true},
		{d: "", form: 2, isNaN: true},
	} {
		for _, buf := range [][]byte{nil, make([]byte, 0, 1), make([]byte, 32)} {
			form, neg, coef, exp := c.d.Decompose(buf)
			if form != c.form {
				t.Errorf("%q: form %d, want %d", c.d, form, c.form)
				continue
			}
			if c.isNaN {
				continue
			}
			if got := new(big.Int).SetBytes(coef).String(); got != c.coef || neg != c.neg || exp != c.exp {
				t.Errorf("%q: %v %s e%d, want %v %s e%d", c.d, neg, got, exp, c.neg, c.coef, c.exp)
			}
		}
	}
}

func TestParseDecimal(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"0", "0"}, {"-0", "0"}, {"+0", "0"}, {"-0.00", "0.00"}, {"007", "7"}, {"007.10", "7.10"},
		{"-12.50", "-12.50"}, {".5", "0.5"}, {"5.", "5"}, {"-.5", "-0.5"}, {" 42 ", "42"},
		{"1e3", "1000"}, {"1E+3", "1000"}, {"1.5e-3", "0.0015"}, {"-1.50e1", "-15.0"}, {"123e-5", "0.00123"},
		{"0e10", "0"}, {"1e-401", ""}, {"1e401", ""},
		{"99999999999999999999999999999999999999", "99999999999999999999999999999999999999"},
		{"-9999999999999999999999999999.9999999999", "-9999999999999999999999999999.9999999999"},
		{"", ""}, {"-", ""}, {"+", ""}, {".", ""}, {"e5", ""}, {"1e", ""}, {"1e+", ""}, {"--1", ""}, {"+-1", ""},
		{"1.2.3", ""}, {"1,5", ""}, {"0x10", ""}, {"NaN", ""}, {"Inf", ""}, {"1 2", ""}, {"١", ""}, {"1_000", ""},
	} {
		got, err := ParseDecimal(c.in)
		if c.want == "" {
			if err == nil {
				t.Errorf("ParseDecimal(%q) = %q, want an error", c.in, got)
			} else if !strings.Contains(err.Error(), "not a decimal") {
				t.Errorf("ParseDecimal(%q): unclear error %v", c.in, err)
			}
			continue
		}
		if err != nil || string(got) != c.want {
			t.Errorf("ParseDecimal(%q) = %q, %v; want %q", c.in, got, err, c.want)
			continue
		}
		// Canonical forms are fixed points and keep the exact value.
		if again, err := ParseDecimal(string(got)); err != nil || again != got {
			t.Errorf("ParseDecimal(%q) not canonical: %q %v", got, again, err)
		}
		in, ok1 := new(big.Rat).SetString(strings.TrimSpace(c.in))
		out, ok2 := got.Rat()
		if ok1 && (!ok2 || in.Cmp(out) != 0) {
			t.Errorf("ParseDecimal(%q) = %q changed the value", c.in, got)
		}
	}
}

func TestScanPlaceholders(t *testing.T) {
	for _, c := range []struct {
		q    string
		want []int
	}{
		{"", nil},
		{"?", []int{0}},
		{"SELECT ?, ?", []int{7, 10}},
		{"'?'", nil},
		{"'it''s ?' ?", []int{10}},
		{`"?" ?`, []int{4}},
		{`"a""?" ?`, []int{7}},
		{"`?` ?", []int{4}},
		{"-- ?\n?", []int{5}},
		{"-- ?", nil},
		{"- ? -", []int{2}},
		{"/* ? */ ?", []int{8}},
		{"/* /* ? */ ? */ ?", []int{16}},
		{"/**/?", []int{4}},
		{"/*/ ? */ ?", []int{9}},
		{"/* ? ", nil},
		{"/ ? *", []int{2}},
		{`'\' ?`, []int{4}},     // standard string: backslash is literal
		{`E'\' ?' ?`, []int{8}}, // escape string: \' does not end it
		{`e'\\' ?`, []int{6}},   // \\ is one backslash
		{`E'a''?' ?`, []int{8}}, // doubled quote in an escape string
		{`TYPE'\' ?`, []int{8}}, // E at the end of a word is not a prefix
		{`x = E'?'`, nil},       // after an operator it is
		{"$$?$$ ?", []int{6}},   // dollar quoting
		{"$a$ ? $ ?$a$ ?", []int{13}},
		{"$a$ ?", nil},           // unterminated: the rest is quoted
		{"$1 ?", []int{3}},       // positional $1 is no quote
		{"a$b$ ? $b$", []int{5}}, // $ inside an identifier
		{"'unterminated ?", nil},
		{"'日本語?' ?", []int{13}},
		{"😀?", []int{4}},
	} {
		var got []int
		scanPlaceholders(c.q, func(i int) { got = append(got, i) })
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("scanPlaceholders(%q) = %v, want %v", c.q, got, c.want)
		}
		if countPlaceholders(c.q) != len(c.want) {
			t.Errorf("countPlaceholders(%q) = %d", c.q, countPlaceholders(c.q))
		}
	}
}

func TestInterpolateRendering(t *testing.T) {
	ts := time.Date(1969, 7, 20, 20, 17, 40, 123456789, time.FixedZone("X", 3600))
	for _, c := range []struct {
		arg  any
		want string
	}{
		{nil, "NULL"},
		{true, "TRUE"},
		{false, "FALSE"},
		{int64(0), "0"},
		{int64(-5), "(-5)"},
		{int64(math.MinInt64), "(-9223372036854775808)"},
		{int32(-5), "(-5)"},
		{uint64(math.MaxUint64), "18446744073709551615"},
		{1.5, "CAST('1.5' AS DOUBLE)"},
		{math.Copysign(0, -1), "CAST('-0' AS DOUBLE)"},
		{math.NaN(), "CAST('NaN' AS DOUBLE)"},
		{math.Inf(1), "CAST('Infinity' AS DOUBLE)"},
		{math.Inf(-1), "CAST('-Infinity' AS DOUBLE)"},
		{math.SmallestNonzeroFloat64, "CAST('5e-324' AS DOUBLE)"},
		{float32(0.1), "CAST('0.1' AS FLOAT)"},
		{"it's", "'it''s'"},
		{`\'`, `'\'''`},
		{"", "''"},
		{"\x00", "(chr(0))"},
		{"a\x00'b\x00\x00", "('a' || chr(0) || '''b' || chr(0) || chr(0))"},
		{[]byte{0, 0xff}, "from_hex('00ff')"},
		{[]byte{}, "from_hex('')"},
		{[]byte(nil), "NULL"},
		{ts, "TIMESTAMP '1969-07-20 19:17:40.123456'"},
		{time.Unix(0, 0), "TIMESTAMP '1970-01-01 00:00:00'"},
		{Decimal("-12.50"), "CAST('-12.50' AS DECIMAL(4,2))"},
		{Decimal("0.00"), "CAST('0.00' AS DECIMAL(2,2))"},
		{Decimal("0"), "CAST('0' AS DECIMAL(1,0))"},
		{Decimal("1e-3"), "CAST('0.001' AS DECIMAL(3,3))"},
		{Decimal("-170141183460469231731687303715884105727"), "(-170141183460469231731687303715884105727)"},
	} {
		got, err := interpolate("SELECT ?", []driver.NamedValue{{Ordinal: 1, Value: c.arg}})
		if err != nil || got != "SELECT "+c.want {
			t.Errorf("%T %#v: %q, %v; want %q", c.arg, c.arg, got, err, "SELECT "+c.want)
		}
	}
	for _, bad := range []any{"\xff", Decimal("x"), Decimal("1e39"), struct{}{}, int8(1)} {
		if got, err := interpolate("SELECT ?", []driver.NamedValue{{Ordinal: 1, Value: bad}}); err == nil || !strings.Contains(err.Error(), "parameter 1") {
			t.Errorf("%T %#v: %q %v, want an error naming parameter 1", bad, bad, got, err)
		}
	}
	// Only counted placeholders are replaced; the rest of the text is kept.
	q := "SELECT '?', ? /* ? */, \"?\" -- ?\n, ?"
	got, err := interpolate(q, []driver.NamedValue{{Ordinal: 1, Value: "a"}, {Ordinal: 2, Value: int64(2)}})
	if want := "SELECT '?', 'a' /* ? */, \"?\" -- ?\n, 2"; err != nil || got != want {
		t.Errorf("got %q %v, want %q", got, err, want)
	}
}

// --- FuzzInterpolate -------------------------------------------------------

// sqlLit is a tiny reader of the SQL literals interpolate writes.
type sqlLit struct{ s string }

func (p *sqlLit) eat(prefix string) bool {
	if strings.HasPrefix(p.s, prefix) {
		p.s = p.s[len(prefix):]
		return true
	}
	return false
}

// quoted reads '...' with ” for a quote.
func (p *sqlLit) quoted() (string, error) {
	if !p.eat("'") {
		return "", fmt.Errorf("want ' at %.20q", p.s)
	}
	var b strings.Builder
	for i := 0; i < len(p.s); i++ {
		if p.s[i] != '\'' {
			b.WriteByte(p.s[i])
			continue
		}
		if i+1 < len(p.s) && p.s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		p.s = p.s[i+1:]
		return b.String(), nil
	}
	return "", fmt.Errorf("unterminated string")
}

// concat reads the rest of a ('piece' || chr(0) || ...) string, the
// opening parenthesis eaten; parts may be parenthesized groups of the
// same form. It must hold a NUL: no other string takes this form.
func (p *sqlLit) concat() (string, error) {
	s, err := p.concatBody(0)
	if err == nil && strings.IndexByte(s, 0) < 0 {
		err = fmt.Errorf("concatenation without a NUL")
	}
	return s, err
}

func (p *sqlLit) concatBody(depth int) (string, error) {
	if depth > 20 {
		return "", fmt.Errorf("concatenation nested %d deep", depth)
	}
	var b strings.Builder
	for i := 0; ; i++ {
		if i > 0 && !p.eat(" || ") {
			break
		}
		switch {
		case p.eat("chr(0)"):
			b.WriteByte(0)
		case p.eat("("):
			g, err := p.concatBody(depth + 1)
			if err != nil {
				return "", err
			}
			b.WriteString(g)
		case strings.HasPrefix(p.s, "'"):
			q, err := p.quoted()
			if err != nil {
				return "", err
			}
			b.WriteString(q)
		default:
			return "", fmt.Errorf("bad concatenation at %.20q", p.s)
		}
	}
	if !p.eat(")") {
		return "", fmt.Errorf("unclosed concatenation at %.20q", p.s)
	}
	return b.String(), nil
}

// literal reads one literal and returns its Go value: nil, bool, *big.Int,
// string, []byte, time.Time, or a cast's (type, text).
func (p *sqlLit) literal() (any, error) {
	switch {
	case p.eat("NULL"):
		return nil, nil
	case p.eat("TRUE"):
		return true, nil
	case p.eat("FALSE"):
		return false, nil
	case strings.HasPrefix(p.s, "'"):
		return p.quoted()
	case strings.HasPrefix(p.s, "(") && !strings.HasPrefix(p.s, "(-"):
		p.s = p.s[1:]
		return p.concat()
	case p.eat("from_hex("):
		h, err := p.quoted()
		if err != nil || !p.eat(")") {
			return nil, fmt.Errorf("bad from_hex: %v", err)
		}
		return hex.DecodeString(h)
	case p.eat("TIMESTAMP "):
		s, err := p.quoted()
		if err != nil {
			return nil, err
		}
		return time.Parse("2006-01-02 15:04:05.999999", s)
	case p.eat("CAST("):
		text, err := p.quoted()
		if err != nil || !p.eat(" AS ") {
			return nil, fmt.Errorf("bad cast: %v", err)
		}
		i := strings.IndexByte(p.s, ')')
		if strings.HasPrefix(p.s, "DECIMAL(") {
			i = strings.Index(p.s, "))") + 1
		}
		if i <= 0 {
			return nil, fmt.Errorf("bad cast type")
		}
		typ := p.s[:i]
		p.s = p.s[i+1:]
		return [2]string{typ, text}, nil
	}
	neg := p.eat("(-")
	i := 0
	for i < len(p.s) && p.s[i] >= '0' && p.s[i] <= '9' {
		i++
	}
	if i == 0 {
		return nil, fmt.Errorf("no literal at %.20q", p.s)
	}
	n, _ := new(big.Int).SetString(p.s[:i], 10)
	p.s = p.s[i:]
	if neg {
		if !p.eat(")") {
			return nil, fmt.Errorf("unclosed (-")
		}
		n.Neg(n)
	}
	return n, nil
}

func FuzzInterpolate(f *testing.F) {
	for _, s := range hostileStrings() {
		f.Add(s, int64(-1), 0.5, []byte(s))
	}
	f.Add("a\x00b", int64(math.MinInt64), math.Copysign(0, -1), []byte{0, 0xff})
	f.Add("\xff", int64(math.MaxInt64), math.NaN(), []byte(nil))
	f.Add("-- ?", int64(0), math.Inf(-1), []byte{})
	f.Fuzz(func(t *testing.T, s string, n int64, fl float64, b []byte) {
		args := []driver.NamedValue{{Ordinal: 1, Value: s}, {Ordinal: 2, Value: n}, {Ordinal: 3, Value: fl}, {Ordinal: 4, Value: b}, {Ordinal: 5, Value: Decimal(s)}}
		out, err := interpolate("SELECT ?, ?, ?, ?", args[:4])
		if !utf8.ValidString(s) {
			if err == nil {
				t.Fatalf("%q rendered as %q: want an error", s, out)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if c := countPlaceholders(out); c != 0 {
			t.Fatalf("rendered %q has %d placeholders", out, c)
		}
		p := &sqlLit{s: out}
		if !p.eat("SELECT ") {
			t.Fatalf("prefix lost: %q", out)
		}
		var got []any
		for i := 0; i < 4; i++ {
			if i > 0 && !p.eat(", ") {
				t.Fatalf("separator %d lost in %q at %.20q", i, out, p.s)
			}
			v, err := p.literal()
			if err != nil {
				t.Fatalf("literal %d of %q: %v", i+1, out, err)
			}
			got = append(got, v)
		}
		if p.s != "" {
			t.Fatalf("trailing %q", p.s)
		}
		if got[0] != s {
			t.Fatalf("string %q came back as %q", s, got[0])
		}
		if g, ok := got[1].(*big.Int); !ok || !g.IsInt64() || g.Int64() != n {
			t.Fatalf("int %d came back as %v", n, got[1])
		}
		cast, ok := got[2].([2]string)
		if !ok || cast[0] != "DOUBLE" {
			t.Fatalf("float rendering %v", got[2])
		}
		text := strings.Replace(cast[1], "Infinity", "Inf", 1)
		g, err := strconv.ParseFloat(text, 64)
		if err != nil || math.Float64bits(g) != math.Float64bits(fl) && !(math.IsNaN(g) && math.IsNaN(fl)) {
			t.Fatalf("float %v came back as %v (%q) %v", fl, g, cast[1], err)
		}
		if b == nil {
			if got[3] != nil {
				t.Fatalf("nil bytes as %v", got[3])
			}
		} else if gb, ok := got[3].([]byte); !ok || !bytes.Equal(gb, b) {
			t.Fatalf("bytes %x came back as %v", b, got[3])
		}

		// The fuzzed string as a Decimal: either refused, or exactly its value.
		if out, err := interpolate("SELECT ?", args[4:]); err == nil {
			p := &sqlLit{s: strings.TrimPrefix(out, "SELECT ")}
			v, err := p.literal()
			if err != nil || p.s != "" {
				t.Fatalf("decimal %q rendered as %q: %v", s, out, err)
			}
			text := ""
			switch x := v.(type) {
			case [2]string:
				text = x[1]
			case *big.Int:
				text = x.String()
			}
			want, ok1 := new(big.Rat).SetString(strings.TrimSpace(s))
			gotR, ok2 := new(big.Rat).SetString(text)
			if !ok1 || !ok2 || want.Cmp(gotR) != 0 {
				t.Fatalf("decimal %q rendered as %q", s, out)
			}
		}

		// The fuzzed string as a whole statement: interpolation never
		// panics, replaces exactly the counted placeholders, and leaves no
		// new one behind.
		k := countPlaceholders(s)
		if k > 64 {
			return
		}
		nv := make([]driver.NamedValue, k)
		for i := range nv {
			nv[i] = driver.NamedValue{Ordinal: i + 1, Value: int64(-1)}
		}
		res, err := interpolate(s, nv)
		if err != nil {
			t.Fatalf("%q with %d args: %v", s, k, err)
		}
		if countPlaceholders(res) != 0 || len(res) != len(s)+3*k {
			t.Fatalf("%q -> %q", s, res)
		}
		if _, err := interpolate(s, append(nv, driver.NamedValue{Ordinal: k + 1, Value: nil})); err == nil ||
			!strings.Contains(err.Error(), fmt.Sprintf("has %d '?' placeholders but %d arguments", k, k+1)) {
			t.Fatalf("%q with %d args: %v", s, k+1, err)
		}
	})
}

// TestInterpolateNULDepth: strings with many NULs render as a balanced
// tree of short || chains, so the expression depth an engine sees grows
// with the logarithm of the NUL count (DuckDB refuses depth > 1000), and
// the rendering reads back to the string.
func TestInterpolateNULDepth(t *testing.T) {
	for _, n := range []int{1, 15, 16, 17, 1000, 100_000} {
		s := strings.Repeat("x\x00", n)
		out, err := interpolate("SELECT ?", []driver.NamedValue{{Ordinal: 1, Value: s}})
		if err != nil {
			t.Fatal(err)
		}
		depth, maxDepth, chain, maxChain := 0, 0, 0, 0
		chains := []int{0}
		inQuote := false
		for i := 0; i < len(out); i++ {
			switch c := out[i]; {
			case c == '\'':
				inQuote = !inQuote
			case inQuote:
			case c == '(' && !strings.HasPrefix(out[i-3:], "chr("):
				depth++
				maxDepth = max(maxDepth, depth)
				chains = append(chains, 0)
			case c == ')' && !strings.HasSuffix(out[:i], "chr(0"):
				depth--
				chains = chains[:len(chains)-1]
			case c == '|' && out[i+1] == '|':
				i++
				chains[len(chains)-1]++
				chain = chains[len(chains)-1]
				maxChain = max(maxChain, chain)
			}
		}
		// 16^5 > 2n parts: at most 5 levels of groups plus the outer one.
		if maxDepth > 6 || maxChain >= nulChainMax {
			t.Errorf("%d NULs: nesting %d, longest chain %d operators", n, maxDepth, maxChain)
		}
		p := &sqlLit{s: strings.TrimPrefix(out, "SELECT ")}
		if got, err := p.literal(); err != nil || got != s || p.s != "" {
			t.Errorf("%d NULs do not read back: %v", n, err)
		}
	}
}
