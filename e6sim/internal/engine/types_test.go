//go:build cgo

package engine

import (
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/e6go/e6data/internal/enginepb"
	"github.com/e6go/e6data/internal/wire"
)

func micros(y int, mo time.Month, d, h, mi, s, us int) int64 {
	return time.Date(y, mo, d, h, mi, s, us*1000, time.UTC).UnixMicro()
}

// allTypesWant is the documented content of sample.main.all_types, rows 1-3
// (row 4 is NULL in every column but id). Values are what the wire carries.
var allTypesWant = []struct {
	col  string
	typ  wire.VectorType
	vals [3]any
}{
	{"c_boolean", wire.Boolean, [3]any{true, false, true}},
	{"c_tinyint", wire.Integer, [3]any{int32(1), int32(-128), int32(127)}},
	{"c_smallint", wire.Integer, [3]any{int32(2), int32(-32768), int32(32767)}},
	{"c_integer", wire.Integer, [3]any{int32(3), int32(math.MinInt32), int32(math.MaxInt32)}},
	{"c_bigint", wire.Long, [3]any{int64(4), int64(math.MinInt64), int64(math.MaxInt64)}},
	{"c_hugeint", wire.Decimal128, [3]any{"5", "-170141183460469231731687303715884105728", "170141183460469231731687303715884105727"}},
	{"c_utinyint", wire.Integer, [3]any{int32(6), int32(0), int32(255)}},
	{"c_usmallint", wire.Integer, [3]any{int32(7), int32(0), int32(65535)}},
	{"c_uinteger", wire.Long, [3]any{int64(8), int64(0), int64(4294967295)}},
	{"c_ubigint", wire.Decimal128, [3]any{"9", "0", "18446744073709551615"}},
	{"c_decimal_4_1", wire.Decimal128, [3]any{"12.5", "-999.9", "999.9"}},
	{"c_decimal_9_2", wire.Decimal128, [3]any{"1234.56", "-9999999.99", "9999999.99"}},
	{"c_decimal_18_3", wire.Decimal128, [3]any{"123456789012345.678", "-999999999999999.999", "999999999999999.999"}},
	{"c_decimal_38_10", wire.Decimal128, [3]any{"1234567890123456789012345678.1234567890", "-9999999999999999999999999999.9999999999", "9999999999999999999999999999.9999999999"}},
	{"c_decimal_38_0", wire.Decimal128, [3]any{"12345678901234567890123456789012345678", "-99999999999999999999999999999999999999", "99999999999999999999999999999999999999"}},
	{"c_float", wire.Float, [3]any{1.5, -0.25, float64(float32(3.4028235e38))}},
	{"c_double", wire.Double, [3]any{3.141592653589793, -2.5e-300, 1.7976931348623157e308}},
	{"c_varchar", wire.String, [3]any{"hello, world", "naïve café 日本語 🎉 'single' \"double\" back\\slash tab\tend", ""}},
	{"c_uuid", wire.String, [3]any{"123e4567-e89b-12d3-a456-426614174000", "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"}},
	{"c_enum", wire.String, [3]any{"happy", "sad", "ok"}},
	{"c_interval", wire.String, [3]any{"1 year 2 months 3 days 04:05:06.789", "-1 day -00:00:01", "00:00:00"}},
	{"c_time", wire.String, [3]any{"12:34:56.789012", "00:00:00", "23:59:59.999999"}},
	{"c_blob", wire.Binary, [3]any{"\xde\xad\xbe\xef", "", "\x00\x80\xff"}},
	{"c_date", wire.Date, [3]any{micros(2024, 2, 29, 0, 0, 0, 0), micros(1969, 7, 20, 0, 0, 0, 0), micros(9999, 12, 31, 0, 0, 0, 0)}},
	{"c_timestamp", wire.DateTime, [3]any{micros(2024, 2, 29, 13, 14, 15, 123456), micros(1969, 7, 20, 20, 17, 40, 123456), micros(9999, 12, 31, 23, 59, 59, 999999)}},
	{"c_timestamp_s", wire.DateTime, [3]any{micros(2024, 2, 29, 13, 14, 15, 0), micros(1900, 1, 1, 0, 0, 0, 0), micros(2038, 1, 19, 3, 14, 8, 0)}},
	{"c_timestamp_ms", wire.DateTime, [3]any{micros(2024, 2, 29, 13, 14, 15, 123000), micros(1969, 12, 31, 23, 59, 59, 999000), micros(2100, 1, 1, 0, 0, 0, 1000)}},
	{"c_timestamp_ns", wire.DateTime, [3]any{micros(2024, 2, 29, 13, 14, 15, 123456), int64(-1), micros(2262, 4, 11, 23, 47, 16, 854775)}},
	{"c_timestamptz", wire.TimestampTZ, [3]any{micros(2024, 2, 29, 13, 14, 15, 123456), micros(1969, 7, 20, 20, 17, 40, 500000), micros(9999, 12, 31, 23, 59, 59, 999999)}},
	{"c_list", wire.Array, [3]any{"[1, 2, NULL]", "[]", "[NULL]"}},
	{"c_array", wire.Array, [3]any{"[1, 2, 3]", "[-1, 0, NULL]", "[7, 8, 9]"}},
	{"c_map", wire.Map, [3]any{"{a=1, b=NULL}", "{}", "{k=2147483647}"}},
	{"c_struct", wire.Struct, [3]any{"{'a': 1, 'b': x}", "{'a': NULL, 'b': 'it\\'s'}", "{'a': 2147483647, 'b': NULL}"}},
}

