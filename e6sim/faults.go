package e6sim

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// FaultKind names what an injected fault does.
type FaultKind string

// Fault kinds.
const (
	// Fault456 answers the call with the wrong-strategy signal (in the
	// configured Signal mode).
	Fault456 FaultKind = "456"
	// Fault503 answers the call with the cluster-suspended signal (in the
	// configured Signal mode) without suspending anything.
	Fault503 FaultKind = "503"
	// FaultAccessDenied answers INTERNAL "Access denied ..." as for an
	// expired session (the session itself stays valid).
	FaultAccessDenied FaultKind = "access_denied"
	// FaultUnavailable answers the gRPC status UNAVAILABLE (a transient
	// transport-level failure, not a 503).
	FaultUnavailable FaultKind = "unavailable"
	// FaultLatency delays the call by Latency (cut short by the request's
	// context) and then serves it normally.
	FaultLatency FaultKind = "latency"

	// The hostile kinds below make the server misbehave instead of
	// failing cleanly: they corrupt what it sends, or never answer. Each
	// applies to one rpc (given in its comment; a rule's Method may be
	// left empty or must name that rpc).

	// FaultWrongType (getNextResultBatch) sends column Column as a vector
	// of another type than the metadata declares: a STRING vector, or a
	// LONG one when the column is a STRING.
	FaultWrongType FaultKind = "wrong_type"
	// FaultShortVector (getNextResultBatch) sends column Column with half
	// the chunk's rows in Vector.size, nullSet and its value list.
	FaultShortVector FaultKind = "short_vector"
	// FaultMissingNullSet (getNextResultBatch) leaves the required nullSet
	// out of column Column's vector.
	FaultMissingNullSet FaultKind = "missing_nullset"
	// FaultAbsurdRows (getNextResultBatch) declares Chunk.size 2147483647
	// in front of the few rows the batch really holds.
	FaultAbsurdRows FaultKind = "absurd_rows"
	// FaultEndless (getNextResultBatch) never ends a result: where the
	// engine sends the end marker, the query's last non-empty batch is
	// sent again, for as long as the rule lasts.
	FaultEndless FaultKind = "endless"
	// FaultBadMetadata (getResultMetadata) declares 2147483647 fields in
	// the resultMetaData, far more than its bytes can hold.
	FaultBadMetadata FaultKind = "bad_metadata"
	// FaultStall (any rpc) never answers: the call blocks until the
	// client's context ends (or the server closes). Nothing is executed.
	FaultStall FaultKind = "stall"
)

// hostileMethod is the one rpc each corrupting kind applies to.
var hostileMethod = map[FaultKind]string{
	FaultWrongType:      "getNextResultBatch",
	FaultShortVector:    "getNextResultBatch",
	FaultMissingNullSet: "getNextResultBatch",
	FaultAbsurdRows:     "getNextResultBatch",
	FaultEndless:        "getNextResultBatch",
	FaultBadMetadata:    "getResultMetadata",
}

// columnKinds are the kinds that damage one column (FaultRule.Column).
var columnKinds = map[FaultKind]bool{FaultWrongType: true, FaultShortVector: true, FaultMissingNullSet: true}

// FaultRule injects a fault into QueryEngineService calls. Rules are
// evaluated in order for every call: each matching rule that fires adds its
// latency (latency rules) or answers the call (every other kind; the first
// such rule that fires wins).
//
// In JSON (POST /faults) Latency is a Go duration string such as "250ms"
// (a number of nanoseconds is accepted too):
//
//	[{"method":"getNextResultBatch","kind":"456","count":1},
//	 {"kind":"latency","latency":"50ms","probability":0.1}]
type FaultRule struct {
	// Method is a QueryEngineService rpc name as on the wire, e.g.
	// "getNextResultBatch"; "" matches every QueryEngineService rpc.
	// ClusterService calls are never faulted.
	Method string `json:"method,omitempty"`
	// Kind is what the fault does.
	Kind FaultKind `json:"kind"`
	// Probability that a matching call fires the rule, in [0, 1]; 0 means 1
	// (always).
	Probability float64 `json:"probability,omitempty"`
	// Count limits how many times the rule fires; 0 = unlimited.
	Count int `json:"count,omitempty"`
	// Latency is the delay of a FaultLatency rule.
	Latency time.Duration `json:"latency,omitempty"`
	// Column is the 0-based column that wrong_type, short_vector and
	// missing_nullset damage (the last column when the result has fewer).
	Column int `json:"column,omitempty"`
	// After serves the call first and then replaces its answer by the
	// fault: with kind unavailable the statement ran but the client sees
	// UNAVAILABLE, as after a connection reset; with kind stall it ran
	// but the answer never comes. Only those two kinds take After (456,
	// 503 and Access denied always mean the call was refused unserved).
	After bool `json:"after,omitempty"`
}

type faultRuleJSON struct {
	Method      string          `json:"method,omitempty"`
	Kind        FaultKind       `json:"kind"`
	Probability float64         `json:"probability,omitempty"`
	Count       int             `json:"count,omitempty"`
	Latency     json.RawMessage `json:"latency,omitempty"`
	Column      int             `json:"column,omitempty"`
	After       bool            `json:"after,omitempty"`
}

