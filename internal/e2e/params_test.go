package e2e

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
)

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

// longHostile is a 1 MiB string of quotes, backslashes, comment markers,
// placeholders, unicode and a NUL about every KiB.
func longHostile() string {
	unit := strings.Repeat("'\\?--;/*🎉e\u0301\"*/", 50) + "\x00" // 901 bytes
	long := strings.Repeat(unit, 1<<20/len(unit)+1)[:1<<20]
	for !utf8.ValidString(long) {
		long = long[:len(long)-1]
	}
	return long + strings.Repeat("x", 1<<20-len(long))
}

// paramCase is one argument and what must come back for it.
type paramCase struct {
	name   string
	arg    any
	want   any  // the value Scan into `any` must yield (nil: arg itself)
	server bool // the simulator supports it as a server-side parameter
}

func paramCorpus(t testing.TB) []paramCase {
	var cs []paramCase
	for i, s := range hostileStrings() {
		cs = append(cs, paramCase{name: fmt.Sprintf("string%02d", i), arg: s, server: true})
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.FixedZone("EST", -5*3600)
	}
	kolkata := time.FixedZone("IST", 5*3600+1800)
	utc := func(us int64) time.Time { return time.UnixMicro(us).UTC() }
	cs = append(cs,
		paramCase{name: "bytes/all256", arg: all},
		paramCase{name: "bytes/empty", arg: []byte{}},
		paramCase{name: "bytes/quotes", arg: []byte("'\\\x00?--")},
		paramCase{name: "bytes/invalid-utf8", arg: []byte("\xff\xfe\xc0\x80\xed\xa0\x80\xf4\x90\x80\x80'\x00")},
		paramCase{name: "bytes/nil", arg: []byte(nil), want: nilValue{}, server: true},
		paramCase{name: "nil", arg: nil, want: nilValue{}, server: true},
		paramCase{name: "true", arg: true, server: true},
		paramCase{name: "false", arg: false, server: true},
		paramCase{name: "int32/min", arg: int32(math.MinInt32), server: true},
		paramCase{name: "int32/max", arg: int32(math.MaxInt32), server: true},
		paramCase{name: "int32/-1", arg: int32(-1), server: true},
		paramCase{name: "int64/min", arg: int64(math.MinInt64), server: true},
		paramCase{name: "int64/max", arg: int64(math.MaxInt64), server: true},
		paramCase{name: "int64/0", arg: int64(0), server: true},
		paramCase{name: "int/-42", arg: -42, want: int64(-42), server: true},
		paramCase{name: "uint64/max", arg: uint64(math.MaxUint64), want: e6data.Decimal("18446744073709551615"), server: true},
		paramCase{name: "time/epoch", arg: time.Unix(0, 0), want: utc(0), server: true},
		paramCase{name: "time/-1µs", arg: utc(-1), want: utc(-1), server: true},
		paramCase{name: "time/1969-micros", arg: time.Date(1969, 7, 20, 20, 17, 40, 123456000, time.UTC), want: utc(-14182939876544), server: true},
		paramCase{name: "time/1900-NY", arg: time.Date(1900, 1, 1, 0, 0, 0, 1000, ny), want: time.Date(1900, 1, 1, 0, 0, 0, 1000, ny).UTC(), server: true},
		paramCase{name: "time/0001", arg: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), want: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), server: true},
		paramCase{name: "time/9999", arg: utc(253402300799999999), want: utc(253402300799999999), server: true},
		paramCase{name: "time/kolkata", arg: time.Date(2024, 2, 29, 18, 44, 15, 123456000, kolkata), want: utc(1709212455123456), server: true},
		paramCase{name: "time/nanos-truncated", arg: time.Date(2024, 2, 29, 13, 14, 15, 123456789, time.UTC), want: utc(1709212455123456), server: true},
		paramCase{name: "time/pre1970-nanos-floor", arg: time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC), want: utc(-1), server: true},
		paramCase{name: "decimal/38", arg: e6data.Decimal("1234567890123456789012345678.1234567890"), server: true},
		paramCase{name: "decimal/38neg", arg: e6data.Decimal("-9999999999999999999999999999.9999999999"), server: true},
		paramCase{name: "decimal/38int", arg: e6data.Decimal("99999999999999999999999999999999999999"), server: true},
		paramCase{name: "decimal/tiny", arg: e6data.Decimal("0.00000000000000000000000000000000000001"), server: true},
		paramCase{name: "decimal/-tiny", arg: e6data.Decimal("-0.0000000000000000000000000000000000001"), server: true},
		paramCase{name: "decimal/scale", arg: e6data.Decimal("12.50"), server: true},
		paramCase{name: "decimal/zero-scale2", arg: e6data.Decimal("0.00"), server: true},
		paramCase{name: "decimal/int", arg: e6data.Decimal("5"), server: true},
		paramCase{name: "decimal/-half", arg: e6data.Decimal("-0.5"), server: true},
		paramCase{name: "decimal/exp", arg: e6data.Decimal("1.5e-3"), want: e6data.Decimal("0.0015")},
		paramCase{name: "decimal/plus", arg: e6data.Decimal("+007.10"), want: e6data.Decimal("7.10")},
		paramCase{name: "decimal/hugeint-max", arg: e6data.Decimal("170141183460469231731687303715884105727")},
		paramCase{name: "decimal/hugeint-min+1", arg: e6data.Decimal("-170141183460469231731687303715884105727")},
	)
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 0.30000000000000004, math.Pi, -math.E, 1e300, -1e-300,
		math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64,
		2.2250738585072014e-308, 123456789012345678, 9007199254740993, math.NaN(), math.Inf(1), math.Inf(-1)} {
		cs = append(cs, paramCase{name: "float64/" + strconv.FormatFloat(f, 'g', -1, 64), arg: f, server: true})
	}
	for _, f := range []float32{0, float32(math.Copysign(0, -1)), 1.5, -0.25, 0.1, math.MaxFloat32, -math.MaxFloat32,
		math.SmallestNonzeroFloat32, 1.17549435e-38, 16777217, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		cs = append(cs, paramCase{name: "float32/" + strconv.FormatFloat(float64(f), 'g', -1, 32), arg: f, server: true})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20; i++ {
		f := math.Float64frombits(rng.Uint64())
		cs = append(cs, paramCase{name: fmt.Sprintf("float64/random%02d", i), arg: f, server: true})
		g := math.Float32frombits(rng.Uint32())
		cs = append(cs, paramCase{name: fmt.Sprintf("float32/random%02d", i), arg: g, server: true})
	}
	return cs
}

