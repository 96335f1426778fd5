//go:build cgo

package engine

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/e6go/e6data/internal/enginepb"
)

func TestV2Params(t *testing.T) {
	h := serve(t, testDB(t), Options{})
	sid := h.auth(t)
	qid := h.prepare(t, sid, "SELECT ? AS l, ? AS i, ? AS d, ? AS f, ? AS b, ? AS s, ? AS dt, ? AS ts, ? AS dec, ? AS n, ? AS tz")
	params := []*enginepb.ParameterValue{
		{Index: 1, Type: "LONG", Value: "-9223372036854775808"},
		{Index: 2, Type: "INTEGER", Value: "42"},
		{Index: 3, Type: "DOUBLE", Value: "2.5"},
		{Index: 4, Type: "FLOAT", Value: "0.5"},
		{Index: 5, Type: "BOOLEAN", Value: "true"},
		{Index: 6, Type: "STRING", Value: "it's ünïcode"},
		{Index: 7, Type: "DATE", Value: "1969-07-20"},
		{Index: 8, Type: "DATETIME", Value: "1969-07-20 20:17:40.123456"},
		{Index: 9, Type: "DECIMAL128", Value: "-12345678901234567890123456789.123456789"},
		{Index: 10, Type: "NULL"},
		{Index: 11, Type: "TIMESTAMP_TZ", Value: "2024-01-02T03:04:05.000006+02:00"},
	}
	if _, err := h.c.ExecuteStatementV2(h.ctx, &enginepb.ExecuteStatementV2Request{SessionId: sid, QueryId: qid, Params: params}); err != nil {
		t.Fatal(err)
	}
	m := h.metadata(t, sid, qid)
	c := h.batch(t, sid, qid)
	h.clear(t, sid, qid)
	want := []struct {
		typ string
		val any
	}{
		{"LONG", int64(-9223372036854775808)},
		{"INTEGER", int32(42)},
		{"DOUBLE", 2.5},
		{"FLOAT", 0.5},
		{"BOOLEAN", true},
		{"STRING", "it's ünïcode"},
		{"DATE", micros(1969, 7, 20, 0, 0, 0, 0)},
		{"DATETIME", micros(1969, 7, 20, 20, 17, 40, 123456)},
		{"DECIMAL128", "-12345678901234567890123456789.123456789"},
		{"", nil},
		{"TIMESTAMP_TZ", micros(2024, 1, 2, 1, 4, 5, 6)},
	}
	for i, w := range want {
		v := &c.Vectors[i]
		if w.val == nil {
			if !v.IsNull(0) {
				t.Errorf("param %d: not NULL", i+1)
			}
			continue
		}
		if m.Fields[i].Type != w.typ || value(v, 0) != w.val {
			t.Errorf("param %d: %s %#v, want %s %#v", i+1, m.Fields[i].Type, value(v, 0), w.typ, w.val)
		}
	}

	// 0-based indexes are accepted too; a typed placeholder.
	qid = h.prepare(t, sid, "SELECT s FROM numbers WHERE id = ? OR id = ? ORDER BY id")
	dp, err := h.c.GetDynamicParams(h.ctx, &enginepb.GetDynamicParamsRequest{SessionId: sid, QueryId: qid})
	if err != nil || len(dp.GetParams()) != 2 || dp.GetParams()[0].GetType() != "LONG" || dp.GetParams()[0].GetIndex() != 1 {
		t.Fatalf("dynamic params %v %v", dp.GetParams(), err)
	}
	if _, err := h.c.ExecuteStatementV2(h.ctx, &enginepb.ExecuteStatementV2Request{SessionId: sid, QueryId: qid, Params: []*enginepb.ParameterValue{
		{Index: 1, Type: "LONG", Value: "999999"}, {Index: 0, Type: "LONG", Value: "7"}}}); err != nil {
		t.Fatal(err)
	}
	c = h.batch(t, sid, qid)
	if c.Rows != 2 || string(c.Vectors[0].BytesAt(0)) != "row-7" || string(c.Vectors[0].BytesAt(1)) != "row-999999" {
		t.Fatalf("rows %d", c.Rows)
	}
	for _, bad := range [][]*enginepb.ParameterValue{
		nil,
		{{Index: 1, Type: "LONG", Value: "1"}},
		{{Index: 1, Type: "LONG", Value: "x"}, {Index: 2, Type: "LONG", Value: "1"}},
		{{Index: 1, Type: "WIDGET", Value: "1"}, {Index: 2, Type: "LONG", Value: "1"}},
		{{Index: 1, Type: "LONG", Value: "1"}, {Index: 3, Type: "LONG", Value: "1"}},
		{{Index: 1, Type: "LONG", Value: "1"}, {Index: 1, Type: "LONG", Value: "1"}},
	} {
		_, err := h.c.ExecuteStatementV2(h.ctx, &enginepb.ExecuteStatementV2Request{SessionId: sid, QueryId: qid, Params: bad})
		wantCode(t, err, codes.InvalidArgument, "")
	}
	h.clear(t, sid, qid)
}

