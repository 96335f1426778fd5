package main

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/e6go/e6data"
)

func TestSplitStatements(t *testing.T) {
	for _, tc := range []struct {
		src   string
		stmts []string
		rest  string
	}{
		{"", nil, ""},
		{"   \n", nil, ""},
		{"SELECT 1", nil, "SELECT 1"},
		{"SELECT 1;", []string{"SELECT 1"}, ""},
		{"SELECT 1; SELECT 2;", []string{"SELECT 1", "SELECT 2"}, ""},
		{"SELECT 1;\n  SELECT 2", []string{"SELECT 1"}, "SELECT 2"},
		{"SELECT ';' AS s;", []string{"SELECT ';' AS s"}, ""},
		{"SELECT 'it''s;' ;", []string{"SELECT 'it''s;'"}, ""},
		{`SELECT "a;""b" FROM t;`, []string{`SELECT "a;""b" FROM t`}, ""},
		{"SELECT `x;y`;", []string{"SELECT `x;y`"}, ""},
		{"SELECT 1 -- no; end\n;", []string{"SELECT 1 -- no; end"}, ""},
		{"SELECT /* ; */ 1;", []string{"SELECT /* ; */ 1"}, ""},
		{"SELECT /* open ;", nil, "SELECT /* open ;"},
		{"SELECT 'open\n;", nil, "SELECT 'open\n;"},
		{"SELECT 'open\n", nil, "SELECT 'open\n"}, // the newline is inside the literal
		{"-- only a comment;\n", nil, ""},
		{"/* c */;;  ;", nil, ""},
		{"SELECT 1;\n-- trailing comment\n", []string{"SELECT 1"}, ""},
		{"SELECT 2 - -1;", []string{"SELECT 2 - -1"}, ""},
		{"SELECT 4/2;", []string{"SELECT 4/2"}, ""},
	} {
		stmts, rest := splitStatements(tc.src)
		if !reflect.DeepEqual(stmts, tc.stmts) || rest != tc.rest {
			t.Errorf("splitStatements(%q) = %q, %q; want %q, %q", tc.src, stmts, rest, tc.stmts, tc.rest)
		}
	}
}

func FuzzSplitStatements(f *testing.F) {
	for _, s := range []string{"SELECT 1; SELECT ';'", "/* ; */ -- ;\n'x''y';", "`a;b`\"c\";"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		stmts, rest := splitStatements(src)
		for _, s := range stmts {
			if s == "" || s != strings.TrimSpace(s) {
				t.Fatalf("statement %q of %q is empty or not trimmed", s, src)
			}
		}
		// Splitting a statement again gives it back (it holds no terminator).
		for _, s := range stmts {
			if again, r := splitStatements(s); len(again) != 0 || strings.TrimSpace(r) != s {
				t.Fatalf("statement %q of %q splits again into %q, %q", s, src, again, r)
			}
		}
		if rest != "" && !strings.HasSuffix(src, rest) {
			t.Fatalf("rest %q is not the end of %q", rest, src)
		}
	})
}

func TestParseInterleaved(t *testing.T) {
	var a app
	for _, tc := range []struct {
		args []string
		pos  []string
		o    string
	}{
		{[]string{"SELECT 1"}, []string{"SELECT 1"}, "table"},
		{[]string{"-o", "csv", "SELECT 1"}, []string{"SELECT 1"}, "csv"},
		{[]string{"SELECT 1", "-o", "json"}, []string{"SELECT 1"}, "json"},
		{[]string{"a", "-o=jsonl", "b"}, []string{"a", "b"}, "jsonl"},
		{[]string{"-o", "csv", "--", "-o", "x"}, []string{"-o", "x"}, "csv"},
	} {
		a.format = "table"
		fs := a.newFlagSet("t")
		pos, err := parseInterleaved(fs, tc.args)
		if err != nil || !reflect.DeepEqual(pos, tc.pos) || a.format != tc.o {
			t.Errorf("%q: %q, -o %q, %v; want %q, -o %q", tc.args, pos, a.format, err, tc.pos, tc.o)
		}
	}
	if _, err := parseInterleaved(a.newFlagSet("t"), []string{"-x"}); err == nil {
		t.Error("unknown flag accepted")
	} else if _, ok := err.(usageError); !ok {
		t.Errorf("unknown flag: %T %v, want a usage error", err, err)
	}
	if _, err := parseInterleaved(a.newFlagSet("t"), []string{"-h"}); err != flag.ErrHelp {
		t.Errorf("-h: %v", err)
	}
}

var fmtCols = []column{{"i", "INTEGER"}, {"l", "LONG"}, {"d", "DOUBLE"}, {"f", "FLOAT"}, {"dec", "DECIMAL128"},
	{"s", "STRING"}, {"b", "BINARY"}, {"day", "DATE"}, {"ts", "TIMESTAMP_TZ"}, {"ok", "BOOLEAN"}}

func fmtRows(t *testing.T) [][]any {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		loc = time.FixedZone("IST", 5*3600+1800)
	}
	return [][]any{
		{int32(-7), int64(math.MaxInt64), 0.1, float32(1.5), e6data.Decimal("12345678901234567890.123"),
			"tab\there \"q\" <&>", []byte{0xde, 0xad}, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
			time.Date(2024, 2, 29, 13, 14, 15, 123456000, loc), true},
		{nil, nil, math.NaN(), float32(math.Inf(-1)), nil, "", []byte{}, nil, nil, nil},
		{int32(1), int64(2), math.Inf(1), float32(0), e6data.Decimal("-0.50"), "日本", nil, nil, nil, false},
	}
}