// MarshalJSON writes Latency as a duration string.
func (r FaultRule) MarshalJSON() ([]byte, error) {
	j := faultRuleJSON{Method: r.Method, Kind: r.Kind, Probability: r.Probability, Count: r.Count, Column: r.Column, After: r.After}
	if r.Latency != 0 {
		j.Latency, _ = json.Marshal(r.Latency.String())
	}
	return json.Marshal(j)
}

// UnmarshalJSON accepts Latency as a duration string or a number of
// nanoseconds.
func (r *FaultRule) UnmarshalJSON(b []byte) error {
	var j faultRuleJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = FaultRule{Method: j.Method, Kind: j.Kind, Probability: j.Probability, Count: j.Count, Column: j.Column, After: j.After}
	if len(j.Latency) == 0 || string(j.Latency) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(j.Latency, &s); err == nil {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("latency: %w", err)
		}
		r.Latency = d
		return nil
	}
	var n int64
	if err := json.Unmarshal(j.Latency, &n); err != nil {
		return fmt.Errorf("latency: want a duration string such as \"250ms\" or nanoseconds, got %s", j.Latency)
	}
	r.Latency = time.Duration(n)
	return nil
}

// Validate reports whether the rule is well formed.
func (r FaultRule) Validate() error {
	switch r.Kind {
	case Fault456, Fault503, FaultAccessDenied, FaultUnavailable, FaultStall,
		FaultWrongType, FaultShortVector, FaultMissingNullSet, FaultAbsurdRows, FaultEndless, FaultBadMetadata:
		if r.Latency != 0 {
			return fmt.Errorf("e6sim: fault %q: latency is only for kind %q", r.Kind, FaultLatency)
		}
	case FaultLatency:
		if r.Latency <= 0 {
			return fmt.Errorf("e6sim: fault %q needs a positive latency", r.Kind)
		}
	default:
		return fmt.Errorf("e6sim: unknown fault kind %q (want 456, 503, access_denied, unavailable, latency, "+
			"stall, wrong_type, short_vector, missing_nullset, absurd_rows, endless or bad_metadata)", r.Kind)
	}
	if m := hostileMethod[r.Kind]; m != "" && r.Method != "" && r.Method != m {
		return fmt.Errorf("e6sim: fault %q applies only to %s, not %s", r.Kind, m, r.Method)
	}
	if r.After && r.Kind != FaultUnavailable && r.Kind != FaultStall {
		return fmt.Errorf("e6sim: fault %q: after is only for unavailable and stall (456, 503 and access_denied mean the call was never served)", r.Kind)
	}
	if r.Column < 0 {
		return fmt.Errorf("e6sim: fault %q: negative column %d", r.Kind, r.Column)
	}
	if r.Column != 0 && !columnKinds[r.Kind] {
		return fmt.Errorf("e6sim: fault %q: column is only for wrong_type, short_vector and missing_nullset", r.Kind)
	}
	if r.Method != "" && !slices.Contains(engineMethods, r.Method) {
		return fmt.Errorf("e6sim: fault method %q is not a QueryEngineService rpc", r.Method)
	}
	if !(r.Probability >= 0 && r.Probability <= 1) { // also rejects NaN
		return fmt.Errorf("e6sim: fault probability %v is outside [0, 1]", r.Probability)
	}
	if r.Count < 0 {
		return fmt.Errorf("e6sim: fault count %d is negative", r.Count)
	}
	return nil
}

// faultSet is the active rule set with each rule's remaining count.
type faultSet struct {
	mu    sync.Mutex
	rules []FaultRule
	fired []int // times each rule fired
	total int64
	// last holds each query's last non-empty batch while an endless rule
	// repeats it; dropped when the query is cleared or the rules change.
	last map[string][]byte
}

func (f *faultSet) set(rules []FaultRule) error {
	for i, r := range rules {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("rule %d: %w", i, err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = slices.Clone(rules)
	f.fired = make([]int, len(rules))
	f.last = nil
	return nil
}

func (f *faultSet) list() []FaultRule {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]FaultRule, 0, len(f.rules))
	for i, r := range f.rules {
		if r.Count > 0 {
			r.Count -= f.fired[i] // what is left
			if r.Count <= 0 {
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

// pick evaluates the rules for one call of method. It returns the added
// latency and the answering rule (Kind "" = none).
func (f *faultSet) pick(method string) (delay time.Duration, rule FaultRule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.rules {
		if r.Method != "" && r.Method != method {
			continue
		}
		if m := hostileMethod[r.Kind]; m != "" && m != method {
			continue
		}
		if r.Count > 0 && f.fired[i] >= r.Count {
			continue
		}
		if r.Probability > 0 && r.Probability < 1 && rand.Float64() >= r.Probability {
			continue
		}
		f.fired[i]++
		f.total++
		if r.Kind == FaultLatency {
			delay += r.Latency
			continue
		}
		return delay, r
	}
	return delay, FaultRule{}
}

func (f *faultSet) firedTotal() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total
}
