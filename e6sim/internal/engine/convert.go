//go:build cgo

package engine

import (
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/duckdb/duckdb-go/v2/mapping"

	"github.com/e6go/e6data/internal/wire"
)

// colKind says how a DuckDB vector's physical data is read.
type colKind uint8

const (
	kNull colKind = iota
	kBool
	kI8
	kI16
	kI32
	kU8
	kU16
	kI64
	kU32
	kU64
	kI128
	kDec16
	kDec32
	kDec64
	kDec128
	kF32
	kF64
	kVarchar
	kBlob
	kDate
	kTS
	kTSs
	kTSms
	kTSns
	kTSTZ
	kText    // any other type: the query is wrapped to CAST it to VARCHAR
	kUnknown // type not resolved yet (a parameter); known from the result
)

// colPlan is how one result column is produced on the wire.
type colPlan struct {
	name  string
	wt    wire.VectorType
	kind  colKind
	scale int32
	cast  bool // column is CAST to VARCHAR by the wrapping SELECT
}

// planType maps a DuckDB logical type to its wire vector type and reader.
func planType(lt mapping.LogicalType) colPlan {
	switch mapping.GetTypeId(lt) {
	case mapping.TypeBoolean:
		return colPlan{wt: wire.Boolean, kind: kBool}
	case mapping.TypeTinyInt:
		return colPlan{wt: wire.Integer, kind: kI8}
	case mapping.TypeSmallInt:
		return colPlan{wt: wire.Integer, kind: kI16}
	case mapping.TypeInteger:
		return colPlan{wt: wire.Integer, kind: kI32}
	case mapping.TypeUTinyInt:
		return colPlan{wt: wire.Integer, kind: kU8}
	case mapping.TypeUSmallInt:
		return colPlan{wt: wire.Integer, kind: kU16}
	case mapping.TypeBigInt:
		return colPlan{wt: wire.Long, kind: kI64}
	case mapping.TypeUInteger:
		return colPlan{wt: wire.Long, kind: kU32}
	case mapping.TypeUBigInt:
		return colPlan{wt: wire.Decimal128, kind: kU64}
	case mapping.TypeHugeInt:
		return colPlan{wt: wire.Decimal128, kind: kI128}
	case mapping.TypeDecimal:
		p := colPlan{wt: wire.Decimal128, scale: int32(mapping.DecimalScale(lt))}
		switch mapping.DecimalInternalType(lt) {
		case mapping.TypeSmallInt:
			p.kind = kDec16
		case mapping.TypeInteger:
			p.kind = kDec32
		case mapping.TypeBigInt:
			p.kind = kDec64
		default:
			p.kind = kDec128
		}
		return p
	case mapping.TypeFloat:
		return colPlan{wt: wire.Float, kind: kF32}
	case mapping.TypeDouble:
		return colPlan{wt: wire.Double, kind: kF64}
	case mapping.TypeVarchar:
		return colPlan{wt: wire.String, kind: kVarchar}
	case mapping.TypeBlob:
		return colPlan{wt: wire.Binary, kind: kBlob}
	case mapping.TypeDate:
		return colPlan{wt: wire.Date, kind: kDate}
	case mapping.TypeTimestamp:
		return colPlan{wt: wire.DateTime, kind: kTS}
	case mapping.TypeTimestampS:
		return colPlan{wt: wire.DateTime, kind: kTSs}
	case mapping.TypeTimestampMS:
		return colPlan{wt: wire.DateTime, kind: kTSms}
	case mapping.TypeTimestampNS:
		return colPlan{wt: wire.DateTime, kind: kTSns}
	case mapping.TypeTimestampTZ:
		return colPlan{wt: wire.TimestampTZ, kind: kTSTZ}
	case mapping.TypeSQLNull:
		return colPlan{wt: wire.Null, kind: kNull}
	case mapping.TypeList, mapping.TypeArray:
		return colPlan{wt: wire.Array, kind: kText, cast: true}
	case mapping.TypeMap:
		return colPlan{wt: wire.Map, kind: kText, cast: true}
	case mapping.TypeStruct:
		return colPlan{wt: wire.Struct, kind: kText, cast: true}
	case mapping.TypeInvalid, mapping.TypeAny:
		return colPlan{wt: wire.String, kind: kUnknown}
	default: // UUID, ENUM, INTERVAL, TIME, TIMETZ, BIT, UHUGEINT, UNION, ...
		return colPlan{wt: wire.String, kind: kText, cast: true}
	}
}

