package chaos

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/e6go/e6data/e6sim"
)

// Result is what a run saw.
type Result struct {
	Elapsed time.Duration
	// Queries counts every query a worker finished (any outcome).
	Queries int64
	// Failed: queries that ended in an error other than ErrQueryInterrupted.
	Failed int64
	// Wrong: queries whose rows did not match the known answer (including
	// an interrupted query whose rows so far were not a correct prefix).
	Wrong int64
	// Interrupted: queries that ended in ErrQueryInterrupted after
	// delivering a correct prefix of their rows.
	Interrupted int64
	// InterruptedComplete counts the interrupted queries that had already
	// delivered every row of their result: only the call that would have
	// reported the end of the result failed.
	InterruptedComplete int64
	// OK counts verified queries per kind.
	OK map[string]int64
	// Errors counts failed and interrupted queries per sentinel they match
	// ("strategy_mismatch", "retries_exhausted", "query_interrupted", ...;
	// "untyped" for an error matching none). One error may count under
	// several sentinels.
	Errors map[string]int64
	// Samples are the first failure and wrong-result texts.
	Samples []string
	// Interruptions describe the first few interrupted queries.
	Interruptions []string

	// From the connector's Stats (deltas over the run).
	Transitions int64 // moves of new work to another stack
	Resumes     int64 // cluster resumes the connector performed
	Seen456     int64 // 456 answers the connector met (and recovered from or reported)
	Recoveries  int64 // operations that succeeded after a recovered failure
	Reauths     int64

	// From the simulator's Stats (deltas over the run; 0 without Target).
	SimResumes  int64 // resume calls the cluster received
	SimSwitches int64
	Sent456     int64
	Sent503     int64
	// Stacks counts queries per stack they finally ran on (from the query ID).
	Stacks map[string]int64
	// Log has every query of the run.
	Log []Query

	// Flipper.
	Events        map[string]int // events triggered per kind
	ForcedResumes int            // suspensions the flipper had to resume itself
	FlipperErrors []string       // admin calls that failed
	Deployments   []Deployment

	// Latency of successful queries of the short kinds (agg, scan, join):
	// from the call to the last row. Streams, which the workload may pace,
	// are measured apart.
	P50, P99     time.Duration
	StreamP50    time.Duration
	ConvergeP50  time.Duration
	ConvergeP99  time.Duration
	NotConverged int           // deployments after which no query ran on the new stack before the next event
	LearnP99     time.Duration // trigger -> the connector knew (timeline)
	Late         int64         // queries begun after the connector knew of a deployment that still ran on the old stack
	LateSamples  []string
	// Unexplained counts the interrupted queries that the simulator's
	// record does not explain: no record of the query, or its stack was
	// not torn down while it was open. Only a teardown may interrupt a
	// query, so any other interruption breaks the contract. It is -1 when
	// the Target keeps no record (see Recorder).
	Unexplained        int64
	UnexplainedSamples []string
	InterruptEvents    int // abrupt switches and suspensions: the only events that may interrupt a query
}

// Line is the one-line summary:
// RESULT queries=N failed=N wrong=N interrupted=N transitions=N resumes=N p50=… p99=… converge_p99=…
func (r Result) Line() string {
	return fmt.Sprintf("RESULT queries=%d failed=%d wrong=%d interrupted=%d transitions=%d resumes=%d p50=%s p99=%s converge_p99=%s",
		r.Queries, r.Failed, r.Wrong, r.Interrupted, r.Transitions, r.Resumes, round(r.P50), round(r.P99), round(r.ConvergeP99))
}

