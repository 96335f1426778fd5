package chaos

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// Query kinds.
const (
	KindAgg    = "agg"    // count, sum(id), sum(x) over a random id range of numbers
	KindScan   = "scan"   // every row of a small random range of numbers, ordered
	KindJoin   = "join"   // customers LEFT JOIN orders, grouped, over a random customer range
	KindStream = "stream" // a longer streaming range of numbers, optionally paced
)

// The numbers table of e6sim's sample dataset: id 0..999999.
const numbersRows = 1_000_000

// wrongError marks a verification mismatch: the query "succeeded" with an
// answer that is not the known one.
type wrongError struct{ msg string }

func (e *wrongError) Error() string { return "wrong result: " + e.msg }

func wrongf(format string, args ...any) error { return &wrongError{msg: fmt.Sprintf(format, args...)} }

func isWrong(err error) bool {
	var w *wrongError
	return errors.As(err, &w)
}

// querier is what a query runs on (a *sql.Conn).
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// outcome of one query as the worker saw it.
type outcome struct {
	rows int64 // rows the application received
	err  error // nil, a *wrongError, or the connector's error
}

// job is one query of a kind with its random parameters.
type job struct {
	kind   string
	lo, hi int64 // numbers: id range [lo, hi]; join: customer ids [lo, hi]
	pace   pacing
}

type pacing struct {
	every int64
	delay time.Duration
}

func newJob(kind string, r *rand.Rand, cfg *Config) job {
	j := job{kind: kind}
	switch kind {
	case KindAgg:
		n := 1 + r.Int64N(int64(cfg.AggRows))
		j.lo = r.Int64N(numbersRows)
		j.hi = min(j.lo+n-1, numbersRows-1)
	case KindScan:
		n := 1 + r.Int64N(int64(cfg.ScanRows))
		j.lo = r.Int64N(numbersRows)
		j.hi = min(j.lo+n-1, numbersRows-1)
	case KindJoin:
		j.lo = 1 + r.Int64N(10)
		j.hi = j.lo + r.Int64N(11-j.lo)
	case KindStream:
		n := int64(cfg.StreamRows)
		j.lo = r.Int64N(numbersRows - n + 1)
		j.hi = j.lo + n - 1
		j.pace = pacing{every: int64(cfg.StreamPaceRows), delay: cfg.StreamPace}
	}
	return j
}

// rows is the number of rows the query returns.
func (j job) rows() int64 {
	if j.kind == KindAgg {
		return 1
	}
	return j.hi - j.lo + 1
}

func (j job) run(ctx context.Context, q querier) outcome {
	switch j.kind {
	case KindAgg:
		return runAgg(ctx, q, aggSQL, j.lo, j.hi)
	case KindScan:
		return runRange(ctx, q, scanSQL, j.lo, j.hi, pacing{})
	case KindJoin:
		return runJoin(ctx, q, joinSQL, j.lo, j.hi)
	case KindStream:
		return runRange(ctx, q, streamSQL, j.lo, j.hi, j.pace)
	}
	return outcome{err: fmt.Errorf("chaos: unknown query kind %q", j.kind)}
}

// The queries, each with two parameters: the low and high id.
const (
	aggSQL    = "SELECT count(*), sum(id), sum(x) FROM numbers WHERE id BETWEEN ? AND ?"
	scanSQL   = "SELECT id, x, s FROM numbers WHERE id BETWEEN ? AND ? ORDER BY id"
	streamSQL = "SELECT id, x, s FROM numbers WHERE id BETWEEN ? AND ?"
	joinSQL   = `SELECT c.id, c.name, count(o.id), sum(o.amount)
		FROM customers c LEFT JOIN orders o ON o.customer_id = c.id
		WHERE c.id BETWEEN ? AND ? GROUP BY c.id, c.name ORDER BY c.id`
)

// text renders a scanned value the way the checks compare it: Decimal and
// integers as their digits.
func text(v any) string {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case nil:
		return "NULL"
	}
	return fmt.Sprint(v)
}

