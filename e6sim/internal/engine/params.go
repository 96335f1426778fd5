//go:build cgo

package engine

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2/mapping"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/e6go/e6data/internal/enginepb"
)

// bindParams binds executeStatementV2 parameters to the statement's
// placeholders. Indexes are 1-based (as reported by getDynamicParams); a
// list that uses index 0 is taken as 0-based. Every placeholder must get a
// value.
func bindParams(st mapping.PreparedStatement, params []*enginepb.ParameterValue) error {
	n := int(mapping.NParams(st))
	if n == 0 && len(params) == 0 {
		return nil
	}
	mapping.ClearBindings(st)
	base := 1
	for _, p := range params {
		if p.GetIndex() == 0 {
			base = 0
		}
	}
	seen := make([]bool, n)
	for _, p := range params {
		i := int(p.GetIndex()) - base // 0-based
		if i < 0 || i >= n {
			return status.Errorf(codes.InvalidArgument, "parameter index %d out of range: the statement has %d placeholder(s)", p.GetIndex(), n)
		}
		if seen[i] {
			return status.Errorf(codes.InvalidArgument, "parameter index %d given twice", p.GetIndex())
		}
		seen[i] = true
		if err := bindOne(st, mapping.IdxT(i+1), p); err != nil {
			return status.Errorf(codes.InvalidArgument, "parameter %d (%s %q): %v", p.GetIndex(), p.GetType(), truncate(p.GetValue(), 64), err)
		}
	}
	for i, ok := range seen {
		if !ok {
			return status.Errorf(codes.InvalidArgument, "no value for parameter %d of %d", i+base, n)
		}
	}
	return nil
}

func bindOne(st mapping.PreparedStatement, idx mapping.IdxT, p *enginepb.ParameterValue) error {
	v := p.GetValue()
	var state mapping.State
	switch strings.ToUpper(strings.TrimSpace(p.GetType())) {
	case "NULL":
		state = mapping.BindNull(st, idx)
	case "LONG", "BIGINT", "INT64":
		x, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return err
		}
		state = mapping.BindInt64(st, idx, x)
	case "INTEGER", "INT", "INT32", "SHORT", "SMALLINT", "BYTE", "TINYINT":
		x, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil {
			return err
		}
		state = mapping.BindInt32(st, idx, int32(x))
	case "DOUBLE":
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return err
		}
		state = mapping.BindDouble(st, idx, x)
	case "FLOAT":
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 32)
		if err != nil {
			return err
		}
		state = mapping.BindFloat(st, idx, float32(x))
	case "BOOLEAN", "BOOL":
		x, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return err
		}
		state = mapping.BindBoolean(st, idx, x)
	case "STRING", "VARCHAR", "CHAR", "TEXT":
		state = mapping.BindVarchar(st, idx, v)
	case "BINARY", "BLOB":
		state = mapping.BindBlob(st, idx, []byte(v))
	case "DATE":
		d, err := parseDate(v)
		if err != nil {
			return err
		}
		state = mapping.BindDate(st, idx, mapping.NewDate(d))
	case "DATETIME", "TIMESTAMP":
		us, err := parseTimestamp(v)
		if err != nil {
			return err
		}
		state = mapping.BindTimestamp(st, idx, mapping.NewTimestamp(us))
	case "TIMESTAMP_TZ", "TIMESTAMPTZ":
		us, err := parseTimestamp(v)
		if err != nil {
			return err
		}
		state = mapping.BindTimestampTZ(st, idx, mapping.NewTimestamp(us))
	case "DECIMAL128", "DECIMAL":
		d, err := parseDecimal(v)
		if err != nil {
			return err
		}
		state = mapping.BindDecimal(st, idx, d)
	default:
		return fmt.Errorf("unsupported parameter type (use LONG, INTEGER, DOUBLE, FLOAT, BOOLEAN, STRING, BINARY, DATE, DATETIME, TIMESTAMP_TZ, DECIMAL128 or NULL)")
	}
	if state == mapping.StateError {
		return fmt.Errorf("DuckDB rejected the value")
	}
	return nil
}

// parseDate accepts YYYY-MM-DD or an integer count of microseconds since the
// epoch (the wire's DATE unit) and returns days since the epoch.
func parseDate(v string) (int32, error) {
	v = strings.TrimSpace(v)
	if us, err := strconv.ParseInt(v, 10, 64); err == nil {
		return int32(floorDiv(us, microsPerDay)), nil
	}
	t, err := time.Parse("2006-01-02", v)
	if err != nil {
		return 0, fmt.Errorf("want YYYY-MM-DD or microseconds since the epoch")
	}
	return int32(floorDiv(t.Unix(), 86400)), nil
}

// timestampLayouts are tried in order; values without a zone are UTC.
var timestampLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02",
}

// parseTimestamp accepts an ISO timestamp (zone optional, UTC when absent)
// or an integer count of microseconds since the epoch.
func parseTimestamp(v string) (int64, error) {
	v = strings.TrimSpace(v)
	if us, err := strconv.ParseInt(v, 10, 64); err == nil {
		return us, nil
	}
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.Unix()*1_000_000 + int64(t.Nanosecond()/1000), nil
		}
	}
	return 0, fmt.Errorf("want an ISO timestamp (YYYY-MM-DD HH:MM:SS[.ffffff][zone]) or microseconds since the epoch")
}

// parseDecimal parses a decimal literal of at most 38 digits.
func parseDecimal(v string) (mapping.Decimal, error) {
	v = strings.TrimSpace(v)
	neg := strings.HasPrefix(v, "-")
	digits := strings.TrimLeft(v, "+-")
	intPart, frac, _ := strings.Cut(digits, ".")
	all := strings.TrimLeft(intPart+frac, "0")
	if intPart+frac == "" || strings.ContainsFunc(intPart+frac, func(r rune) bool { return r < '0' || r > '9' }) {
		return mapping.Decimal{}, fmt.Errorf("not a decimal number")
	}
	width := max(len(all), len(frac), 1)
	if width > 38 {
		return mapping.Decimal{}, fmt.Errorf("more than 38 digits")
	}
	var x big.Int
	if _, ok := x.SetString(intPart+frac, 10); !ok {
		return mapping.Decimal{}, fmt.Errorf("not a decimal number")
	}
	if neg {
		x.Neg(&x)
	}
	lo, hi := hugeint(&x)
	return mapping.NewDecimal(uint8(width), uint8(len(frac)), mapping.NewHugeInt(lo, hi)), nil
}

// hugeint splits x (|x| < 2^127) into DuckDB's hugeint words.
func hugeint(x *big.Int) (lo uint64, hi int64) {
	var m big.Int
	m.Lsh(big.NewInt(1), 128)
	var u big.Int
	u.Set(x)
	if u.Sign() < 0 {
		u.Add(&u, &m) // two's complement
	}
	var mask big.Int
	mask.SetUint64(^uint64(0))
	var l, h big.Int
	l.And(&u, &mask)
	h.Rsh(&u, 64)
	return l.Uint64(), int64(h.Uint64())
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