// wrapSQL returns a SELECT around sql that casts the columns marked cast to
// VARCHAR. Columns are renamed positionally so duplicate or odd names in
// the user's query do not matter; the names on the wire come from the plan.
func wrapSQL(sql string, plan []colPlan) string {
	var b strings.Builder
	b.Grow(len(sql) + 32*len(plan))
	b.WriteString("SELECT ")
	for i, p := range plan {
		if i > 0 {
			b.WriteString(", ")
		}
		col := wrapCol(i)
		if p.cast {
			b.WriteString("CAST(" + col + " AS VARCHAR)")
		} else {
			b.WriteString(col)
		}
	}
	b.WriteString(" FROM (\n")
	b.WriteString(sql)
	b.WriteString("\n) AS \"_e6q\"(")
	for i := range plan {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(wrapCol(i))
	}
	b.WriteString(")")
	return b.String()
}

func wrapCol(i int) string {
	return `"_e6c` + itoa(i) + `"`
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var buf [20]byte
	n := len(buf)
	for i > 0 {
		n--
		buf[n] = byte('0' + i%10)
		i /= 10
	}
	return string(buf[n:])
}

const (
	microsPerDay = 86_400_000_000
	// dateInfinity is how DuckDB stores DATE 'infinity' (and its negation).
	dateInfinity = math.MaxInt32
)

// colBuf accumulates one column of a result batch. Its slices are reused
// from batch to batch; string bytes live in one arena per batch.
type colBuf struct {
	plan  colPlan
	vec   wire.Vector
	arena []byte
	err   error // the first value that has no wire form (see rangeError)
}

// rangeError is the SQL error of a DATE or TIMESTAMP value that has no
// wire form: the wire carries microseconds since the epoch in an int64
// (about years -290308 to 294247), and has no infinity.
func (c *colBuf) rangeError(what string) {
	if c.err == nil {
		c.err = &duckError{typ: mapping.ErrorTypeOutOfRange, msg: "Out of Range Error: column " + quoteIdent(c.plan.name) + ": " + what +
			" cannot be sent: dates and timestamps travel as int64 microseconds since 1970-01-01 UTC, which neither reach it nor represent infinity"}
	}
}

// err returns the first error a column of the batch met.
func (b *batch) err() error {
	for i := range b.cols {
		if err := b.cols[i].err; err != nil {
			return err
		}
	}
	return nil
}

// batch builds wire chunks column by column from DuckDB data chunks.
type batch struct {
	cols []colBuf
	rows int
	zone string
}

func newBatch(plan []colPlan, zone string) *batch {
	b := &batch{cols: make([]colBuf, len(plan)), zone: zone}
	for i, p := range plan {
		b.cols[i].plan = p
	}
	return b
}

func (b *batch) reset() {
	b.rows = 0
	for i := range b.cols {
		c := &b.cols[i]
		v := &c.vec
		v.Nulls = v.Nulls[:0]
		v.Bools = v.Bools[:0]
		v.Int32s = v.Int32s[:0]
		v.Int64s = v.Int64s[:0]
		v.Float64s = v.Float64s[:0]
		clear(v.Bytes) // drop references into the previous arena
		v.Bytes = v.Bytes[:0]
		v.Zones = v.Zones[:0]
		v.Decimals = v.Decimals[:0]
		c.arena = c.arena[:0]
		c.err = nil
	}
}