// runAgg checks count(*), sum(id) and sum(x) of ids lo..hi against the
// formulas: n = hi-lo+1, sum(id) = (lo+hi)*n/2, sum(x) = sum(id)/2 (exact in
// a float64: every partial sum is a multiple of 0.5 below 2^52).
func runAgg(ctx context.Context, q querier, sqlText string, lo, hi int64) outcome {
	rows, err := q.QueryContext(ctx, sqlText, lo, hi)
	if err != nil {
		return outcome{err: err}
	}
	defer rows.Close()
	var o outcome
	n := hi - lo + 1
	sum := (lo + hi) * n / 2
	for rows.Next() {
		o.rows++
		var cnt, sid, sx any
		if err := rows.Scan(&cnt, &sid, &sx); err != nil {
			return outcome{rows: o.rows, err: err}
		}
		if o.rows > 1 {
			o.err = wrongf("agg [%d,%d]: more than one row", lo, hi)
			continue
		}
		x, _ := sx.(float64)
		if text(cnt) != strconv.FormatInt(n, 10) || text(sid) != strconv.FormatInt(sum, 10) || x != float64(sum)/2 {
			o.err = wrongf("agg [%d,%d]: count=%s sum(id)=%s sum(x)=%v, want %d %d %v", lo, hi, text(cnt), text(sid), sx, n, sum, float64(sum)/2)
		}
	}
	if err := rows.Err(); err != nil {
		return outcome{rows: o.rows, err: err}
	}
	if o.err == nil && o.rows != 1 {
		o.err = wrongf("agg [%d,%d]: %d rows, want 1", lo, hi, o.rows)
	}
	return o
}

// runRange checks every row of ids lo..hi: ids consecutive from lo (no row
// duplicated or missing), x = id*0.5, s = "row-"+id, and that the result
// ends at hi. A failure after some rows must leave a correct prefix.
func runRange(ctx context.Context, q querier, sqlText string, lo, hi int64, p pacing) outcome {
	rows, err := q.QueryContext(ctx, sqlText, lo, hi)
	if err != nil {
		return outcome{err: err}
	}
	defer rows.Close()
	var o outcome
	want := lo
	var id int64
	var x float64
	var s sql.RawBytes
	buf := make([]byte, 0, 16)
	for rows.Next() {
		if err := rows.Scan(&id, &x, &s); err != nil {
			return outcome{rows: o.rows, err: err}
		}
		o.rows++
		if o.err == nil {
			buf = strconv.AppendInt(append(buf[:0], "row-"...), id, 10)
			switch {
			case id != want:
				o.err = wrongf("range [%d,%d]: row %d has id %d, want %d (duplicated or missing rows)", lo, hi, o.rows, id, want)
			case x != float64(id)*0.5:
				o.err = wrongf("range [%d,%d]: id %d has x=%v", lo, hi, id, x)
			case string(s) != string(buf):
				o.err = wrongf("range [%d,%d]: id %d has s=%q", lo, hi, id, s)
			}
		}
		want++
		if p.every > 0 && p.delay > 0 && o.rows%p.every == 0 {
			// A slow consumer: the query stays in flight on its stack.
			t := time.NewTimer(p.delay)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
	}
	if err := rows.Err(); err != nil {
		return outcome{rows: o.rows, err: errors.Join(err, o.err)}
	}
	if o.err == nil && want != hi+1 {
		o.err = wrongf("range [%d,%d]: %d rows, want %d", lo, hi, o.rows, hi-lo+1)
	}
	return o
}

// Known answers of DATASET.md: customers 1..10 (name), their order count and
// total in customers LEFT JOIN orders.
var (
	customerNames = [...]string{"", "Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson",
		"Edsger Dijkstra", "Barbara Liskov", "Donald Knuth", "Margaret Hamilton", "Tim Berners-Lee", "Ken Thompson"}
	customerTotals = [...]string{"", "1203.96", "1259.95", "1314.95", "1055.96", "1074.95",
		"1129.95", "1184.95", "889.95", "944.95", "1499.95"}
)

func runJoin(ctx context.Context, q querier, sqlText string, lo, hi int64) outcome {
	rows, err := q.QueryContext(ctx, sqlText, lo, hi)
	if err != nil {
		return outcome{err: err}
	}
	defer rows.Close()
	var o outcome
	want := lo
	for rows.Next() {
		var id, cnt int64
		var name string
		var total any
		if err := rows.Scan(&id, &name, &cnt, &total); err != nil {
			return outcome{rows: o.rows, err: err}
		}
		o.rows++
		if o.err != nil {
			continue
		}
		wantCnt := int64(5)
		if want == 1 {
			wantCnt = 4
		}
		if id != want || want > 10 || name != customerNames[want] || cnt != wantCnt || text(total) != customerTotals[want] {
			o.err = wrongf("join [%d,%d]: row %d = (%d, %q, %d, %s), want customer %d", lo, hi, o.rows, id, name, cnt, text(total), want)
		}
		want++
	}
	if err := rows.Err(); err != nil {
		return outcome{rows: o.rows, err: errors.Join(err, o.err)}
	}
	if o.err == nil && want != hi+1 {
		o.err = wrongf("join [%d,%d]: %d rows, want %d", lo, hi, o.rows, hi-lo+1)
	}
	return o
}