// Details is a multi-line account of the run for logs.
func (r Result) Details() string {
	var b strings.Builder
	fmt.Fprintf(&b, "elapsed %s; queries %d (ok %v), failed %d, wrong %d, interrupted %d (%d of them after their last row)\n",
		round(r.Elapsed), r.Queries, r.OK, r.Failed, r.Wrong, r.Interrupted, r.InterruptedComplete)
	fmt.Fprintf(&b, "connector: transitions %d, resumes %d, 456 met %d, recoveries %d, re-auths %d\n",
		r.Transitions, r.Resumes, r.Seen456, r.Recoveries, r.Reauths)
	fmt.Fprintf(&b, "simulator: switches %d, resumes %d, 456 sent %d, 503 sent %d, queries per stack %v\n",
		r.SimSwitches, r.SimResumes, r.Sent456, r.Sent503, r.Stacks)
	fmt.Fprintf(&b, "events %v (forced resumes %d); deployments %d, converge p50 %s p99 %s, not converged %d, learn p99 %s, late %d\n",
		r.Events, r.ForcedResumes, len(r.Deployments), round(r.ConvergeP50), round(r.ConvergeP99), r.NotConverged, round(r.LearnP99), r.Late)
	fmt.Fprintf(&b, "latency p50 %s p99 %s (streams p50 %s)", round(r.P50), round(r.P99), round(r.StreamP50))
	if r.Unexplained > 0 {
		fmt.Fprintf(&b, "\ninterruptions the simulator's record does not explain: %d", r.Unexplained)
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, "\nerrors by sentinel %v", r.Errors)
	}
	for _, s := range r.Samples {
		fmt.Fprintf(&b, "\n  failure: %s", s)
	}
	for _, s := range r.Interruptions {
		fmt.Fprintf(&b, "\n  interrupted: %s", s)
	}
	for _, s := range r.LateSamples {
		fmt.Fprintf(&b, "\n  late: %s", s)
	}
	for _, s := range r.UnexplainedSamples {
		fmt.Fprintf(&b, "\n  unexplained interruption: %s", s)
	}
	return b.String()
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// explain looks every interrupted query up in the simulator's record (and
// sets its TornDown) and counts those the record does not explain.
func explain(ctx context.Context, t Target, all []Query, maxSamples int) (int64, []string) {
	rec, ok := t.(Recorder)
	if !ok {
		return -1, nil
	}
	var n int64
	var samples []string
	for i := range all {
		q := &all[i]
		if q.Outcome != "interrupted" {
			continue
		}
		why := ""
		if q.ID == "" {
			why = "no query ID"
		} else {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			r, found, err := rec.QueryRecord(ctx, q.ID)
			cancel()
			switch {
			case err != nil:
				why = "record unavailable: " + err.Error()
			case !found:
				why = "the simulator has no record of it"
			case !r.TornDown:
				why = fmt.Sprintf("its stack %s was not torn down while it was open (ended %s after it was prepared)",
					r.Stack, round(r.Ended.Sub(r.Prepared)))
			}
			q.TornDown = found && r.TornDown
		}
		if why == "" {
			continue
		}
		n++
		if len(samples) < maxSamples {
			samples = append(samples, fmt.Sprintf("%s query %s after %d rows: %s: %v", q.Kind, q.ID, q.Rows, why, q.Err))
		}
	}
	return n, samples
}

// late counts the queries that began after the connector knew of a
// deployment and ended before the next one was triggered, yet ran on the
// old stack: new work must move at once. (A query that outlived the next
// trigger may legitimately have been re-run on the stack that deployment
// made live, which is the first one's old stack: it is not judged.)
func late(deps []Deployment, all []Query, maxSamples int) (int64, []string) {
	var n int64
	var samples []string
	for i, d := range deps {
		if d.Learned.IsZero() {
			continue
		}
		var until time.Time
		if i+1 < len(deps) {
			until = deps[i+1].Trigger
		}
		for _, r := range all {
			if r.Stack != d.From || r.Begin.Before(d.Learned) || (!until.IsZero() && r.Begin.Add(r.Took).After(until)) {
				continue
			}
			n++
			if len(samples) < maxSamples {
				samples = append(samples, fmt.Sprintf("%s query begun %s after the connector knew of the %s switch %s -> %s ran on %s",
					r.Kind, round(r.Begin.Sub(d.Learned)), d.Event, d.From, d.To, r.Stack))
			}
		}
	}
	return n, samples
}

func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds))*q+0.999999) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

func targetStats(ctx context.Context, t Target) (e6sim.Stats, bool) {
	if t == nil {
		return e6sim.Stats{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := t.Stats(ctx)
	return st, err == nil
}