// value returns row's value of v as the Go value the tables above use.
func value(v *wire.Vector, row int) any {
	switch v.Type {
	case wire.Boolean:
		return v.Bool(row)
	case wire.Integer:
		return v.Int32(row)
	case wire.Long, wire.Date, wire.DateTime, wire.TimestampTZ:
		return v.Int64(row)
	case wire.Float, wire.Double:
		return v.Float64(row)
	case wire.Decimal128:
		return v.Decimal(row).Format(v.Scale)
	default:
		return string(v.BytesAt(row))
	}
}

func TestAllTypesExactValues(t *testing.T) {
	h := serve(t, testDB(t), Options{})
	sid := h.auth(t)
	m, cs := h.query(t, sid, "SELECT * FROM all_types ORDER BY id")
	if len(cs) != 1 || cs[0].Rows != 4 {
		t.Fatalf("want 1 batch of 4 rows, got %d batches", len(cs))
	}
	c := cs[0]
	if m.RowCount != -1 && m.RowCount != 4 {
		t.Fatalf("rowCount %d", m.RowCount)
	}
	if len(m.Fields) != len(allTypesWant)+1 || len(c.Vectors) != len(m.Fields) {
		t.Fatalf("%d fields, %d vectors, want %d", len(m.Fields), len(c.Vectors), len(allTypesWant)+1)
	}
	if m.Fields[0].Name != "id" || m.Fields[0].Type != "INTEGER" {
		t.Fatalf("field 0 = %+v", m.Fields[0])
	}
	for i, w := range allTypesWant {
		f, v := m.Fields[i+1], &c.Vectors[i+1]
		if f.Name != w.col || f.Type != w.typ.String() || v.Type != w.typ {
			t.Errorf("column %d: field %+v vector %v, want %s %s", i+1, f, v.Type, w.col, w.typ)
			continue
		}
		wantZone := ""
		if w.typ == wire.TimestampTZ {
			wantZone = "UTC"
		}
		if f.Zone != wantZone {
			t.Errorf("%s: zone %q, want %q", w.col, f.Zone, wantZone)
		}
		for row := 0; row < 3; row++ {
			if v.IsNull(row) {
				t.Errorf("%s row %d: NULL", w.col, row+1)
				continue
			}
			if got := value(v, row); got != w.vals[row] {
				t.Errorf("%s row %d: got %#v, want %#v", w.col, row+1, got, w.vals[row])
			}
			if w.typ == wire.TimestampTZ && v.Zone(row) != "UTC" {
				t.Errorf("%s row %d: zone %q", w.col, row+1, v.Zone(row))
			}
		}
		if !v.IsNull(3) {
			t.Errorf("%s row 4: want NULL, got %#v", w.col, value(v, 3))
		}
	}
}

func TestBlobIsRawBytes(t *testing.T) {
	h := serve(t, testDB(t), Options{})
	sid := h.auth(t)
	_, cs := h.query(t, sid, "SELECT '\\x00\\xC3\\x28\\xFF'::BLOB AS b, encode('é') AS u")
	v := cs[0].Vectors
	if got := string(v[0].BytesAt(0)); got != "\x00\xc3\x28\xff" {
		t.Fatalf("blob %q", got)
	}
	if got := string(v[1].BytesAt(0)); got != "é" {
		t.Fatalf("blob %q", got)
	}
}