// nilValue marks "must come back as NULL".
type nilValue struct{}

// sameValue reports whether got (scanned into any) is exactly what c must
// give back.
func sameValue(c paramCase, got any) error {
	want := c.want
	if want == nil {
		want = c.arg
	}
	bad := func() error { return fmt.Errorf("got %T %#v, want %T %#v", got, got, want, want) }
	switch w := want.(type) {
	case nilValue:
		if got != nil {
			return bad()
		}
	case string:
		if g, ok := got.(string); !ok || g != w {
			return bad()
		}
	case []byte:
		if g, ok := got.([]byte); !ok || !bytes.Equal(g, w) || g == nil {
			return bad()
		}
	case bool:
		if g, ok := got.(bool); !ok || g != w {
			return bad()
		}
	case int32, int64:
		wi := reflectInt(w)
		switch g := got.(type) {
		case int32:
			if int64(g) != wi {
				return bad()
			}
		case int64:
			if g != wi {
				return bad()
			}
		default:
			return bad()
		}
	case float64:
		g, ok := got.(float64)
		if !ok || math.Float64bits(g) != math.Float64bits(w) && !(math.IsNaN(g) && math.IsNaN(w)) {
			return bad()
		}
	case float32:
		g, ok := got.(float32)
		if !ok || math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
			return bad()
		}
	case time.Time:
		g, ok := got.(time.Time)
		if !ok || !g.Equal(w) || g.Location() != time.UTC {
			return bad()
		}
	case e6data.Decimal:
		canon, err := e6data.ParseDecimal(string(w))
		if err != nil {
			return err
		}
		if g, ok := got.(e6data.Decimal); !ok || g != canon {
			return bad()
		}
	default:
		return fmt.Errorf("test bug: no comparison for %T", want)
	}
	return nil
}

func reflectInt(v any) int64 {
	switch x := v.(type) {
	case int32:
		return int64(x)
	case int64:
		return x
	}
	panic(v)
}

// paramModes are the two ways parameters reach the server.
var paramModes = []struct {
	name   string
	server bool
}{{"client", false}, {"server", true}}

