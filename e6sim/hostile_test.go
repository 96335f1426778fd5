package e6sim

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/e6go/e6data/internal/enginepb"
	"github.com/e6go/e6data/internal/wire"
)

const hostileSQL = "SELECT id, c_bigint, c_varchar FROM all_types ORDER BY id"

// hostileBatch runs hostileSQL under rule and returns the first batch.
func hostileBatch(t *testing.T, rule FaultRule) []byte {
	t.Helper()
	s := start(t, Config{})
	c := dial(t, s.Addr())
	sess := c.mustAuth("blue")
	q := c.mustQuery("blue", sess, hostileSQL)
	must(t, s.SetFaults([]FaultRule{rule}))
	r, err := c.batch("blue", sess, q)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Stats().FaultsFired; got != 1 {
		t.Fatalf("faults fired: %d", got)
	}
	return r.GetResultBatch()
}

func TestHostileBatches(t *testing.T) {
	for _, tc := range []struct {
		rule  FaultRule
		want  string // in the decoder's error; "" = decodes
		check func(t *testing.T, c *wire.Chunk)
	}{
		{rule: FaultRule{Kind: FaultWrongType, Column: 1}, check: func(t *testing.T, c *wire.Chunk) {
			if c.Rows != 4 || c.Vectors[1].Type != wire.String || string(c.Vectors[1].BytesAt(0)) != "hostile" ||
				c.Vectors[0].Type != wire.Integer || c.Vectors[2].Type != wire.String {
				t.Fatalf("chunk %+v", c)
			}
		}},
		{rule: FaultRule{Kind: FaultWrongType, Column: 2}, check: func(t *testing.T, c *wire.Chunk) {
			if c.Vectors[2].Type != wire.Long || len(c.Vectors[2].Int64s) != 4 {
				t.Fatalf("chunk %+v", c)
			}
		}},
		{rule: FaultRule{Kind: FaultWrongType, Column: 99}, check: func(t *testing.T, c *wire.Chunk) {
			if c.Vectors[2].Type != wire.Long { // the last column
				t.Fatalf("chunk %+v", c)
			}
		}},
		{rule: FaultRule{Kind: FaultShortVector, Column: 1}, want: "vector 1: nullSet has 2 entries for 4 rows"},
		{rule: FaultRule{Kind: FaultMissingNullSet, Column: 2}, want: "vector 2: required Vector.nullSet (field 3) is missing"},
		{rule: FaultRule{Kind: FaultAbsurdRows}, want: "vector 0: nullSet has 4 entries for 2147483647 rows"},
	} {
		t.Run(string(tc.rule.Kind), func(t *testing.T) {
			b := hostileBatch(t, tc.rule)
			var c wire.Chunk
			err := wire.DecodeChunk(b, &c)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				tc.check(t, &c)
				return
			}
			if !errors.Is(err, wire.ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("decode: %v, want %q", err, tc.want)
			}
		})
	}
}

// The short vector is short in its value list too, not just its nullSet.
func TestHostileShortVectorValues(t *testing.T) {
	b := hostileBatch(t, FaultRule{Kind: FaultShortVector})
	// Give the vector enough nullSet entries to reach the value check:
	// the cut nullSet is the first list of vector 0 (after size and type).
	const at = chunkHeader + nullSetStart
	n := int(b[at+4])<<24 | int(b[at+5])<<16 | int(b[at+6])<<8 | int(b[at+7])
	if n != 2 {
		t.Fatalf("nullSet of %d entries", n)
	}
	fixed := append(append(append([]byte(nil), b[:at+4]...), 0, 0, 0, 4), b[at+8:at+8+n]...)
	fixed = append(append(fixed, 0, 0), b[at+8+n:]...)
	var c wire.Chunk
	err := wire.DecodeChunk(fixed, &c)
	if !errors.Is(err, wire.ErrMalformed) || !strings.Contains(err.Error(), "int32Data has 2 values for 4 rows") {
		t.Fatalf("decode: %v", err)
	}
}

func TestHostileEndless(t *testing.T) {
	s := start(t, Config{})
	c := dial(t, s.Addr())
	sess := c.mustAuth("blue")
	q := c.mustQuery("blue", sess, hostileSQL)
	must(t, s.SetFaults([]FaultRule{{Kind: FaultEndless}}))
	first, err := c.batch("blue", sess, q)
	if err != nil || len(first.GetResultBatch()) == 0 {
		t.Fatalf("first batch: %v", err)
	}
	// The result has one batch; the end marker never comes.
	for i := range 20 {
		r, err := c.batch("blue", sess, q)
		if err != nil || string(r.GetResultBatch()) != string(first.GetResultBatch()) {
			t.Fatalf("batch %d: %v (%d bytes)", i+2, err, len(r.GetResultBatch()))
		}
	}
	// Clearing the query drops the remembered batch; without the rule the
	// end marker comes back.
	ctx := metadata.AppendToOutgoingContext(ctxFor(t, "blue"), "plannerip", "127.0.0.1")
	if _, err := c.qe.ClearOrCancelQuery(ctx, &enginepb.ClearOrCancelQueryRequest{SessionId: sess, QueryId: q}); err != nil {
		t.Fatal(err)
	}
	s.faults.mu.Lock()
	n := len(s.faults.last)
	s.faults.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d remembered batches after clear", n)
	}
	q = c.mustQuery("blue", sess, hostileSQL)
	if _, err := c.batch("blue", sess, q); err != nil {
		t.Fatal(err)
	}
	s.ClearFaults()
	if r, err := c.batch("blue", sess, q); err != nil || len(r.GetResultBatch()) != 0 {
		t.Fatalf("after ClearFaults: %v, %d bytes", err, len(r.GetResultBatch()))
	}
}

