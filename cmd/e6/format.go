package main

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/e6go/e6data"
)

// column is one result column as the formatters see it.
type column struct {
	name string
	typ  string // the e6data type name (LONG, DECIMAL128, DATE, ...)
}

// formatter writes one result set.
type formatter interface {
	// row writes (or buffers) one row; vals are the scanned values.
	row(vals []any) error
	// end finishes the result set.
	end() error
}

func newFormatter(format string, w io.Writer, cols []column, expanded bool) (formatter, error) {
	switch format {
	case "table":
		return &tableFormatter{w: w, cols: cols, expanded: expanded}, nil
	case "csv":
		return newCSVFormatter(w, cols)
	case "json":
		return &jsonFormatter{w: w, cols: cols, array: true}, nil
	case "jsonl":
		return &jsonFormatter{w: w, cols: cols}, nil
	}
	return nil, usagef("-o %q: want table, csv, json or jsonl", format)
}

// text renders a value for the table and CSV formats; ok is false for NULL.
// Dates are YYYY-MM-DD, timestamps RFC 3339 with fractional seconds,
// binary values \x followed by hex digits, decimals exactly as received.
func text(v any, typ string) (s string, ok bool) {
	switch v := v.(type) {
	case nil:
		return "", false
	case string:
		return v, true
	case []byte:
		return `\x` + hex.EncodeToString(v), true
	case bool:
		return strconv.FormatBool(v), true
	case int32:
		return strconv.FormatInt(int64(v), 10), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case float32:
		return strconv.FormatFloat(float64(v), 'g', -1, 32), true
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), true
	case e6data.Decimal:
		return string(v), true
	case time.Time:
		return formatTime(v, typ), true
	}
	return fmt.Sprint(v), true
}

func formatTime(t time.Time, typ string) string {
	if typ == "DATE" {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339Nano)
}

// tableWindow is the number of rows a table is aligned on: the first
// tableWindow rows are held to measure the columns, the rest are written as
// they come (a wider value then overflows its column), so that memory stays
// flat however many rows a result has.
const tableWindow = 1000

// tableFormatter aligns the columns on the first rows (tableWindow) and
// streams the rest; NULL is shown as NULL, control characters escaped. In
// expanded mode (\x) each row is a block with one line per column, written
// at once.
type tableFormatter struct {
	w        io.Writer
	cols     []column
	expanded bool
	rows     [][]string // the rows held until the columns are measured
	widths   []int      // the column widths, once the window was written
	n        int        // rows seen
	buf      bytes.Buffer
}

func (f *tableFormatter) row(vals []any) error {
	r := make([]string, len(vals))
	for i, v := range vals {
		s, ok := text(v, f.cols[i].typ)
		if !ok {
			s = "NULL"
		}
		r[i] = escapeControl(s)
	}
	f.n++
	switch {
	case f.expanded:
		f.buf.Reset()
		f.writeRecord(&f.buf, f.n, r)
		_, err := f.w.Write(f.buf.Bytes())
		return err
	case f.widths != nil:
		f.buf.Reset()
		f.writeLine(&f.buf, r)
		_, err := f.w.Write(f.buf.Bytes())
		return err
	}
	f.rows = append(f.rows, r)
	if len(f.rows) >= tableWindow {
		return f.flushWindow()
	}
	return nil
}

// flushWindow measures the held rows, writes the header and them, and
// lets the following rows stream.
func (f *tableFormatter) flushWindow() error {
	f.buf.Reset()
	f.writeTable(&f.buf)
	f.rows = nil
	_, err := f.w.Write(f.buf.Bytes())
	return err
}