// TestParamsRoundTrip sends every value of the corpus through `SELECT ?`
// and checks it comes back exactly, with client-side literals (default)
// and with server-side parameters (the server-side-params setting).
func TestParamsRoundTrip(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	for _, mode := range paramModes {
		t.Run(mode.name, func(t *testing.T) {
			db, _ := openDB(t, srv, e6data.WithSetting("ServerSideParams", strconv.FormatBool(mode.server)))
			db.SetMaxOpenConns(1)
			for _, c := range paramCorpus(t) {
				if mode.server && !c.server {
					continue
				}
				var got any
				if err := db.QueryRow("SELECT ? AS v", c.arg).Scan(&got); err != nil {
					t.Errorf("%s: %v", c.name, err)
					continue
				}
				if err := sameValue(c, got); err != nil {
					t.Errorf("%s: %v", c.name, err)
				}
			}
		})
	}
	rpcs := srv.Stats().RPCs
	// The test configuration names a catalog: every prepareStatementV2 is
	// followed by executeStatementV2, with or without server-side params.
	if rpcs["QueryEngineService/executeStatementV2"] == 0 || rpcs["QueryEngineService/executeStatement"] != 0 {
		t.Fatalf("executeStatementV2 should follow every prepareStatementV2: %v", rpcs)
	}
}

