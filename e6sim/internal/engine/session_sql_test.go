//go:build cgo

package engine

import (
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/e6go/e6data/internal/enginepb"
	"github.com/e6go/e6data/internal/wire"
)

// SET TimeZone run as a query lasts for the session: TIMESTAMPTZ values
// then come in that zone, end to end.
func TestSessionSetTimeZone(t *testing.T) {
	h := serve(t, testDB(t), Options{})
	sid := h.auth(t)
	tzQuery := "SELECT c_timestamptz, CAST(c_timestamptz AS VARCHAR) AS txt FROM all_types WHERE id = 1"
	for _, set := range []string{"SET TimeZone = 'Asia/Kolkata'", "set timezone to 'Asia/Kolkata';", "SET TIME ZONE 'Asia/Kolkata'"} {
		other := h.auth(t) // a session of its own
		h.query(t, other, set)
		m, cs := h.query(t, other, tzQuery)
		if m.Fields[0].Zone != "Asia/Kolkata" || cs[0].Vectors[0].Zone(0) != "Asia/Kolkata" {
			t.Fatalf("%s: zone %q / %q", set, m.Fields[0].Zone, cs[0].Vectors[0].Zone(0))
		}
		if v := cs[0].Vectors[0].Int64(0); v != micros(2024, 2, 29, 13, 14, 15, 123456) {
			t.Fatalf("%s: instant changed: %d", set, v)
		}
		if txt := string(cs[0].Vectors[1].BytesAt(0)); txt != "2024-02-29 18:44:15.123456+05:30" {
			t.Fatalf("%s: text %q", set, txt)
		}
	}
	// Other sessions keep UTC.
	m, cs := h.query(t, sid, tzQuery)
	if m.Fields[0].Zone != "UTC" || string(cs[0].Vectors[1].BytesAt(0)) != "2024-02-29 13:14:15.123456+00" {
		t.Fatalf("another session: zone %q, %q", m.Fields[0].Zone, cs[0].Vectors[1].BytesAt(0))
	}
	// An unknown zone fails the prepare and changes nothing.
	_, err := h.c.PrepareStatementV2(h.ctx, &enginepb.PrepareStatementV2Request{SessionId: sid, Catalog: "sample", Schema: "main", QueryString: "SET TimeZone = 'Mars/Olympus'"})
	wantCode(t, err, codes.InvalidArgument, "Mars/Olympus")
	// A SET prepared but never executed does not apply.
	h.prepare(t, sid, "SET TimeZone = 'Asia/Tokyo'")
	if m := h.metadataOf(t, sid, tzQuery); m.Fields[0].Zone != "UTC" {
		t.Fatalf("an unexecuted SET applied: %q", m.Fields[0].Zone)
	}
}

func (h *harness) metadataOf(t *testing.T, sid, sql string) *wire.Metadata {
	m, _ := h.query(t, sid, sql)
	return m
}

// DATE and TIMESTAMP values the wire cannot carry (beyond the int64
// microseconds since the epoch, or ±infinity) are a clear SQL error, not
// values clamped to a made-up year; NULLs and values in range still read.
func TestDateRangeError(t *testing.T) {
	h := serve(t, testDB(t), Options{})
	sid := h.auth(t)
	for _, sql := range []string{
		"SELECT DATE 'infinity' AS d",
		"SELECT DATE '-infinity' AS d",
		"SELECT DATE '5000000-01-01' AS d",
		"SELECT TIMESTAMP 'infinity' AS t",
		"SELECT TIMESTAMPTZ '-infinity' AS t",
		"SELECT CAST(TIMESTAMP 'infinity' AS TIMESTAMP_S) AS t",
		"SELECT CAST(TIMESTAMP 'infinity' AS TIMESTAMP_MS) AS t",
		"SELECT CAST(TIMESTAMP 'infinity' AS TIMESTAMP_NS) AS t",
		"SELECT d FROM (VALUES (DATE '2024-01-01'), (NULL), (DATE 'infinity')) v(d)",
	} {
		t.Run(sql, func(t *testing.T) {
			qid := h.prepare(t, sid, sql)
			h.execute(t, sid, qid)
			_, err := h.c.GetNextResultBatch(h.ctx, &enginepb.GetNextResultBatchRequest{SessionId: sid, QueryId: qid})
			wantCode(t, err, codes.InvalidArgument, "Out of Range Error")
			wantCode(t, err, codes.InvalidArgument, "int64 microseconds")
			h.clear(t, sid, qid)
		})
	}
	_, cs := h.query(t, sid, "SELECT d FROM (VALUES (DATE '2024-01-01'), (NULL), (DATE '-290000-01-01')) v(d)")
	v := cs[0].Vectors[0]
	if v.Int64(0) != micros(2024, 1, 1, 0, 0, 0, 0) || !v.IsNull(1) || v.Int64(2) >= 0 {
		t.Fatalf("values %v nulls %v", v.Int64s, v.Nulls)
	}
}