// bytes estimates the encoded size of the batch so far.
func (b *batch) bytes() int {
	n := 0
	for i := range b.cols {
		n += len(b.cols[i].arena) + 8*b.rows
	}
	return n
}

// fit returns how many of the n rows from off fit in budget bytes of string
// data (at least one): rows with huge values end a batch early.
func (b *batch) fit(ch mapping.DataChunk, size, off, n, budget int) int {
	if b.stringBytes(ch, size, off, n) <= budget {
		return n
	}
	acc := 0 // rare: find the cut row by row
	for m := range n {
		acc += b.stringBytes(ch, size, off+m, 1)
		if acc > budget {
			return max(m, 1)
		}
	}
	return n
}

// stringBytes sums the string lengths of rows [off, off+n).
func (b *batch) stringBytes(ch mapping.DataChunk, size, off, n int) int {
	total := 0
	for i := range b.cols {
		if k := b.cols[i].plan.kind; k != kVarchar && k != kBlob {
			continue
		}
		v := mapping.DataChunkGetVector(ch, mapping.IdxT(i))
		data, mask := mapping.VectorGetData(v), validityMask(v, size)
		for r := off; r < off+n; r++ {
			if isValid(mask, r) {
				total += int(*(*uint32)(unsafe.Add(data, 16*r)))
			}
		}
	}
	return total
}

// appendChunk appends rows [off, off+n) of a DuckDB data chunk of size rows.
func (b *batch) appendChunk(ch mapping.DataChunk, size, off, n int) {
	for i := range b.cols {
		v := mapping.DataChunkGetVector(ch, mapping.IdxT(i))
		b.cols[i].appendVector(v, size, off, n, b.zone)
	}
	b.rows += n
}