// TestParamsAllInOneStatement puts the whole corpus into one statement, so
// every placeholder must get its own argument in order.
func TestParamsAllInOneStatement(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	for _, mode := range paramModes {
		t.Run(mode.name, func(t *testing.T) {
			db, _ := openDB(t, srv)
			var cs []paramCase
			for _, c := range paramCorpus(t) {
				if !mode.server || c.server {
					cs = append(cs, c)
				}
			}
			args := make([]any, 0, len(cs)+1)
			cols := make([]string, len(cs))
			for i, c := range cs {
				args = append(args, c.arg)
				cols[i] = "? AS c" + strconv.Itoa(i)
			}
			args = append(args, sql.Named("server_side_params", mode.server))
			// Comments and strings with '?' around the placeholders.
			q := "SELECT /* ? '?' */ '?' AS q, -- ? \n" + strings.Join(cols, ", ") + ` FROM (SELECT 1 AS "a?b") t;`
			rows, err := db.Query(q, args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			if !rows.Next() {
				t.Fatalf("no row: %v", rows.Err())
			}
			got := make([]any, len(cs)+1)
			ptrs := make([]any, len(got))
			for i := range got {
				ptrs[i] = &got[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			if got[0] != "?" {
				t.Errorf("q = %#v", got[0])
			}
			for i, c := range cs {
				if err := sameValue(c, got[i+1]); err != nil {
					t.Errorf("%s: %v", c.name, err)
				}
			}
		})
	}
}

// TestParamsCompareWithColumns proves the rendered values equal the stored
// ones (not only themselves): `SELECT <column> = ?`.
func TestParamsCompareWithColumns(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	kolkata := time.FixedZone("IST", 5*3600+1800)
	for _, c := range []struct {
		col  string
		id   int
		arg  any
		skip bool // not as a server-side parameter
	}{
		{"c_varchar", 2, "naïve café 日本語 🎉 'single' \"double\" back\\slash tab\tend", false},
		{"c_varchar", 3, "", false},
		{"c_blob", 1, []byte{0xDE, 0xAD, 0xBE, 0xEF}, true},
		{"c_blob", 3, []byte{0x00, 0x80, 0xFF}, true},
		{"c_blob", 2, []byte{}, true},
		{"c_integer", 2, int32(math.MinInt32), false},
		{"c_bigint", 2, int64(math.MinInt64), false},
		{"c_bigint", 3, int64(math.MaxInt64), false},
		{"c_ubigint", 3, uint64(math.MaxUint64), false},
		{"c_hugeint", 3, e6data.Decimal("170141183460469231731687303715884105727"), true},
		{"c_decimal_38_10", 1, e6data.Decimal("1234567890123456789012345678.1234567890"), false},
		{"c_decimal_38_10", 2, e6data.Decimal("-9999999999999999999999999999.9999999999"), false},
		{"c_decimal_38_0", 3, e6data.Decimal("99999999999999999999999999999999999999"), false},
		{"c_decimal_4_1", 1, e6data.Decimal("12.5"), false},
		{"c_double", 2, -2.5e-300, false},
		{"c_double", 3, math.MaxFloat64, false},
		{"c_float", 3, float32(math.MaxFloat32), false},
		{"c_float", 2, float32(-0.25), false},
		{"c_boolean", 2, false, false},
		{"c_timestamp", 2, time.UnixMicro(-14182939876544).In(kolkata), false},
		{"c_timestamp", 3, time.UnixMicro(253402300799999999), false},
		{"c_timestamp_ms", 2, time.UnixMicro(-1000), false},
	} {
		for _, mode := range paramModes {
			if mode.server && c.skip {
				continue
			}
			var eq sql.NullBool
			q := fmt.Sprintf("SELECT %s = ? FROM all_types WHERE id = ?", c.col)
			if err := db.QueryRow(q, c.arg, c.id, sql.Named("server_side_params", mode.server)).Scan(&eq); err != nil {
				t.Errorf("%s %s id %d: %v", mode.name, c.col, c.id, err)
				continue
			}
			if !eq.Valid || !eq.Bool {
				t.Errorf("%s: %s of row %d != %#v", mode.name, c.col, c.id, c.arg)
			}
		}
	}
}

// A negative number after a minus sign must not turn into a -- comment.
func TestParamsNegativeAfterMinus(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	for _, arg := range []any{int64(-5), int32(-5), -5, e6data.Decimal("-5"), -5.0, float32(-5)} {
		var got float64
		if err := db.QueryRow("SELECT CAST(10-? AS DOUBLE)", arg).Scan(&got); err != nil {
			t.Errorf("%T: %v", arg, err)
			continue
		}
		if got != 15 {
			t.Errorf("10-(%T -5) = %v, want 15", arg, got)
		}
	}
}

func TestParamsLongStrings(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	unit := "'\\?--;/*🎉e\u0301\"" // 19 bytes, 2 of them quotes
	long := strings.Repeat(unit, (1<<20)/len(unit)+1)[:1<<20]
	for !utf8.ValidString(long) { // cut inside a rune: drop its start
		long = long[:len(long)-1]
	}
	long += strings.Repeat("x", 1<<20-len(long))
	if len(long) != 1<<20 {
		t.Fatal(len(long))
	}
	hostile := longHostile()
	if len(hostile) != 1<<20 || strings.Count(hostile, "\x00") < 1000 {
		t.Fatal(len(hostile))
	}
	for _, mode := range paramModes {
		for name, s := range map[string]string{"plain": long, "with NULs": hostile} {
			var got string
			var n int64
			if err := db.QueryRow("SELECT ? AS v, strlen(?) AS n", s, s, sql.Named("server_side_params", mode.server)).Scan(&got, &n); err != nil {
				t.Fatalf("%s %s: %v", mode.name, name, err)
			}
			if got != s || n != 1<<20 {
				t.Fatalf("%s %s: 1 MiB string came back as %d bytes (server counted %d), equal=%v", mode.name, name, len(got), n, got == s)
			}
		}
	}
	// 1 MiB of bytes, NULs and invalid UTF-8 included (client-side only:
	// the simulator takes no BLOB parameters).
	blob := []byte(hostile)
	for i := 0; i < len(blob); i += 4099 {
		blob[i] = 0xff
	}
	var got []byte
	if err := db.QueryRow("SELECT ? AS v", blob).Scan(&got); err != nil || !bytes.Equal(got, blob) {
		t.Fatalf("1 MiB of bytes came back as %d bytes, err %v", len(got), err)
	}
}

// NUL bytes cannot travel inside quoted SQL text (DuckDB's parser stops
// at the first NUL), so a client-side string holding one is rendered as a
// concatenation with chr(0). Both modes carry it byte for byte, and the
// server sees a string of the right length.
func TestParamsNULByte(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	for _, s := range []string{"\x00", "\x00\x00", "a\x00b", "\x00a\x00", "x\x00'); --", "'\x00'", "\x00?\x00/*", "🎉\x00é"} {
		for _, mode := range paramModes {
			var got string
			var n int64
			if err := db.QueryRow("SELECT ?, strlen(?)", s, s, sql.Named("server_side_params", mode.server)).Scan(&got, &n); err != nil || got != s || n != int64(len(s)) {
				t.Errorf("%s %q: got %q (server length %d) err %v", mode.name, s, got, n, err)
			}
		}
	}
	// As bytes it is fine client-side too.
	var b []byte
	if err := db.QueryRow("SELECT ?", []byte("a\x00b")).Scan(&b); err != nil || string(b) != "a\x00b" {
		t.Errorf("bytes with NUL: %q %v", b, err)
	}
}

func TestParamsInvalidUTF8(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	for _, mode := range paramModes {
		for _, s := range []string{"\xff", "a\xc3", "\xed\xa0\x80", "ok\x80ok"} {
			before := srv.Stats().RPCs["QueryEngineService/executeStatementV2"]
			var got string
			err := db.QueryRow("SELECT ?", s, sql.Named("server_side_params", mode.server)).Scan(&got)
			if err == nil || !strings.Contains(err.Error(), "UTF-8") || errors.Is(err, e6data.ErrQueryFailed) {
				t.Errorf("%s %q: err = %v, want a clear UTF-8 error", mode.name, s, err)
			}
			if srv.Stats().RPCs["QueryEngineService/executeStatementV2"] != before {
				t.Errorf("%s %q: sent anyway", mode.name, s)
			}
		}
	}
}

// []byte has no agreed encoding in ParameterValue (a protobuf string):
// server-side mode refuses it rather than send something the server would
// read as other bytes.
func TestParamsBytesServerSideRefused(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv, e6data.WithSetting("ServerSideParams", "true"))
	var got []byte
	err := db.QueryRow("SELECT ?", []byte{0xDE, 0xAD}).Scan(&got)
	if err == nil || !strings.Contains(err.Error(), "[]byte") || !strings.Contains(err.Error(), "client-side") {
		t.Fatalf("err = %v (got %x), want a clear refusal", err, got)
	}
	if err := db.QueryRow("SELECT ?", []byte{0xDE, 0xAD}, sql.Named("server_side_params", false)).Scan(&got); err != nil || !bytes.Equal(got, []byte{0xDE, 0xAD}) {
		t.Fatalf("per-query client-side override: %x %v", got, err)
	}
}

func TestParamsDecimalTooWide(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	for _, d := range []e6data.Decimal{"1234567890123456789012345678901234567890.5", "0.000000000000000000000000000000000000001",
		"170141183460469231731687303715884105728", "-170141183460469231731687303715884105728", "1e40", "NaN", "1.2.3", ""} {
		var got any
		err := db.QueryRow("SELECT ?", d).Scan(&got)
		if err == nil || errors.Is(err, e6data.ErrQueryFailed) || !strings.Contains(err.Error(), "parameter 1") {
			t.Errorf("%q: got %#v err %v, want a clear client-side error", d, got, err)
		}
	}
}

func TestParamsPlaceholderScanningEndToEnd(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	for _, c := range []struct {
		q    string
		args []any
		want []any
	}{
		{"SELECT '?' AS a, ? AS b", []any{int64(1)}, []any{"?", int64(1)}},
		{`SELECT ? AS "?x?", '''?''' AS c`, []any{"v"}, []any{"v", "'?'"}},
		{"SELECT ? -- is this ? a placeholder?\n, 2", []any{int64(7)}, []any{int64(7), int32(2)}},
		{"SELECT /* ? */ ? /* /* nested ? */ ? */, 3", []any{"n"}, []any{"n", int32(3)}},
		{`SELECT E'it\'s ?', ?`, []any{"e"}, []any{"it's ?", "e"}},
		{"SELECT $$ ? $$, $q$ ?'$ $q$, ?", []any{"d"}, []any{" ? ", " ?'$ ", "d"}},
		{"SELECT ?;", []any{"semi;"}, []any{"semi;"}},
		{"SELECT ? ; \n", []any{int64(-1)}, []any{int64(-1)}},
	} {
		for _, mode := range paramModes {
			rows, err := db.Query(c.q, append(c.args, sql.Named("server_side_params", mode.server))...)
			if err != nil {
				t.Errorf("%s %q: %v", mode.name, c.q, err)
				continue
			}
			got := make([]any, len(c.want))
			ptrs := make([]any, len(got))
			for i := range got {
				ptrs[i] = &got[i]
			}
			if !rows.Next() {
				t.Errorf("%s %q: no row %v", mode.name, c.q, rows.Err())
			} else if err := rows.Scan(ptrs...); err != nil {
				t.Errorf("%s %q: %v", mode.name, c.q, err)
			} else if fmt.Sprint(got...) != fmt.Sprint(c.want...) { // INTEGER or LONG alike
				t.Errorf("%s %q: got %#v, want %#v", mode.name, c.q, got, c.want)
			}
			rows.Close()
		}
	}
}

func TestParamsCountMismatch(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	for _, c := range []struct {
		q    string
		args []any
		want string
	}{
		{"SELECT ?, ?", []any{1}, "2 '?' placeholders but 1 arguments"},
		{"SELECT ?", []any{1, 2}, "1 '?' placeholders but 2 arguments"},
		{"SELECT '?'", []any{1}, "0 '?' placeholders but 1 arguments"},
		{"SELECT 1 -- ?", []any{1}, "0 '?' placeholders"},
		{"SELECT 1 /* ? */", []any{1}, "0 '?' placeholders"},
		{`SELECT 1 AS "?"`, []any{1}, "0 '?' placeholders"},
	} {
		before := srv.Stats().RPCs["QueryEngineService/prepareStatementV2"]
		_, err := db.Query(c.q, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.q, err, c.want)
		}
		if srv.Stats().RPCs["QueryEngineService/prepareStatementV2"] != before {
			t.Errorf("%q: sent to the server", c.q)
		}
	}
	// Server-side: the server counts; its refusal is a clear query failure.
	for _, c := range []struct {
		q    string
		args []any
		want string
	}{
		{"SELECT ?, ?", []any{1}, "no value for parameter 2"},
		{"SELECT ?", []any{1, 2}, "out of range"},
	} {
		_, err := db.Query(c.q, append(c.args, sql.Named("server_side_params", true))...)
		if !errors.Is(err, e6data.ErrQueryFailed) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("server-side %q: err = %v, want ErrQueryFailed %q", c.q, err, c.want)
		}
	}
}

