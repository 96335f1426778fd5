package e6data

import (
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/e6go/e6data/internal/wire"
)

// Batches e6data's own client reads though a strict reading of the layout
// would refuse them (docs/protocol.md §8), read through the rows as a fetched
// batch is: decode, conform to the metadata, Next. The bytes are the
// hand-built fixtures of internal/wire/testdata/lenient.

func lenientFixture(t *testing.T, name string) []byte {
	t.Helper()
	s, err := os.ReadFile(filepath.Join("internal", "wire", "testdata", "lenient", name+".hex"))
	if err != nil {
		t.Fatal(err)
	}
	var clean strings.Builder
	for line := range strings.SplitSeq(string(s), "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		clean.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(clean.String())
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

// lenientRows reads the batch of fixture under the given columns (name and
// type) and returns every row, or the error.
func lenientRows(t *testing.T, fixture string, cols ...string) (*rows, [][]driver.Value, error) {
	t.Helper()
	r := &rows{done: true}
	for _, c := range cols {
		name, typ, _ := strings.Cut(c, " ")
		vt, ok := wire.ParseVectorType(typ)
		if !ok {
			vt = -1
		}
		r.cols = append(r.cols, column{name: name, typ: vt, typeName: typ})
		r.names = append(r.names, name)
	}
	r.strs = make([]batchStrings, len(cols))
	if err := wire.DecodeChunk(lenientFixture(t, fixture), &r.chunk); err != nil {
		return r, nil, err
	}
	if msg, ok := conform(r.cols, &r.chunk); !ok {
		return r, nil, errors.New(msg)
	}
	r.adopt(&r.chunk)
	var out [][]driver.Value
	for {
		dest := make([]driver.Value, len(cols))
		err := r.Next(dest)
		if err == io.EOF {
			return r, out, nil
		}
		if err != nil {
			return r, out, err
		}
		out = append(out, dest)
	}
}

func TestLenientBatches(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		fixture string
		cols    []string
		want    [][]driver.Value
	}{
		{"decimal_empty_null", []string{"d DECIMAL128"}, [][]driver.Value{{Decimal("123.45")}, {nil}}},
		{"decimal_const_null", []string{"d DECIMAL128"}, [][]driver.Value{{nil}, {nil}, {nil}}},
		{"short_list_nulls", []string{"l LONG"}, [][]driver.Value{{int64(7)}, {nil}, {nil}}},
		{"all_null_no_data", []string{"s STRING"}, [][]driver.Value{{nil}, {nil}}},
		{"null_type_bare", []string{"n STRING"}, [][]driver.Value{{nil}, {nil}}},
		{"decimal_text", []string{"t DECIMAL128", "c DECIMAL128"}, [][]driver.Value{
			{Decimal("123.45"), Decimal("-0.5")}, {Decimal("-0.50"), Decimal("-0.5")},
			{Decimal("1000.00"), Decimal("-0.5")}, {Decimal("5.00"), Decimal("-0.5")}}},
		{"decimal_negative_scale", []string{"d DECIMAL128"}, [][]driver.Value{{Decimal("12000")}}},
		// INTEGER under LONG, FLOAT under DOUBLE: widened; the third
		// vector has no metadata field and is ignored.
		{"widen_extra", []string{"a LONG", "b DOUBLE"}, [][]driver.Value{{int64(1), 1.5}, {int64(-2), 0.25}}},
		{"date_not_midnight", []string{"d DATE"}, [][]driver.Value{{day(1970, 1, 2)}, {day(1969, 12, 31)}}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			_, got, err := lenientRows(t, tc.fixture, tc.cols...)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

// A negative DECIMAL128 scale is reported as such, not as "unknown".
func TestLenientNegativeScaleDecimalSize(t *testing.T) {
	r, _, err := lenientRows(t, "decimal_negative_scale", "d DECIMAL128")
	if err != nil {
		t.Fatal(err)
	}
	if p, s, ok := r.ColumnTypePrecisionScale(0); !ok || p != 38 || s != -3 {
		t.Fatalf("ColumnTypePrecisionScale = %d, %d, %v; want 38, -3, true", p, s, ok)
	}
	r2 := &rows{cols: []column{{name: "d", typ: wire.Decimal128}}}
	if _, _, ok := r2.ColumnTypePrecisionScale(0); ok {
		t.Fatal("scale reported before any batch was read")
	}
}

// What does not fit the metadata stays an error: a narrowing, a change of
// kind, fewer vectors than columns.
func TestLenientStillRefused(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		cols    []string
		msg     string
	}{
		{"short_list_nulls", []string{"l INTEGER"}, "column 0 (l): vector type LONG does not match metadata INTEGER"},
		{"widen_extra", []string{"a LONG", "b DOUBLE", "c STRING", "d LONG"}, "batch has 3 columns, metadata has 4"},
		{"widen_extra", []string{"a STRING", "b DOUBLE"}, "column 0 (a): vector type INTEGER does not match metadata STRING"},
		{"widen_extra", []string{"a DOUBLE", "b DOUBLE"}, "column 0 (a): vector type INTEGER does not match metadata DOUBLE"},
	} {
		_, _, err := lenientRows(t, tc.fixture, tc.cols...)
		if err == nil || err.Error() != tc.msg {
			t.Errorf("%s %v: got %v, want %q", tc.fixture, tc.cols, err, tc.msg)
		}
	}
}