func render(t *testing.T, format string, expanded bool, cols []column, rows [][]any) string {
	t.Helper()
	var b bytes.Buffer
	f, err := newFormatter(format, &b, cols, expanded)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := f.row(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.end(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestFormatJSON(t *testing.T) {
	got := render(t, "json", false, fmtCols, fmtRows(t))
	want := `[
{"i":-7,"l":9223372036854775807,"d":0.1,"f":1.5,"dec":"12345678901234567890.123","s":"tab\there \"q\" <&>","b":"3q0=","day":"2024-02-29","ts":"2024-02-29T13:14:15.123456+05:30","ok":true},
{"i":null,"l":null,"d":"NaN","f":"-Inf","dec":null,"s":"","b":"","day":null,"ts":null,"ok":null},
{"i":1,"l":2,"d":"+Inf","f":0,"dec":"-0.50","s":"日本","b":null,"day":null,"ts":null,"ok":false}
]
`
	if got != want {
		t.Errorf("json:\n%s\nwant:\n%s", got, want)
	}
	if got := render(t, "json", false, fmtCols, nil); got != "[]\n" {
		t.Errorf("empty json: %q", got)
	}
	lines := render(t, "jsonl", false, fmtCols, fmtRows(t))
	if n := strings.Count(lines, "\n"); n != 3 || !strings.HasPrefix(lines, `{"i":-7,`) {
		t.Errorf("jsonl: %q", lines)
	}
	if got := render(t, "jsonl", false, fmtCols, nil); got != "" {
		t.Errorf("empty jsonl: %q", got)
	}
	// Column order is the result's, duplicates included.
	dup := []column{{"z", "INTEGER"}, {"a", "INTEGER"}, {"z", "INTEGER"}}
	if got := render(t, "jsonl", false, dup, [][]any{{int32(1), int32(2), int32(3)}}); got != `{"z":1,"a":2,"z":3}`+"\n" {
		t.Errorf("order: %q", got)
	}
}

func TestFormatTextual(t *testing.T) {
	rows := fmtRows(t)
	csvOut := render(t, "csv", false, fmtCols, rows)
	wantCSV := "i,l,d,f,dec,s,b,day,ts,ok\n" +
		"-7,9223372036854775807,0.1,1.5,12345678901234567890.123,\"tab\there \"\"q\"\" <&>\",\\xdead,2024-02-29,2024-02-29T13:14:15.123456+05:30,true\n" +
		",,NaN,-Inf,,,\\x,,,\n" +
		"1,2,+Inf,0,-0.50,日本,,,,false\n"
	if csvOut != wantCSV {
		t.Errorf("csv:\n%s\nwant:\n%s", csvOut, wantCSV)
	}

	cols := []column{{"n", "LONG"}, {"name", "STRING"}, {"note", "STRING"}}
	tab := render(t, "table", false, cols, [][]any{{int64(1), "日本", "a\nb"}, {int64(1234), nil, "x"}})
	wantTab := "" +
		"n    | name | note\n" +
		"-----+------+-----\n" +
		"   1 | 日本 | a\\nb\n" +
		"1234 | NULL | x\n" +
		"(2 rows)\n"
	if tab != wantTab {
		t.Errorf("table:\n%s\nwant:\n%s", tab, wantTab)
	}
	exp := render(t, "table", true, cols, [][]any{{int64(1), "日本", nil}})
	wantExp := "-[ RECORD 1 ]\nn    | 1\nname | 日本\nnote | NULL\n(1 row)\n"
	if exp != wantExp {
		t.Errorf("expanded:\n%s\nwant:\n%s", exp, wantExp)
	}
	if _, err := newFormatter("xml", &bytes.Buffer{}, cols, false); err == nil {
		t.Error("format xml accepted")
	}
}

func TestWidth(t *testing.T) {
	for s, want := range map[string]int{"": 0, "abc": 3, "naïve": 5, "nai\u0308ve": 5, "日本語": 6, "🎉": 2, "ｈｉ": 4} {
		if got := width(s); got != want {
			t.Errorf("width(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestHistory(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir)
	t.Setenv("HOME", dir)
	var warn bytes.Buffer
	h := openHistory(&warn)
	for _, l := range []string{"a", "b", "b", "  ", "c"} {
		h.Add(l)
	}
	if h.Len() != 3 || h.At(0) != "c" || h.At(2) != "a" {
		t.Fatalf("history %q", h.lines)
	}
	path := filepath.Join(dir, "e6", "history")
	if b, err := os.ReadFile(path); err != nil || string(b) != "a\nb\nc\n" {
		t.Fatalf("file %q, %v", b, err)
	}
	// Reloaded, and bounded to historyMax entries.
	var big strings.Builder
	for i := range historyMax + 10 {
		big.WriteString(strconv.Itoa(i) + "\n")
	}
	if err := os.WriteFile(path, []byte(big.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	h = openHistory(&warn)
	if h.Len() != historyMax || h.At(0) != strconv.Itoa(historyMax+9) || h.At(historyMax-1) != "10" {
		t.Fatalf("reloaded: len %d, newest %q", h.Len(), h.At(0))
	}
	if b, _ := os.ReadFile(path); strings.Count(string(b), "\n") != historyMax {
		t.Fatalf("file not trimmed to %d lines", historyMax)
	}
	for i := range 2 * historyMax {
		h.Add("x" + strconv.Itoa(i))
	}
	if b, _ := os.ReadFile(path); strings.Count(string(b), "\n") > 2*historyMax || h.Len() != historyMax {
		t.Fatalf("history grows without bound: %d lines in the file, len %d", strings.Count(string(b), "\n"), h.Len())
	}
	if warn.Len() != 0 {
		t.Fatalf("warnings: %s", warn.String())
	}
}