// TestParamsUnsupportedType: a type the connector cannot render is refused
// by database/sql's conversion before anything is sent.
func TestParamsUnsupportedType(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	for _, mode := range paramModes {
		_, err := db.Query("SELECT ?", struct{ X int }{1}, sql.Named("server_side_params", mode.server))
		if err == nil || !strings.Contains(err.Error(), "unsupported type") {
			t.Errorf("%s: err = %v", mode.name, err)
		}
	}
}

// decimalComposer is a decimal type of the kind database/sql's Compose
// interface serves (like apd.Decimal).
type decimalComposer struct {
	form     byte
	negative bool
	coef     *big.Int
	exp      int32
}

func (d *decimalComposer) Compose(form byte, negative bool, coefficient []byte, exponent int32) error {
	d.form, d.negative, d.coef, d.exp = form, negative, new(big.Int).SetBytes(coefficient), exponent
	return nil
}

func (d *decimalComposer) String() string {
	s := d.coef.String()
	if d.exp < 0 {
		n := int(-d.exp)
		if len(s) <= n {
			s = strings.Repeat("0", n-len(s)+1) + s
		}
		s = s[:len(s)-n] + "." + s[len(s)-n:]
	} else {
		s += strings.Repeat("0", int(d.exp))
	}
	if d.negative {
		s = "-" + s
	}
	return s
}