func TestCatalogListing(t *testing.T) {
	h := serve(t, testDB(t), Options{})
	sid := h.auth(t)
	cats, err := h.c.GetCataloges(h.ctx, &enginepb.GetCatalogesRequest{})
	if err != nil || len(cats.GetCatalogResponses()) != 1 || cats.GetCatalogResponses()[0].GetName() != "sample" || !cats.GetCatalogResponses()[0].GetIsDefault() {
		t.Fatalf("catalogs %v %v", cats, err)
	}
	s1, err := h.c.GetSchemaNames(h.ctx, &enginepb.GetSchemaNamesRequest{SessionId: sid})
	if err != nil || strings.Join(s1.GetSchemas(), ",") != "main" {
		t.Fatalf("schemas V1 %v %v", s1, err)
	}
	s2, err := h.c.GetSchemaNamesV2(h.ctx, &enginepb.GetSchemaNamesV2Request{SessionId: sid, Catalog: "sample"})
	if err != nil || strings.Join(s2.GetSchemas(), ",") != "main" {
		t.Fatalf("schemas V2 %v %v", s2, err)
	}
	_, err = h.c.GetSchemaNamesV2(h.ctx, &enginepb.GetSchemaNamesV2Request{SessionId: sid, Catalog: "system"})
	wantCode(t, err, codes.NotFound, "catalog")
	const tables = "all_types,customers,numbers,orders"
	t1, err := h.c.GetTables(h.ctx, &enginepb.GetTablesRequest{SessionId: sid, Schema: "main"})
	if err != nil || strings.Join(t1.GetTables(), ",") != tables {
		t.Fatalf("tables V1 %v %v", t1, err)
	}
	t2, err := h.c.GetTablesV2(h.ctx, &enginepb.GetTablesV2Request{SessionId: sid, Catalog: "SAMPLE", Schema: "Main"})
	if err != nil || strings.Join(t2.GetTables(), ",") != tables {
		t.Fatalf("tables V2 %v %v", t2, err)
	}
	c1, err := h.c.GetColumns(h.ctx, &enginepb.GetColumnsRequest{SessionId: sid, Schema: "main", Table: "numbers"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range c1.GetFieldInfo() {
		got = append(got, f.GetFieldName()+":"+f.GetFieldType())
	}
	if strings.Join(got, ",") != "id:LONG,x:DOUBLE,s:STRING,g:INTEGER" {
		t.Fatalf("columns V1 %v", got)
	}
	c2, err := h.c.GetColumnsV2(h.ctx, &enginepb.GetColumnsV2Request{SessionId: sid, Catalog: "sample", Schema: "main", Table: "all_types"})
	if err != nil || len(c2.GetFieldInfo()) != len(allTypesWant)+1 {
		t.Fatalf("columns V2 %v %v", c2, err)
	}
	for i, w := range allTypesWant {
		if f := c2.GetFieldInfo()[i+1]; f.GetFieldName() != w.col || f.GetFieldType() != w.typ.String() {
			t.Errorf("column %s: %s %s", w.col, f.GetFieldName(), f.GetFieldType())
		}
	}
	_, err = h.c.GetColumnsV2(h.ctx, &enginepb.GetColumnsV2Request{SessionId: sid, Catalog: "sample", Schema: "main", Table: "nope"})
	wantCode(t, err, codes.NotFound, "nope")
	_, err = h.c.GetTablesV2(h.ctx, &enginepb.GetTablesV2Request{SessionId: sid, Catalog: "nope"})
	wantCode(t, err, codes.NotFound, "nope")
}

func TestExplainAndDryRun(t *testing.T) {
	h := serve(t, testDB(t), Options{})
	sid := h.auth(t)
	qid := h.prepare(t, sid, "SELECT g, count(*) FROM numbers GROUP BY g")
	ex, err := h.c.Explain(h.ctx, &enginepb.ExplainRequest{SessionId: sid, QueryId: qid})
	if err != nil || !strings.Contains(ex.GetExplain(), "RANGE") {
		t.Fatalf("explain %q %v", ex.GetExplain(), err)
	}
	ea, err := h.c.ExplainAnalyze(h.ctx, &enginepb.ExplainAnalyzeRequest{SessionId: sid, QueryId: qid})
	if err != nil || !strings.Contains(ea.GetExplainAnalyze(), "Total Time") || ea.GetParsingTime() < 0 {
		t.Fatalf("explain analyze %q %v", ea.GetExplainAnalyze(), err)
	}
	h.clear(t, sid, qid)

	dr, err := h.c.DryRunV2(h.ctx, &enginepb.DryRunRequestV2{SessionId: sid, Catalog: "sample", Schema: "main", QueryString: "SELECT id, s FROM numbers WHERE id = ?;"})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Valid   bool
		Columns []struct{ Name, Type string }
		Params  []string `json:"parameters"`
	}
	if err := json.Unmarshal([]byte(dr.GetDryrunValue()), &doc); err != nil {
		t.Fatalf("%v: %s", err, dr.GetDryrunValue())
	}
	if !doc.Valid || len(doc.Columns) != 2 || doc.Columns[0].Type != "LONG" || doc.Columns[1].Name != "s" || len(doc.Params) != 1 {
		t.Fatalf("dry run %s", dr.GetDryrunValue())
	}
	_, err = h.c.DryRun(h.ctx, &enginepb.DryRunRequest{SessionId: sid, QueryString: "SELECT nope FROM numbers"})
	wantCode(t, err, codes.InvalidArgument, "nope")
	if s := h.e.Stats(); s.OpenQueries != 0 {
		t.Fatalf("dry run left a query: %+v", s)
	}
}

func TestExplainAnalyzeIsCancelledWithTheQuery(t *testing.T) {
	db := testDB(t)
	h := serve(t, db, Options{})
	sid := h.auth(t)
	qid := h.prepare(t, sid, longQuery)
	errc := make(chan error, 1)
	go func() {
		_, err := h.c.ExplainAnalyze(h.ctx, &enginepb.ExplainAnalyzeRequest{SessionId: sid, QueryId: qid})
		errc <- err
	}()
	eventually(t, 5*time.Second, "explain analyze running", func() bool { return db.openConns() == 1 })
	h.clear(t, sid, qid)
	wantCode(t, <-errc, codes.Canceled, "")
	eventually(t, 2*time.Second, "connection released", func() bool { return db.openConns() == 0 })
}