func (c *colBuf) appendVector(v mapping.Vector, size, off, n int, zone string) {
	vec := &c.vec
	mask := validityMask(v, size)
	if mask == nil {
		vec.Nulls = appendFalse(vec.Nulls, n)
	} else {
		for r := off; r < off+n; r++ {
			vec.Nulls = append(vec.Nulls, !isValid(mask, r))
		}
	}
	if c.plan.kind == kNull {
		return
	}
	start := c.valueLen()
	data := mapping.VectorGetData(v)
	switch c.plan.kind {
	case kBool:
		src := unsafe.Slice((*bool)(data), size)[off : off+n]
		vec.Bools = append(vec.Bools, src...)
	case kI8:
		for _, x := range unsafe.Slice((*int8)(data), size)[off : off+n] {
			vec.Int32s = append(vec.Int32s, int32(x))
		}
	case kI16:
		for _, x := range unsafe.Slice((*int16)(data), size)[off : off+n] {
			vec.Int32s = append(vec.Int32s, int32(x))
		}
	case kI32:
		vec.Int32s = append(vec.Int32s, unsafe.Slice((*int32)(data), size)[off:off+n]...)
	case kU8:
		for _, x := range unsafe.Slice((*uint8)(data), size)[off : off+n] {
			vec.Int32s = append(vec.Int32s, int32(x))
		}
	case kU16:
		for _, x := range unsafe.Slice((*uint16)(data), size)[off : off+n] {
			vec.Int32s = append(vec.Int32s, int32(x))
		}
	case kI64:
		vec.Int64s = append(vec.Int64s, unsafe.Slice((*int64)(data), size)[off:off+n]...)
	case kTS:
		src := unsafe.Slice((*int64)(data), size)[off : off+n]
		vec.Int64s = append(vec.Int64s, src...)
		c.checkInfinity(src, mask, off, "TIMESTAMP")
	case kU32:
		for _, x := range unsafe.Slice((*uint32)(data), size)[off : off+n] {
			vec.Int64s = append(vec.Int64s, int64(x))
		}
	case kTSs, kTSms:
		f := int64(1_000_000)
		if c.plan.kind == kTSms {
			f = 1_000
		}
		for i, x := range unsafe.Slice((*int64)(data), size)[off : off+n] {
			us, ok := scaleMicros(x, f)
			if !ok && isValid(mask, off+i) {
				c.rangeError("TIMESTAMP value " + strconv.FormatInt(x, 10) + " (in units of " + strconv.FormatInt(f, 10) + " µs)")
			}
			vec.Int64s = append(vec.Int64s, us)
		}
	case kTSns:
		src := unsafe.Slice((*int64)(data), size)[off : off+n]
		for _, x := range src {
			vec.Int64s = append(vec.Int64s, floorDiv(x, 1_000))
		}
		c.checkInfinity(src, mask, off, "TIMESTAMP_NS")
	case kTSTZ:
		src := unsafe.Slice((*int64)(data), size)[off : off+n]
		vec.Int64s = append(vec.Int64s, src...)
		for range n {
			vec.Zones = append(vec.Zones, zone)
		}
		c.checkInfinity(src, mask, off, "TIMESTAMPTZ")
	case kDate:
		for i, d := range unsafe.Slice((*int32)(data), size)[off : off+n] {
			us, ok := dateMicros(d)
			if !ok && isValid(mask, off+i) {
				what := "DATE value " + strconv.Itoa(int(d)) + " days from 1970-01-01"
				if d >= dateInfinity || d <= -dateInfinity {
					what = "DATE infinity"
				}
				c.rangeError(what)
			}
			vec.Int64s = append(vec.Int64s, us)
		}
	case kF32:
		for _, x := range unsafe.Slice((*float32)(data), size)[off : off+n] {
			vec.Float64s = append(vec.Float64s, float64(x))
		}
	case kF64:
		vec.Float64s = append(vec.Float64s, unsafe.Slice((*float64)(data), size)[off:off+n]...)
	case kU64:
		for _, x := range unsafe.Slice((*uint64)(data), size)[off : off+n] {
			vec.Decimals = append(vec.Decimals, wire.Dec128{Lo: x})
		}
	case kDec16:
		for _, x := range unsafe.Slice((*int16)(data), size)[off : off+n] {
			vec.Decimals = append(vec.Decimals, dec64(int64(x)))
		}
	case kDec32:
		for _, x := range unsafe.Slice((*int32)(data), size)[off : off+n] {
			vec.Decimals = append(vec.Decimals, dec64(int64(x)))
		}
	case kDec64:
		for _, x := range unsafe.Slice((*int64)(data), size)[off : off+n] {
			vec.Decimals = append(vec.Decimals, dec64(x))
		}
	case kI128, kDec128:
		// duckdb_hugeint is {uint64 lower; int64 upper}.
		words := unsafe.Slice((*uint64)(data), 2*size)[2*off : 2*(off+n)]
		for j := 0; j < len(words); j += 2 {
			vec.Decimals = append(vec.Decimals, wire.Dec128{Lo: words[j], Hi: int64(words[j+1])})
		}
	case kVarchar, kBlob:
		for r := off; r < off+n; r++ {
			if !isValid(mask, r) {
				vec.Bytes = append(vec.Bytes, nil)
				continue
			}
			s := stringAt(data, r)
			start := len(c.arena)
			c.arena = append(c.arena, s...)
			vec.Bytes = append(vec.Bytes, c.arena[start:len(c.arena):len(c.arena)])
		}
	default:
		// kText / kUnknown that could not be cast: NULL-free placeholder
		// never reached (execute rejects such plans), kept for safety.
		for range n {
			vec.Bytes = append(vec.Bytes, nil)
		}
	}
	if mask != nil {
		c.zeroNulls(start, mask, off, n)
	}
}