var controlEscaper = strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`)

func escapeControl(s string) string { return controlEscaper.Replace(s) }

// width is the number of terminal columns s takes: East Asian wide
// characters and emoji take two, combining marks none, others one.
func width(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

func runeWidth(r rune) int {
	switch {
	case r < 0x300:
		return 1
	case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) || r == 0x200B:
		return 0
	case r >= 0x1100 && r <= 0x115F, r >= 0x2E80 && r <= 0x303E, r >= 0x3041 && r <= 0x33FF,
		r >= 0x3400 && r <= 0x4DBF, r >= 0x4E00 && r <= 0x9FFF, r >= 0xA000 && r <= 0xA4CF,
		r >= 0xAC00 && r <= 0xD7A3, r >= 0xF900 && r <= 0xFAFF, r >= 0xFE30 && r <= 0xFE4F,
		r >= 0xFF00 && r <= 0xFF60, r >= 0xFFE0 && r <= 0xFFE6, r >= 0x1F300 && r <= 0x1F64F,
		r >= 0x1F900 && r <= 0x1F9FF, r >= 0x20000 && r <= 0x3FFFD:
		return 2
	}
	return 1
}

func pad(s string, w int, right bool) string {
	n := w - width(s)
	if n <= 0 {
		return s
	}
	if right {
		return strings.Repeat(" ", n) + s
	}
	return s + strings.Repeat(" ", n)
}

func isNumericType(t string) bool {
	switch t {
	case "INTEGER", "LONG", "FLOAT", "DOUBLE", "DECIMAL128":
		return true
	}
	return false
}

func rowCount(n int) string {
	if n == 1 {
		return "(1 row)"
	}
	return fmt.Sprintf("(%d rows)", n)
}

func (f *tableFormatter) end() error {
	if !f.expanded && f.widths == nil {
		if err := f.flushWindow(); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(f.w, rowCount(f.n))
	return err
}

// measure sets the column widths from the names and the held rows.
func (f *tableFormatter) measure() {
	f.widths = make([]int, len(f.cols))
	for i, c := range f.cols {
		f.widths[i] = width(c.name)
	}
	for _, r := range f.rows {
		for i, s := range r {
			f.widths[i] = max(f.widths[i], width(s))
		}
	}
}

// writeCells writes one line of cells padded to the widths.
func (f *tableFormatter) writeCells(b tableBuffer, cells []string, right func(i int) bool) {
	for i, s := range cells {
		if i > 0 {
			b.WriteString(" | ")
		}
		if i == len(cells)-1 && !right(i) {
			b.WriteString(s) // no trailing blanks
			continue
		}
		b.WriteString(pad(s, f.widths[i], right(i)))
	}
	b.WriteByte('\n')
}

func (f *tableFormatter) writeLine(b tableBuffer, r []string) {
	f.writeCells(b, r, func(i int) bool { return isNumericType(f.cols[i].typ) })
}

// writeTable measures the held rows and writes the header and them.
func (f *tableFormatter) writeTable(b tableBuffer) {
	f.measure()
	names := make([]string, len(f.cols))
	for i, c := range f.cols {
		names[i] = c.name
	}
	f.writeCells(b, names, func(int) bool { return false })
	for i, w := range f.widths {
		if i > 0 {
			b.WriteString("-+-")
		}
		b.WriteString(strings.Repeat("-", w))
	}
	b.WriteByte('\n')
	for _, r := range f.rows {
		f.writeLine(b, r)
	}
}

// writeRecord writes row n (from 1) as an expanded block.
func (f *tableFormatter) writeRecord(b tableBuffer, n int, r []string) {
	w := 0
	for _, c := range f.cols {
		w = max(w, width(c.name))
	}
	fmt.Fprintf(b, "-[ RECORD %d ]%s\n", n, strings.Repeat("-", max(0, w-8)))
	for i, s := range r {
		fmt.Fprintf(b, "%s | %s\n", pad(f.cols[i].name, w, false), s)
	}
}

// csvFormatter writes RFC 4180 CSV with a header row; NULL is an empty field.
type csvFormatter struct {
	w    *csv.Writer
	cols []column
	rec  []string
}

func newCSVFormatter(w io.Writer, cols []column) (*csvFormatter, error) {
	f := &csvFormatter{w: csv.NewWriter(w), cols: cols, rec: make([]string, len(cols))}
	for i, c := range cols {
		f.rec[i] = c.name
	}
	return f, f.w.Write(f.rec)
}

func (f *csvFormatter) row(vals []any) error {
	for i, v := range vals {
		f.rec[i], _ = text(v, f.cols[i].typ)
	}
	return f.w.Write(f.rec)
}

func (f *csvFormatter) end() error {
	f.w.Flush()
	return f.w.Error()
}

// jsonFormatter writes each row as an object with the columns in result
// order: as one JSON array with an object per line (json) or as one object
// per line (jsonl). Integers, floats and booleans are JSON numbers and
// booleans; DECIMAL128 values are strings with the exact digits (JSON
// readers commonly parse numbers as float64, which would lose them); NaN and
// infinities are the strings "NaN", "+Inf", "-Inf"; dates "YYYY-MM-DD",
// timestamps RFC 3339 with nanoseconds; binary values base64 strings; NULL
// is null.
type jsonFormatter struct {
	w     io.Writer
	cols  []column
	array bool
	n     int
	buf   []byte
	names [][]byte
}

func (f *jsonFormatter) row(vals []any) error {
	if f.names == nil {
		f.names = make([][]byte, len(f.cols))
		for i, c := range f.cols {
			f.names[i] = jsonString(c.name)
		}
	}
	b := f.buf[:0]
	if f.array {
		if f.n == 0 {
			b = append(b, "[\n"...)
		} else {
			b = append(b, ",\n"...)
		}
	}
	b = append(b, '{')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, f.names[i]...)
		b = append(b, ':')
		b = appendJSONValue(b, v, f.cols[i].typ)
	}
	b = append(b, '}')
	if !f.array {
		b = append(b, '\n')
	}
	f.n++
	f.buf = b
	_, err := f.w.Write(b)
	return err
}

func (f *jsonFormatter) end() error {
	if !f.array {
		return nil
	}
	s := "\n]\n"
	if f.n == 0 {
		s = "[]\n"
	}
	_, err := io.WriteString(f.w, s)
	return err
}

// jsonString quotes s as a JSON string without HTML escaping; invalid UTF-8
// becomes U+FFFD.
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return []byte(`""`) // a string always encodes
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func appendFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"+Inf"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Inf"`...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits)
}

func appendJSONValue(b []byte, v any, typ string) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, v)
	case int32:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case float32:
		return appendFloat(b, float64(v), 32)
	case float64:
		return appendFloat(b, v, 64)
	case e6data.Decimal:
		return append(b, jsonString(string(v))...)
	case string:
		return append(b, jsonString(v)...)
	case []byte:
		return append(b, jsonString(base64.StdEncoding.EncodeToString(v))...)
	case time.Time:
		return append(b, jsonString(formatTime(v, typ))...)
	}
	return append(b, jsonString(fmt.Sprint(v))...)
}

// tableBuffer is where tables are laid out.
type tableBuffer interface {
	io.Writer
	io.ByteWriter
	io.StringWriter
}
