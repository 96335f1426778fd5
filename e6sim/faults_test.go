package e6sim

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/e6go/e6data/internal/enginepb"
)

func TestFaultSignals(t *testing.T) {
	for _, mode := range bothSignals {
		t.Run(mode.String(), func(t *testing.T) {
			s := start(t, Config{Signal: mode})
			c := dial(t, s.Addr())
			sess := c.mustAuth("blue")
			q := c.mustQuery("blue", sess, "SELECT 1")
			if err := s.SetFaults([]FaultRule{
				{Method: "getNextResultBatch", Kind: Fault456, Count: 1},
				{Method: "getNextResultBatch", Kind: Fault503, Count: 1},
			}); err != nil {
				t.Fatal(err)
			}
			// Other methods are untouched.
			c.mustAuth("blue")
			_, err := c.batch("blue", sess, q)
			wantSignal(t, err, mode, 456)
			_, err = c.batch("blue", sess, q)
			wantSignal(t, err, mode, 503)
			// Both counts used up: served normally, the cluster was never suspended.
			if _, err := c.batch("blue", sess, q); err != nil {
				t.Fatalf("after the faults: %v", err)
			}
			st := s.Stats()
			if st.FaultsFired != 2 || st.Sent456 != 1 || st.Sent503 != 1 || st.ClusterStatus != StatusActive {
				t.Fatalf("stats: %+v", st)
			}
			if left := s.Faults(); len(left) != 0 {
				t.Fatalf("rules left: %+v", left)
			}
		})
	}
}

func TestFaultAccessDeniedAndUnavailable(t *testing.T) {
	s := start(t, Config{})
	c := dial(t, s.Addr())
	sess := c.mustAuth("blue")
	must(t, s.SetFaults([]FaultRule{{Kind: FaultAccessDenied, Count: 2}}))
	_, err := c.query("blue", sess, "SELECT 1")
	wantCode(t, err, codes.Internal, "Access denied")
	_, err = c.auth("blue")
	wantCode(t, err, codes.Internal, "Access denied")
	// The session itself is still valid.
	c.mustQuery("blue", sess, "SELECT 1")

	must(t, s.SetFaults([]FaultRule{{Method: "prepareStatementV2", Kind: FaultUnavailable}}))
	for range 3 {
		_, err = c.query("blue", sess, "SELECT 1")
		wantCode(t, err, codes.Unavailable, "injected fault")
		if is503(err) {
			t.Fatalf("UNAVAILABLE fault looks like a 503: %v", err)
		}
	}
	// ClusterService is never faulted.
	must(t, s.SetFaults([]FaultRule{{Kind: Fault503}, {Kind: FaultUnavailable}}))
	if got, err := c.clusterStatus(); err != nil || got != StatusActive {
		t.Fatalf("cluster status under faults: %q, %v", got, err)
	}
	s.ClearFaults()
	c.mustQuery("blue", sess, "SELECT 1")
}

func TestFaultLatency(t *testing.T) {
	s := start(t, Config{})
	c := dial(t, s.Addr())
	must(t, s.SetFaults([]FaultRule{{Method: "healthCheck", Kind: FaultLatency, Latency: 80 * time.Millisecond}}))
	t0 := time.Now()
	if _, err := c.qe.HealthCheck(ctxFor(t, ""), &enginepb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d < 80*time.Millisecond {
		t.Fatalf("call took %v, want at least the injected 80ms", d)
	}
	// The wait respects the caller's deadline.
	must(t, s.SetFaults([]FaultRule{{Kind: FaultLatency, Latency: time.Hour}}))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.qe.HealthCheck(ctx, &enginepb.HealthCheckRequest{})
	wantCode(t, err, codes.DeadlineExceeded, "")
	// Latency plus a signal: delayed, then answered with the signal.
	must(t, s.SetFaults([]FaultRule{
		{Kind: FaultLatency, Latency: 20 * time.Millisecond},
		{Kind: Fault456},
	}))
	t0 = time.Now()
	_, err = c.auth("blue")
	wantSignal(t, err, SignalHTTP, 456)
	if d := time.Since(t0); d < 20*time.Millisecond {
		t.Fatalf("delayed 456 after %v", d)
	}
}

func TestFaultProbability(t *testing.T) {
	s := start(t, Config{})
	c := dial(t, s.Addr())
	must(t, s.SetFaults([]FaultRule{{Method: "healthCheck", Kind: FaultUnavailable, Probability: 0.5}}))
	failed := 0
	const n = 200
	for range n {
		if _, err := c.qe.HealthCheck(ctxFor(t, ""), &enginepb.HealthCheckRequest{}); err != nil {
			failed++
		}
	}
	// Binomial(200, 0.5): 50..150 is more than 7 standard deviations wide.
	if failed < 50 || failed > 150 {
		t.Fatalf("%d of %d calls failed with probability 0.5", failed, n)
	}
	if got := s.Stats().FaultsFired; got != int64(failed) {
		t.Fatalf("faults fired %d, failures %d", got, failed)
	}
}

func TestFaultRuleValidation(t *testing.T) {
	s := start(t, Config{})
	bad := []FaultRule{
		{Kind: "boom"},
		{Kind: Fault456, Method: "nosuchRpc"},
		{Kind: Fault456, Method: "status"}, // fine: QueryEngineService has status too
		{Kind: Fault503, Probability: 1.5},
		{Kind: FaultUnavailable, Count: -1},
		{Kind: FaultLatency},
		{Kind: FaultAccessDenied, Latency: time.Second},
	}
	for i, r := range bad {
		err := s.SetFaults([]FaultRule{r})
		if (err == nil) != (i == 2) {
			t.Errorf("rule %+v: err %v", r, err)
		}
	}
	// A bad rule rejects the whole set and keeps the old one.
	must(t, s.SetFaults([]FaultRule{{Kind: Fault456, Count: 5}}))
	if err := s.SetFaults([]FaultRule{{Kind: Fault503}, {Kind: "x"}}); err == nil || !strings.Contains(err.Error(), "rule 1") {
		t.Fatalf("mixed set: %v", err)
	}
	if got := s.Faults(); len(got) != 1 || got[0].Kind != Fault456 || got[0].Count != 5 {
		t.Fatalf("rules after a rejected set: %+v", got)
	}
}

func TestFaultRuleJSON(t *testing.T) {
	var rules []FaultRule
	in := `[{"method":"getNextResultBatch","kind":"456","count":1},
	        {"kind":"latency","latency":"250ms","probability":0.1},
	        {"kind":"latency","latency":1000}]`
	if err := json.Unmarshal([]byte(in), &rules); err != nil {
		t.Fatal(err)
	}
	want := []FaultRule{
		{Method: "getNextResultBatch", Kind: Fault456, Count: 1},
		{Kind: FaultLatency, Latency: 250 * time.Millisecond, Probability: 0.1},
		{Kind: FaultLatency, Latency: time.Microsecond},
	}
	for i := range want {
		if rules[i] != want[i] {
			t.Fatalf("rule %d: %+v, want %+v", i, rules[i], want[i])
		}
	}
	out, err := json.Marshal(rules[1])
	if err != nil || string(out) != `{"kind":"latency","probability":0.1,"latency":"250ms"}` {
		t.Fatalf("marshal: %s, %v", out, err)
	}
	for _, bad := range []string{`{"kind":"latency","latency":"soon"}`, `{"kind":"latency","latency":true}`, `{"kind":7}`} {
		var r FaultRule
		if err := json.Unmarshal([]byte(bad), &r); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