// Decimal columns scan into types implementing Compose.
func TestDecimalScansIntoComposer(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	var a, b, c decimalComposer
	if err := db.QueryRow("SELECT c_decimal_38_10, c_hugeint, c_decimal_4_1 FROM all_types WHERE id = 2").Scan(&a, &b, &c); err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		got  *decimalComposer
		want string
	}{{&a, "-9999999999999999999999999999.9999999999"}, {&b, "-170141183460469231731687303715884105728"}, {&c, "-999.9"}} {
		if x.got.form != 0 || x.got.String() != x.want {
			t.Errorf("composed %d %s, want %s", x.got.form, x.got, x.want)
		}
	}
}

// TestParamsInjectionInert: classic injection payloads as parameters
// select nothing, change nothing, and match only the row whose value they
// literally are - in both modes.
func TestParamsInjectionInert(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	total := count("SELECT count(*) FROM customers")
	for _, mode := range paramModes {
		named := sql.Named("server_side_params", mode.server)
		for _, payload := range []string{
			"x' OR '1'='1", "x' OR 1=1 --", "'; DROP TABLE customers; --", "' UNION SELECT 1 --",
			"Ada Lovelace' --", "Ada Lovelace'/*", "x\\' OR 1=1 --", "x\x00' OR '1'='1", "Ada Lovelace\x00",
			"x'; DELETE FROM customers WHERE '1'='1",
		} {
			if n := count("SELECT count(*) FROM customers WHERE name = ?", payload, named); n != 0 {
				t.Errorf("%s %q matched %d rows", mode.name, payload, n)
			}
		}
		if n := count("SELECT count(*) FROM customers WHERE name = ?", "Ada Lovelace", named); n != 1 {
			t.Errorf("%s: the plain value matched %d rows", mode.name, n)
		}
	}
	if n := count("SELECT count(*) FROM customers"); n != total || total != 10 {
		t.Fatalf("customers went from %d to %d rows", total, n)
	}
}