func TestHostileBadMetadata(t *testing.T) {
	s := start(t, Config{})
	c := dial(t, s.Addr())
	sess := c.mustAuth("blue")
	q := c.mustQuery("blue", sess, hostileSQL)
	must(t, s.SetFaults([]FaultRule{{Kind: FaultBadMetadata, Count: 1}}))
	md := func() ([]byte, error) {
		r, err := c.qe.GetResultMetadata(ctxFor(t, "blue"), &enginepb.GetResultMetadataRequest{SessionId: sess, QueryId: q})
		return r.GetResultMetaData(), err
	}
	b, err := md()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wire.DecodeMetadata(b); !errors.Is(err, wire.ErrTruncated) || !strings.Contains(err.Error(), "field count 2147483647 cannot fit") {
		t.Fatalf("decode: %v", err)
	}
	if b, err = md(); err != nil {
		t.Fatal(err)
	}
	if m, err := wire.DecodeMetadata(b); err != nil || len(m.Fields) != 3 {
		t.Fatalf("after the fault: %v", err)
	}
}

func TestHostileStall(t *testing.T) {
	s := start(t, Config{})
	c := dial(t, s.Addr())
	sess := c.mustAuth("blue")
	q := c.mustQuery("blue", sess, hostileSQL)
	must(t, s.SetFaults([]FaultRule{{Method: "getNextResultBatch", Kind: FaultStall}}))
	// The caller's deadline releases the call.
	ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "strategy", "blue"), 100*time.Millisecond)
	defer cancel()
	_, err := c.qe.GetNextResultBatch(ctx, &enginepb.GetNextResultBatchRequest{SessionId: sess, QueryId: q})
	wantCode(t, err, codes.DeadlineExceeded, "")
	// Other calls are served; closing the server releases a stalled call.
	c.mustAuth("blue")
	done := make(chan error, 1)
	go func() {
		_, err := c.qe.GetNextResultBatch(metadata.AppendToOutgoingContext(context.Background(), "strategy", "blue"),
			&enginepb.GetNextResultBatchRequest{SessionId: sess, QueryId: q})
		done <- err
	}()
	waitFor(t, "the stalled call", func() bool { return s.Stats().FaultsFired == 2 })
	s.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("stalled call succeeded")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close did not release the stalled call")
	}
}

func TestHostileRuleValidation(t *testing.T) {
	s := start(t, Config{})
	for _, tc := range []struct {
		rule FaultRule
		ok   bool
	}{
		{FaultRule{Kind: FaultWrongType, Column: 3}, true},
		{FaultRule{Kind: FaultWrongType, Method: "getNextResultBatch"}, true},
		{FaultRule{Kind: FaultWrongType, Method: "getResultMetadata"}, false},
		{FaultRule{Kind: FaultBadMetadata, Method: "getResultMetadata"}, true},
		{FaultRule{Kind: FaultBadMetadata, Method: "getNextResultBatch"}, false},
		{FaultRule{Kind: FaultShortVector, Column: -1}, false},
		{FaultRule{Kind: FaultAbsurdRows, Column: 1}, false},
		{FaultRule{Kind: FaultStall, Method: "authenticate"}, true},
		{FaultRule{Kind: FaultStall, Latency: time.Second}, false},
		{FaultRule{Kind: FaultEndless, Count: 3}, true},
	} {
		if err := s.SetFaults([]FaultRule{tc.rule}); (err == nil) != tc.ok {
			t.Errorf("%+v: %v", tc.rule, err)
		}
	}
	// A hostile rule without a method touches only its rpc.
	must(t, s.SetFaults([]FaultRule{{Kind: FaultBadMetadata}}))
	c := dial(t, s.Addr())
	c.mustAuth("blue")
	if got := s.Stats().FaultsFired; got != 0 {
		t.Fatalf("bad_metadata fired on authenticate: %d", got)
	}
}

func TestHostileRulesOverAdmin(t *testing.T) {
	defer http.DefaultClient.CloseIdleConnections()
	s := start(t, Config{AdminAddr: "127.0.0.1:0"})
	a := adminClient{t: t, base: "http://" + s.AdminAddr()}
	out := a.ok("POST", "/faults", `[{"kind":"wrong_type","column":2,"count":1},{"kind":"stall","method":"explain"},{"kind":"endless"}]`)
	var rules []FaultRule
	if err := json.Unmarshal([]byte(out), &rules); err != nil {
		t.Fatal(err)
	}
	want := []FaultRule{{Kind: FaultWrongType, Column: 2, Count: 1}, {Kind: FaultStall, Method: "explain"}, {Kind: FaultEndless}}
	if len(rules) != len(want) {
		t.Fatalf("rules %+v", rules)
	}
	for i := range want {
		if rules[i] != want[i] {
			t.Fatalf("rule %d: %+v, want %+v", i, rules[i], want[i])
		}
	}
	if code, body := a.do("POST", "/faults", `[{"kind":"short_vector","column":-2}]`); code != 400 || !strings.Contains(body, "negative column") {
		t.Fatalf("bad column: %d %s", code, body)
	}
}
