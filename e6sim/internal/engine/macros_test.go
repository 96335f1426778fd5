//go:build cgo

package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/e6go/e6data/internal/enginepb"
)

// Every e6data function e6sim provides through a DuckDB macro, run as a
// client runs a query (prepare, execute, batches), with the value e6data
// documents for it.
func TestE6Macros(t *testing.T) {
	h := serve(t, testDB(t), Options{})
	sid := h.auth(t)
	for _, tc := range []struct{ name, expr, want string }{
		{"nvl", "nvl(NULL, 3)", "3"},
		{"nvl keeps a value", "nvl('a', 'b')", "a"},
		{"timestamp_add", "timestamp_add('day', 3, TIMESTAMP '2024-02-27 10:00:00')", "2024-03-01 10:00:00"},
		{"timestamp_add quarter", "timestamp_add('quarter', 1, TIMESTAMP '2024-02-27 00:00:00')", "2024-05-27 00:00:00"},
		{"timestamp_add millisecond", "timestamp_add('millisecond', 5, TIMESTAMP '2024-02-27 10:00:00')", "2024-02-27 10:00:00.005"},
		{"timestamp_diff", "timestamp_diff(TIMESTAMP '2024-03-01 00:00:00', TIMESTAMP '2024-02-01 00:00:00', 'hour')", "696"},
		{"timestamp_diff negative", "timestamp_diff(TIMESTAMP '2024-02-01 00:00:00', TIMESTAMP '2024-03-01 00:00:00', 'day')", "-29"},
		{"date_diff in days", "date_diff(DATE '2024-03-01', DATE '2024-02-01')", "29"},
		{"date_diff with a unit", "date_diff(DATE '2024-03-01', DATE '2024-02-01', 'month')", "1"},
		{"date_diff unit first", "date_diff('day', DATE '2024-02-01', DATE '2024-03-01')", "29"},
		{"date_add", "date_add('day', 2, DATE '2024-02-28')", "2024-03-01 00:00:00"},
		{"date_add with an interval", "date_add(DATE '2024-02-28', INTERVAL 1 DAY)", "2024-02-29 00:00:00"},
		{"format_date", "format_date(DATE '2024-03-05', 'yyyy/MM/dd EEE MMM')", "2024/03/05 Tue Mar"},
		{"format_timestamp", "format_timestamp(TIMESTAMP '2024-03-05 07:08:09.123', 'yyyy-MM-dd HH:mm:ss.SSS')", "2024-03-05 07:08:09.123"},
		{"parse_date", "parse_date('%Y-%m-%d', '2024-03-05')", "2024-03-05"},
		{"parse_timestamp", "parse_timestamp('%Y-%m-%d %H:%M', '2024-03-05 07:08')", "2024-03-05 07:08:00"},
		{"to_unix_timestamp", "to_unix_timestamp(TIMESTAMP '2024-01-01 00:00:01')", "1704067201"},
		{"from_unixtime", "from_unixtime(1704067201)", "2024-01-01 00:00:01"},
		{"from_unixtime milliseconds", "from_unixtime(1704067201500, 'milliseconds')", "2024-01-01 00:00:01.5"},
		{"from_unixtime_withunit", "from_unixtime_withunit(1704067201, 'seconds')", "2024-01-01 00:00:01"},
		{"datetime in a zone", "datetime(TIMESTAMP '2024-01-01 00:00:00', 'Asia/Kolkata')", "2024-01-01 05:30:00"},
		{"datetime in UTC", "datetime(TIMESTAMP '2024-01-01 00:00:00')", "2024-01-01 00:00:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, cs := h.query(t, sid, "SELECT CAST("+tc.expr+" AS VARCHAR) AS v")
			if len(cs) != 1 || cs[0].Rows != 1 {
				t.Fatalf("%d batches", len(cs))
			}
			if got := string(cs[0].Vectors[0].BytesAt(0)); got != tc.want {
				t.Fatalf("%s = %q, want %q", tc.expr, got, tc.want)
			}
		})
	}
}

// The macros are found from a query in another schema too.
func TestE6MacrosInAnotherSchema(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "people.csv"), []byte("name,age\nann,31\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := OpenDB(t.Context(), DBOptions{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := serve(t, db, Options{})
	sid := h.auth(t)
	r, err := h.c.PrepareStatementV2(h.ctx, &enginepb.PrepareStatementV2Request{SessionId: sid, Catalog: "sample", Schema: "data",
		QueryString: "SELECT CAST(nvl(NULL, name) || ' ' || date_diff(DATE '2024-03-01', DATE '2024-02-01') AS VARCHAR) FROM people"})
	if err != nil {
		t.Fatal(err)
	}
	h.execute(t, sid, r.GetQueryId())
	c := h.batch(t, sid, r.GetQueryId())
	if c == nil || string(c.Vectors[0].BytesAt(0)) != "ann 29" {
		t.Fatalf("got %+v", c)
	}
	h.clear(t, sid, r.GetQueryId())
}