// valueLen is the length of the value slice this column fills.
func (c *colBuf) valueLen() int {
	v := &c.vec
	switch c.plan.wt {
	case wire.Boolean:
		return len(v.Bools)
	case wire.Integer:
		return len(v.Int32s)
	case wire.Long, wire.Date, wire.DateTime, wire.TimestampTZ:
		return len(v.Int64s)
	case wire.Float, wire.Double:
		return len(v.Float64s)
	case wire.Decimal128:
		return len(v.Decimals)
	default:
		return len(v.Bytes)
	}
}

// zeroNulls writes the zero value into the slots of NULL rows, so that the
// bytes on the wire do not depend on what DuckDB left in its buffers.
func (c *colBuf) zeroNulls(start int, mask []uint64, off, n int) {
	v := &c.vec
	for j := range n {
		if isValid(mask, off+j) {
			continue
		}
		i := start + j
		switch c.plan.wt {
		case wire.Boolean:
			v.Bools[i] = false
		case wire.Integer:
			v.Int32s[i] = 0
		case wire.Long, wire.Date, wire.DateTime, wire.TimestampTZ:
			v.Int64s[i] = 0
		case wire.Float, wire.Double:
			v.Float64s[i] = 0
		case wire.Decimal128:
			v.Decimals[i] = wire.Dec128{}
		}
	}
}

// finish fills dst with the batch, ready to encode. (String values point
// into the arena as it was when they were appended; arrays left behind by
// its growth stay valid until the batch is encoded and reset.)
func (b *batch) finish(dst *wire.Chunk) {
	dst.Rows = int32(b.rows)
	dst.Vectors = dst.Vectors[:0]
	for i := range b.cols {
		c := &b.cols[i]
		v := c.vec
		v.Type = c.plan.wt
		v.Size = int32(b.rows)
		v.Scale = c.plan.scale
		if c.plan.kind == kTSTZ {
			v.ZoneOffset = b.zone
		}
		dst.Vectors = append(dst.Vectors, v)
	}
}

func appendFalse(dst []bool, n int) []bool {
	if cap(dst)-len(dst) < n {
		grown := make([]bool, len(dst), 2*cap(dst)+n)
		copy(grown, dst)
		dst = grown
	}
	dst = dst[:len(dst)+n]
	clear(dst[len(dst)-n:])
	return dst
}

func dec64(x int64) wire.Dec128 {
	return wire.Dec128{Lo: uint64(x), Hi: x >> 63}
}

// dateMicros converts DuckDB days since the epoch to microseconds at UTC
// midnight. It reports false for ±infinity and dates beyond the int64
// microsecond range.
func dateMicros(d int32) (int64, bool) {
	const maxDays = math.MaxInt64 / microsPerDay
	if d >= dateInfinity || d <= -dateInfinity || int64(d) > maxDays || int64(d) < -maxDays {
		return 0, false
	}
	return int64(d) * microsPerDay, true
}

// scaleMicros multiplies seconds or milliseconds to microseconds. It
// reports false when that leaves the int64 range, and for DuckDB's
// ±infinity (the int64 extremes).
func scaleMicros(x, f int64) (int64, bool) {
	if x >= math.MaxInt64/f || x <= math.MinInt64/f+1 {
		return 0, false
	}
	return x * f, true
}

// checkInfinity flags a valid row of a TIMESTAMP vector that holds DuckDB's
// ±infinity (the int64 extremes).
func (c *colBuf) checkInfinity(src []int64, mask []uint64, off int, typ string) {
	for i, x := range src {
		if (x == math.MaxInt64 || x <= -math.MaxInt64) && isValid(mask, off+i) {
			c.rangeError(typ + " infinity")
			return
		}
	}
}

// floorDiv divides rounding toward negative infinity, so that nanoseconds
// before the epoch truncate to the earlier microsecond.
func floorDiv(x, d int64) int64 {
	q := x / d
	if (x%d != 0) && (x < 0) {
		q--
	}
	return q
}