func TestNullTypeAndExpressions(t *testing.T) {
	h := serve(t, testDB(t), Options{})
	sid := h.auth(t)
	m, cs := h.query(t, sid, "SELECT NULL AS n, 1 AS a, 1 AS a, [1,2] AS l, {'x': [1]} AS s, '00000000-0000-0000-0000-000000000001'::UUID AS u FROM range(1)")
	_ = cs
	got := []string{}
	for _, f := range m.Fields {
		got = append(got, f.Name+":"+f.Type)
	}
	t.Logf("fields %v", got)
	if m.Fields[1].Name != "a" || m.Fields[2].Name != "a" {
		t.Fatalf("duplicate names lost: %v", got)
	}
	if m.Fields[3].Type != "ARRAY" || m.Fields[4].Type != "STRUCT" {
		t.Fatalf("types %v", got)
	}
	if s := string(cs[0].Vectors[4].BytesAt(0)); s != "{'x': [1]}" {
		t.Fatalf("struct text %q", s)
	}
}

func TestNullTypedColumn(t *testing.T) {
	h := serve(t, testDB(t), Options{})
	sid := h.auth(t)
	m, cs := h.query(t, sid, "SELECT NULL AS n")
	if m.Fields[0].Type != "NULL" && m.Fields[0].Type != "INTEGER" {
		t.Fatalf("NULL column typed %s", m.Fields[0].Type)
	}
	if !cs[0].Vectors[0].IsNull(0) {
		t.Fatal("not NULL")
	}
}

func TestTimeZoneProperty(t *testing.T) {
	h := serve(t, testDB(t), Options{})
	sid := h.auth(t)
	if _, err := h.c.SetProps(h.ctx, &enginepb.SetPropsRequest{SessionId: sid, Props: "TimeZone=Asia/Kolkata"}); err != nil {
		t.Fatal(err)
	}
	m, cs := h.query(t, sid, "SELECT c_timestamptz, CAST(c_timestamptz AS VARCHAR) AS txt FROM all_types WHERE id = 1")
	if m.Fields[0].Zone != "Asia/Kolkata" {
		t.Fatalf("zone %q", m.Fields[0].Zone)
	}
	v := cs[0].Vectors[0]
	if v.Int64(0) != micros(2024, 2, 29, 13, 14, 15, 123456) || v.Zone(0) != "Asia/Kolkata" {
		t.Fatalf("value %d zone %q", v.Int64(0), v.Zone(0))
	}
	if txt := string(cs[0].Vectors[1].BytesAt(0)); txt != "2024-02-29 18:44:15.123456+05:30" {
		t.Fatalf("session TimeZone not applied: %q", txt)
	}
	_, err := h.c.SetProps(h.ctx, &enginepb.SetPropsRequest{SessionId: sid, Props: "TimeZone=Mars/Olympus"})
	wantCode(t, err, 3, "Unknown TimeZone")
	_, err = h.c.SetProps(h.ctx, &enginepb.SetPropsRequest{SessionId: sid, Props: "threads=1"})
	wantCode(t, err, 3, "unsupported property")
	_, err = h.c.SetProps(h.ctx, &enginepb.SetPropsRequest{SessionId: sid, Props: "nonsense"})
	wantCode(t, err, 3, "key=value")
}

func TestSampleDatasetDocumented(t *testing.T) {
	doc, err := os.ReadFile("DATASET.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range allTypesWant {
		if !strings.Contains(string(doc), "`"+w.col+"`") {
			t.Errorf("DATASET.md does not document column %s", w.col)
		}
	}
	for _, table := range []string{"all_types", "numbers", "customers", "orders"} {
		if !strings.Contains(string(doc), table) {
			t.Errorf("DATASET.md does not document table %s", table)
		}
	}
}

func TestOpenDBIsFast(t *testing.T) {
	start := time.Now()
	db, err := OpenDB(t.Context(), DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	db.Close()
	t.Logf("OpenDB took %v", took)
	if took > 2*time.Second { // generous for -race on a busy 2-core machine; typically ~25 ms
		t.Fatalf("OpenDB took %v", took)
	}
}
