package wire

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"unsafe"
)

// Members of the Thrift union Data (docs/protocol.md §8).
const (
	mBool            = 1  // boolData{1: list<bool>}
	mInt32           = 2  // int32Data{1: list<i32>}
	mInt64           = 3  // int64Data{1: list<i64>}
	mDate            = 4  // dateData{1: list<i64>}
	mFloat32         = 5  // float32Data{1: list<double>}
	mFloat64         = 6  // float64Data{1: list<double>}
	mVarchar         = 7  // varcharData{1: list<string>}
	mBoolConst       = 8  // boolConstantData{1: bool}
	mDateConst       = 9  // dateConstantData{1: i64}
	mNullConst       = 10 // nullConstantData{1: byte}
	mNumericConst    = 11 // numericConstantData{1: i64}
	mDoubleConst     = 12 // numericDecimalConstantData{1: double}
	mIntervalConst   = 13 // temporalIntervalConstantData{1: byte}
	mTimeConst       = 14 // timeConstantData{1: i64, 2: optional string zoneData}
	mVarcharConst    = 15 // varcharConstantData{1: string}
	mTime            = 16 // timeData{1: list<i64>, 2: optional list<string> zoneData}
	mDecimal         = 17 // decimal128Data{1: list<binary>, 2: i32 scale}
	mDecimalConst    = 18 // numericDecimal128ConstantData{1: binary, 2: i32 scale}
	maxMember        = 18
	minVectorWire    = 10 // nullSet field (3+5+1) and STOP: no valid Vector is shorter
	maxDecimalScale  = 1000
	maxDecimalLength = 16
)

var memberNames = [...]string{"", "boolData", "int32Data", "int64Data", "dateData", "float32Data",
	"float64Data", "varcharData", "boolConstantData", "dateConstantData", "nullConstantData",
	"numericConstantData", "numericDecimalConstantData", "temporalIntervalConstantData",
	"timeConstantData", "varcharConstantData", "timeData", "decimal128Data",
	"numericDecimal128ConstantData"}

// DecodeChunk decodes one resultBatch into c, reusing c's slices (and the
// slices of its vectors) when their capacity allows, so that decoding batch
// after batch into the same Chunk allocates next to nothing.
//
// An empty b, or a Chunk whose size is <= 0, is the end of the results: c
// gets Rows == 0 and no vectors, and the error is nil.
//
// Zero copy: the []byte values in Vector.Bytes alias b. The caller must not
// modify b while it uses them, and must copy what outlives b.
//
// What is accepted, beyond the exact layout of docs/protocol.md §8:
//   - Fields in any order; unknown fields of any Thrift type are skipped
//     (nesting up to 64 deep, like Apache Thrift); a field whose wire type
//     differs from the declared one is skipped like an unknown field, as
//     Thrift-generated code does. The last of repeated fields wins, except
//     that Chunk.size may appear only once. Bytes after the Chunk are ignored.
//   - A Thrift bool is true only for the byte 1 (as in Apache Thrift).
//   - DATE, DATETIME, TIMESTAMP and TIMESTAMP_TZ accept any of the i64 list
//     members timeData, dateData and int64Data (constant: timeConstantData,
//     dateConstantData, numericConstantData): all are microseconds since
//     the epoch, and a server might pick either. DOUBLE and FLOAT accept both
//     float64Data and float32Data (both are doubles on the wire). TIMESTAMP
//     decodes like DATETIME. INT96 is rejected: no layout is defined for it.
//   - A constant vector of any type may carry nullConstantData: its one
//     value is then NULL (Nulls[0] is set true) and its value slot holds the
//     type's zero value. A NULL-type vector accepts any data member, or
//     none, and any nullSet, or none: every row of it is NULL.
//   - A NULL row's slot is never read, as in e6data's own client: a value
//     list (or zoneData list) shorter than the rows is accepted when every
//     row it lacks is NULL, and a vector whose rows are all NULL may have
//     no data member; the missing slots get the type's zero value, so that
//     every list has a slot per row after decoding.
//   - A DECIMAL128 value may be 1..16 bytes of big-endian two's complement
//     (shorter values, as Java's BigInteger.toByteArray writes them, are
//     sign-extended); empty bytes are a NULL (Nulls is set for that row),
//     and a NULL row's value is not read, whatever its bytes;
//     and a value whose length is not 16 and whose bytes are all
//     decimal-literal characters (digits, signs, '.', 'e', 'E') and parse
//     as a decimal is the older UTF-8 text form ("123.45", "-0.5",
//     "1E+3"), carrying its own scale. When text values are present every
//     value of the vector is brought, exactly, to the largest scale among
//     them (and Vector.Scale, for the binary values), which becomes
//     Vector.Scale. Scales must lie in [-1000, 1000], a guard against text
//     of absurd length when formatting.
//   - Vector.size is kept as sent (set to the chunk's rows when absent) but
//     not checked: the rows come from Chunk.size and every list is checked
//     against them directly.
//
// What is rejected: a missing Chunk.size; a vector (other than NULL-type)
// without nullSet, or with fewer nullSet entries than rows (at least one
// for a constant vector); a data member that does not fit the vectorType
// and isConstantVector (a list member on a non-constant vector, a
// *ConstantData member on a constant one); a Data union with more than one
// member set; a value or zoneData list that lacks a row that is not NULL;
// no data member while a row is not NULL; a DECIMAL128 value longer than
// 16 bytes that is not decimal text, or text values whose common scale
// needs more than 128 bits; an INTEGER constant outside the int32 range;
// and any structural damage. Every error is a
// *DecodeError matching ErrMalformed. On error, c is left with Rows == 0
// and no vectors (its storage is kept for reuse).
func DecodeChunk(b []byte, c *Chunk) error {
	return decodeChunkWith(b, c, false)
}

// DecodeChunkCompact is DecodeChunk, except that the values of every list
// of strings (a non-constant STRING, BINARY, ARRAY, MAP or STRUCT vector's
// varcharData) are copied into one new Vector.StrData, laid out as Arrow
// lays out a String array, with Vector.StrOffsets (see Vector); Vector.Bytes
// then holds no values. It accepts and rejects exactly what DecodeChunk
// does. Constant vectors, and vectors whose rows are all NULL and that
// carry no data, keep their values in Bytes.
func DecodeChunkCompact(b []byte, c *Chunk) error {
	return decodeChunkWith(b, c, true)
}

func decodeChunkWith(b []byte, c *Chunk, compact bool) error {
	if err := decodeChunk(b, c, compact); err != nil {
		c.Rows = 0
		c.Vectors = c.Vectors[:0]
		return err
	}
	return nil
}

func decodeChunk(b []byte, c *Chunk, compact bool) error {
	c.Rows = 0
	c.Vectors = c.Vectors[:0]
	if len(b) == 0 {
		return nil
	}
	d := decoder{b: b, compact: compact}
	rows := int32(0)
	sizeAt := -1 // offset of the Chunk.size field header
	for {
		at := d.off
		t, id, err := d.field("Chunk")
		if err != nil {
			return err
		}
		if t == tStop {
			break
		}
		switch {
		case id == 1 && t == tI32:
			v, err := d.i32("Chunk.size")
			if err != nil {
				return err
			}
			if sizeAt >= 0 && sizeAt != at {
				return d.malformedAt(at, "Chunk.size (field 1) appears twice")
			}
			sizeAt, rows = at, v
		case id == 2 && t == tList:
			if sizeAt < 0 {
				// The vectors come before the size: find it first, so
				// that the vectors can be checked against it as they go.
				ahead := d
				if sizeAt, rows, err = scanChunkSize(&ahead); err != nil {
					return err
				}
				if sizeAt < 0 {
					return d.malformedAt(0, "required Chunk.size (field 1) is missing")
				}
			}
			if rows <= 0 {
				if err := d.skip(tList, maxSkipDepth); err != nil {
					return err
				}
				continue
			}
			if err := decodeVectors(&d, c, rows); err != nil {
				return err
			}
		default:
			if err := d.skip(t, maxSkipDepth); err != nil {
				return err
			}
		}
	}
	if sizeAt < 0 {
		return d.malformedAt(0, "required Chunk.size (field 1) is missing")
	}
	if rows <= 0 {
		c.Vectors = c.Vectors[:0]
		return nil
	}
	c.Rows = rows
	return nil
}

// scanChunkSize reads on from the value of Chunk field 2 to the end of the
// Chunk, looking for Chunk.size. It returns the offset of its field header,
// or -1.
func scanChunkSize(d *decoder) (at int, rows int32, err error) {
	if err := d.skip(tList, maxSkipDepth); err != nil {
		return -1, 0, err
	}
	at = -1
	for {
		fat := d.off
		t, id, err := d.field("Chunk")
		if err != nil {
			return -1, 0, err
		}
		if t == tStop {
			return at, rows, nil
		}
		if id == 1 && t == tI32 {
			if at >= 0 {
				return -1, 0, d.malformedAt(fat, "Chunk.size (field 1) appears twice")
			}
			at = fat
			if rows, err = d.i32("Chunk.size"); err != nil {
				return -1, 0, err
			}
			continue
		}
		if err := d.skip(t, maxSkipDepth); err != nil {
			return -1, 0, err
		}
	}
}

func decodeVectors(d *decoder, c *Chunk, rows int32) error {
	n, err := d.listMin(tStruct, minVectorWire, "Chunk.vectors")
	if err != nil {
		return err
	}
	vs := c.Vectors
	if cap(vs) < n {
		// Keep the old vectors: their slices are reused below.
		grown := make([]Vector, n)
		copy(grown, vs[:cap(vs)])
		vs = grown
	}
	vs = vs[:n]
	c.Vectors = vs[:0]
	for i := range vs {
		if err := decodeVector(d, &vs[i], rows); err != nil {
			if de, ok := err.(*DecodeError); ok {
				de.What = "vector " + itoa(i) + ": " + de.What
			}
			return err
		}
	}
	c.Vectors = vs
	return nil
}

// payload records what the Data union of one vector held.
type payload struct {
	members   uint32 // bit m set: member m was present
	member    int    // the last member read
	haveValue bool   // a constant member's field 1 was present
	i64       int64  // value of dateConstantData, numericConstantData, timeConstantData
	// decForm[i] says how DECIMAL128 value i was sent when not every value
	// was binary: decBinary, decEmpty (a NULL) or decText, with
	// decScale[i] the scale of its text. Both are nil while every value
	// is binary (the common case, which allocates nothing).
	decForm  []byte
	decScale []int32
}

// The forms of a DECIMAL128 value (docs/protocol.md §8).
const (
	decBinary  = iota // big-endian two's complement, unscaled, at Vector scale
	decEmpty          // no bytes: the value is NULL
	decText           // UTF-8 decimal text carrying its own scale
	decInvalid        // neither: an error unless its row is NULL (decScale holds its length)
)

// note records that DECIMAL128 value i of n came in a form other than binary.
func (p *payload) note(i, n int, form byte, scale int32) {
	if p.decForm == nil {
		p.decForm = make([]byte, n)
		p.decScale = make([]int32, n)
	}
	p.decForm[i], p.decScale[i] = form, scale
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

func decodeVector(d *decoder, v *Vector, rows int32) error {
	start := d.off
	oldZones := v.Zones
	oldBytes := len(v.Bytes)
	oldZoneOffset, oldFormat := v.ZoneOffset, v.Format
	v.Type, v.Size, v.Constant, v.Scale = Binary, 0, false, 0
	v.ZoneOffset, v.Format = "", ""
	v.Nulls = nil
	resetValues(v)
	haveNulls, haveSize := false, false
	var p payload
	for {
		t, id, err := d.field("Vector")
		if err != nil {
			return err
		}
		if t == tStop {
			break
		}
		switch {
		case id == 1 && t == tI32:
			if v.Size, err = d.i32("Vector.size"); err != nil {
				return err
			}
			haveSize = true
		case id == 2 && t == tI32:
			var vt int32
			if vt, err = d.i32("Vector.vectorType"); err != nil {
				return err
			}
			v.Type = VectorType(vt)
		case id == 3 && t == tList:
			if v.Nulls, err = d.bools(v.Nulls, "Vector.nullSet"); err != nil {
				return err
			}
			haveNulls = true
		case id == 4 && t == tStruct:
			resetValues(v)
			p = payload{}
			if err := decodeData(d, v, &p, oldZones); err != nil {
				return err
			}
		case id == 5 && t == tBool:
			if v.Constant, err = d.bool("Vector.isConstantVector"); err != nil {
				return err
			}
		case id == 6 && t == tString:
			var s []byte
			if s, err = d.binary("Vector.zoneOffset"); err != nil {
				return err
			}
			v.ZoneOffset = intern(s, oldZoneOffset)
		case id == 7 && t == tString:
			var s []byte
			if s, err = d.binary("Vector.format"); err != nil {
				return err
			}
			v.Format = intern(s, oldFormat)
		default:
			if err := d.skip(t, maxSkipDepth); err != nil {
				return err
			}
		}
	}
	if n := len(v.Bytes); n < oldBytes && oldBytes <= cap(v.Bytes) {
		clear(v.Bytes[n:oldBytes]) // drop stale aliases of an older buffer
	}
	if !haveSize {
		v.Size = rows
	}
	if !haveNulls && v.Type != Null {
		return d.malformedAt(start, "required Vector.nullSet (field 3) is missing")
	}
	return checkVector(d, start, v, &p, rows)
}

// intern returns s as a string, reusing old when the text is the same.
func intern(s []byte, old string) string {
	if string(s) == old {
		return old
	}
	return string(s)
}

func resetValues(v *Vector) {
	v.Bools = nil // aliased the previous input: never written to
	v.Int32s = v.Int32s[:0]
	v.Int64s = v.Int64s[:0]
	v.Float64s = v.Float64s[:0]
	v.Bytes = v.Bytes[:0]
	v.StrOffsets = v.StrOffsets[:0]
	v.StrData = nil // handed out with the batch: never written to
	v.Decimals = v.Decimals[:0]
	v.Zones = nil
	v.Scale = 0
}

// checkVector validates a decoded vector against its type and the rows.
func checkVector(d *decoder, start int, v *Vector, p *payload, rows int32) error {
	bad := func(what string) error { return d.malformedAt(start, what) }
	if !v.Type.valid() {
		return bad("unknown vectorType " + itoa(int(v.Type)))
	}
	if v.Type == Int96 {
		return bad("INT96 vectors are not supported (docs/protocol.md §8 defines no layout for them)")
	}
	if k := bits.OnesCount32(p.members); k > 1 {
		return bad("Vector.data sets " + itoa(k) + " members of the union Data")
	}
	if !usesTimeData(v.Type) {
		v.Zones = nil // a DATE is a UTC midnight; other types have no zones
	}
	if v.Type == Null {
		return nil // every row is NULL, whatever nullSet and data say
	}
	if v.Constant {
		if len(v.Nulls) < 1 {
			return bad("constant vector has an empty nullSet")
		}
	} else if len(v.Nulls) < int(rows) {
		return bad("nullSet has " + itoa(len(v.Nulls)) + " entries for " + itoa(int(rows)) + " rows")
	}
	m := p.member
	if p.members == 0 {
		// A vector whose rows are all NULL may come without data: no slot
		// of it is ever read.
		if !nullFrom(v, 0, rows) {
			return bad(v.Type.String() + " vector has no data")
		}
		resetValues(v)
		if v.Constant {
			appendZero(v)
		} else {
			padZero(v, int(rows))
		}
		return nil
	}
	if m == mNullConst {
		if !v.Constant {
			return bad("nullConstantData on a non-constant vector")
		}
		v.Nulls = []bool{true} // not the input's byte: it may be 0
		resetValues(v)
		appendZero(v)
		return nil
	}
	if !memberFits(v.Type, m, v.Constant) {
		kind := "non-constant"
		if v.Constant {
			kind = "constant"
		}
		return bad(memberNames[m] + " does not fit a " + kind + " " + v.Type.String() + " vector")
	}
	if v.Constant {
		if !p.haveValue {
			return bad(memberNames[m] + " has no value (field 1)")
		}
		switch m {
		case mNumericConst:
			if v.Type == Integer {
				if p.i64 < math.MinInt32 || p.i64 > math.MaxInt32 {
					return bad("INTEGER constant " + itoa(int(p.i64)) + " is out of the int32 range")
				}
				v.Int32s = append(v.Int32s, int32(p.i64))
			} else {
				v.Int64s = append(v.Int64s, p.i64)
			}
		case mDateConst, mTimeConst:
			v.Int64s = append(v.Int64s, p.i64)
		}
	} else {
		// A list shorter than the rows is accepted when the rows it
		// lacks are NULL: their slots are never read, and get zeros.
		if n := valueCount(v, m); n < int(rows) {
			if !nullFrom(v, n, rows) {
				return bad(memberNames[m] + " has " + itoa(n) + " values for " + itoa(int(rows)) + " rows")
			}
			padZero(v, int(rows))
		}
		if v.Zones != nil && len(v.Zones) < int(rows) {
			if !nullFrom(v, len(v.Zones), rows) {
				return bad("timeData.zoneData has " + itoa(len(v.Zones)) + " zones for " + itoa(int(rows)) + " rows")
			}
			for len(v.Zones) < int(rows) {
				v.Zones = append(v.Zones, "")
			}
		}
	}
	if m == mDecimal || m == mDecimalConst {
		if v.Scale < -maxDecimalScale || v.Scale > maxDecimalScale {
			return bad("DECIMAL128 scale " + itoa(int(v.Scale)) + " is outside [-1000, 1000]")
		}
		if p.decForm != nil {
			if err := settleDecimals(v, p); err != nil {
				return bad(err.Error())
			}
		}
	}
	return nil
}

// isNullSlot reports whether value slot i of v belongs to NULL rows only.
func isNullSlot(v *Vector, i int) bool {
	if v.Constant {
		return len(v.Nulls) > 0 && v.Nulls[0]
	}
	return i < len(v.Nulls) && v.Nulls[i]
}

// nullFrom reports whether the rows from..rows-1 of v are all NULL.
func nullFrom(v *Vector, from int, rows int32) bool {
	if v.Constant {
		return len(v.Nulls) > 0 && v.Nulls[0]
	}
	for r := from; r < int(rows); r++ {
		if r >= len(v.Nulls) || !v.Nulls[r] {
			return false
		}
	}
	return true
}

// padZero extends the value slice of v's type with zeros to n slots.
func padZero(v *Vector, n int) {
	switch v.Type {
	case Boolean:
		for len(v.Bools) < n {
			v.Bools = append(v.Bools, false) // the input's bytes are never written: cap is cut
		}
	case Integer:
		for len(v.Int32s) < n {
			v.Int32s = append(v.Int32s, 0)
		}
	case Long, Date, DateTime, Timestamp, TimestampTZ:
		for len(v.Int64s) < n {
			v.Int64s = append(v.Int64s, 0)
		}
	case Double, Float:
		for len(v.Float64s) < n {
			v.Float64s = append(v.Float64s, 0)
		}
	case String, Binary, Array, Map, Struct:
		if k := len(v.StrOffsets); k > 0 {
			for last := v.StrOffsets[k-1]; len(v.StrOffsets) < n+1; {
				v.StrOffsets = append(v.StrOffsets, last)
			}
			return
		}
		for len(v.Bytes) < n {
			v.Bytes = append(v.Bytes, nil)
		}
	case Decimal128:
		for len(v.Decimals) < n {
			v.Decimals = append(v.Decimals, Dec128{})
		}
	}
}

// settleDecimals finishes a DECIMAL128 vector whose values were not all
// binary: an empty value is a NULL, and text values carry their own scale,
// so every value is brought to the largest scale among them (and the
// vector's own, when binary values share it), exactly: only zeros are
// appended to the unscaled integers.
func settleDecimals(v *Vector, p *payload) error {
	target, have := int32(0), false
	for i, f := range p.decForm {
		var s int32
		switch f {
		case decInvalid:
			if !isNullSlot(v, i) {
				return errors.New("DECIMAL128 value " + itoa(i) + " has " + itoa(int(p.decScale[i])) + " bytes, want 1..16 (or decimal text)")
			}
			continue
		case decEmpty:
			if i < len(v.Nulls) && !v.Nulls[i] {
				nulls := make([]bool, len(v.Nulls)) // v.Nulls may alias the input
				copy(nulls, v.Nulls)
				v.Nulls = nulls
			}
			if i < len(v.Nulls) {
				v.Nulls[i] = true
			}
			continue
		case decText:
			s = p.decScale[i]
		default:
			s = v.Scale
		}
		if !have || s > target {
			target, have = s, true
		}
	}
	if !have {
		return nil
	}
	for i, f := range p.decForm {
		from := v.Scale
		switch f {
		case decEmpty, decInvalid:
			continue
		case decText:
			from = p.decScale[i]
		}
		x, ok := v.Decimals[i].scaleUp(target - from)
		if !ok {
			return errors.New("DECIMAL128 value " + itoa(i) + " does not fit 128 bits at scale " + itoa(int(target)))
		}
		v.Decimals[i] = x
	}
	v.Scale = target
	return nil
}

func memberFits(t VectorType, m int, constant bool) bool {
	if constant {
		switch t {
		case Boolean:
			return m == mBoolConst
		case Integer, Long:
			return m == mNumericConst
		case Double, Float:
			return m == mDoubleConst
		case String, Binary, Array, Map, Struct:
			return m == mVarcharConst
		case Date, DateTime, Timestamp, TimestampTZ:
			return m == mTimeConst || m == mDateConst || m == mNumericConst
		case Decimal128:
			return m == mDecimalConst
		}
		return false
	}
	switch t {
	case Boolean:
		return m == mBool
	case Integer:
		return m == mInt32
	case Long:
		return m == mInt64
	case Double, Float:
		return m == mFloat64 || m == mFloat32
	case String, Binary, Array, Map, Struct:
		return m == mVarchar
	case Date, DateTime, Timestamp, TimestampTZ:
		return m == mTime || m == mDate || m == mInt64
	case Decimal128:
		return m == mDecimal
	}
	return false
}

// valueCount is the length of the list that member m decoded into.
func valueCount(v *Vector, m int) int {
	switch m {
	case mBool:
		return len(v.Bools)
	case mInt32:
		return len(v.Int32s)
	case mInt64, mDate, mTime:
		return len(v.Int64s)
	case mFloat32, mFloat64:
		return len(v.Float64s)
	case mVarchar:
		if k := len(v.StrOffsets); k > 0 {
			return k - 1
		}
		return len(v.Bytes)
	case mDecimal:
		return len(v.Decimals)
	}
	return 0
}

// appendZero gives a NULL constant vector the zero value of its type.
func appendZero(v *Vector) {
	switch v.Type {
	case Boolean:
		v.Bools = append(v.Bools, false)
	case Integer:
		v.Int32s = append(v.Int32s, 0)
	case Long, Date, DateTime, Timestamp, TimestampTZ:
		v.Int64s = append(v.Int64s, 0)
	case Double, Float:
		v.Float64s = append(v.Float64s, 0)
	case String, Binary, Array, Map, Struct:
		v.Bytes = append(v.Bytes, nil)
	case Decimal128:
		v.Decimals = append(v.Decimals, Dec128{})
	}
}

// decodeData reads the union Data into v's value slices and p.
func decodeData(d *decoder, v *Vector, p *payload, oldZones []string) error {
	for {
		t, id, err := d.field("Data")
		if err != nil {
			return err
		}
		if t == tStop {
			return nil
		}
		if t != tStruct || id < 1 || id > maxMember {
			if err := d.skip(t, maxSkipDepth); err != nil {
				return err
			}
			continue
		}
		m := int(id)
		// A repeated member replaces the earlier one, as in Thrift.
		if p.members&(1<<m) != 0 {
			resetValues(v)
			p.haveValue = false
		}
		p.members |= 1 << m
		p.member = m
		if err := decodeMember(d, v, p, m, oldZones); err != nil {
			return err
		}
	}
}

// memberField gives, for each member, the wire type of its field 1 and,
// for lists, the element type.
var memberField = [maxMember + 1]struct{ typ, elem byte }{
	mBool: {tList, tBool}, mInt32: {tList, tI32}, mInt64: {tList, tI64}, mDate: {tList, tI64},
	mFloat32: {tList, tDouble}, mFloat64: {tList, tDouble}, mVarchar: {tList, tString},
	mBoolConst: {tBool, 0}, mDateConst: {tI64, 0}, mNullConst: {tByte, 0}, mNumericConst: {tI64, 0},
	mDoubleConst: {tDouble, 0}, mIntervalConst: {tByte, 0}, mTimeConst: {tI64, 0},
	mVarcharConst: {tString, 0}, mTime: {tList, tI64}, mDecimal: {tList, tString},
	mDecimalConst: {tString, 0},
}

func decodeMember(d *decoder, v *Vector, p *payload, m int, oldZones []string) error {
	name := memberNames[m]
	want := memberField[m]
	for {
		t, id, err := d.field(name)
		if err != nil {
			return err
		}
		if t == tStop {
			return nil
		}
		switch {
		case id == 1 && t == want.typ:
			if err := decodeMemberValue(d, v, p, m); err != nil {
				return err
			}
		case id == 2 && t == tList && m == mTime:
			if v.Zones, err = d.zones(oldZones, "timeData.zoneData"); err != nil {
				return err
			}
		case id == 2 && t == tString && m == mTimeConst:
			s, err := d.binary("timeConstantData.zoneData")
			if err != nil {
				return err
			}
			old := ""
			if len(oldZones) > 0 {
				old = oldZones[0]
			}
			v.Zones = append(oldZones[:0], intern(s, old))
		case id == 2 && t == tI32 && (m == mDecimal || m == mDecimalConst):
			if v.Scale, err = d.i32(name + ".scale"); err != nil {
				return err
			}
		default:
			if err := d.skip(t, maxSkipDepth); err != nil {
				return err
			}
		}
	}
}

func decodeMemberValue(d *decoder, v *Vector, p *payload, m int) (err error) {
	switch m {
	case mBool:
		v.Bools, err = d.bools(v.Bools, "boolData")
	case mInt32:
		v.Int32s, err = d.int32s(v.Int32s, "int32Data")
	case mInt64, mDate, mTime:
		v.Int64s, err = d.int64s(v.Int64s, memberNames[m])
	case mFloat32, mFloat64:
		v.Float64s, err = d.float64s(v.Float64s, memberNames[m])
	case mVarchar:
		if d.compact {
			v.StrOffsets, v.StrData, err = d.compactBinaries(v.StrOffsets, "varcharData")
		} else {
			v.Bytes, err = d.binaries(v.Bytes, "varcharData")
		}
	case mDecimal:
		v.Decimals, err = d.decimals(v.Decimals, p, "decimal128Data")
	case mBoolConst:
		var b bool
		if b, err = d.bool(memberNames[m]); err == nil {
			v.Bools = append(v.Bools[:0], b)
			p.haveValue = true
		}
	case mDateConst, mNumericConst, mTimeConst:
		if p.i64, err = d.i64(memberNames[m]); err == nil {
			p.haveValue = true
		}
	case mDoubleConst:
		var x int64
		if x, err = d.i64(memberNames[m]); err == nil {
			v.Float64s = append(v.Float64s[:0], math.Float64frombits(uint64(x)))
			p.haveValue = true
		}
	case mVarcharConst:
		var s []byte
		if s, err = d.binary(memberNames[m]); err == nil {
			v.Bytes = append(v.Bytes[:0], s)
			p.haveValue = true
		}
	case mDecimalConst:
		at := d.off
		var s []byte
		if s, err = d.binary(memberNames[m]); err == nil {
			p.decForm, p.decScale = nil, nil
			var x Dec128
			if x, err = d.decimal(s, at, 0, 1, p, memberNames[m]); err != nil {
				return err
			}
			v.Decimals = append(v.Decimals[:0], x)
			p.haveValue = true
		}
	case mNullConst, mIntervalConst:
		_, err = d.byte1(memberNames[m])
		p.haveValue = err == nil
	}
	return err
}

// bools reads a list<bool>. A Thrift bool is one byte, 1 for true; when
// every byte is 0 or 1 (what every encoder writes) the result aliases the
// input, with its capacity cut to its length, and costs no allocation.
// Otherwise it is a new slice (dst is never written to: it may alias an
// earlier input).
func (d *decoder) bools(dst []bool, what string) ([]bool, error) {
	n, err := d.list(tBool, what)
	if err != nil {
		return dst[:0], err
	}
	src := d.b[d.off : d.off+n : d.off+n]
	d.off += n
	if n == 0 {
		return nil, nil
	}
	if canonicalBools(src) {
		return unsafe.Slice((*bool)(unsafe.Pointer(unsafe.SliceData(src))), n), nil
	}
	out := make([]bool, n)
	for i, c := range src {
		out[i] = c == 1
	}
	return out, nil
}

// canonicalBools reports whether every byte of b is 0 or 1, eight at a time.
func canonicalBools(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&0xfefefefefefefefe != 0 {
			return false
		}
	}
	for ; i < len(b); i++ {
		if b[i] > 1 {
			return false
		}
	}
	return true
}

func (d *decoder) int32s(dst []int32, what string) ([]int32, error) {
	n, err := d.list(tI32, what)
	if err != nil {
		return dst[:0], err
	}
	dst = resizeNoZero(dst, n)
	src := d.b[d.off : d.off+4*n]
	for i := range dst {
		dst[i] = int32(binary.BigEndian.Uint32(src[4*i:]))
	}
	d.off += 4 * n
	return dst, nil
}

func (d *decoder) int64s(dst []int64, what string) ([]int64, error) {
	n, err := d.list(tI64, what)
	if err != nil {
		return dst[:0], err
	}
	dst = resizeNoZero(dst, n)
	src := d.b[d.off : d.off+8*n]
	for i := range dst {
		dst[i] = int64(binary.BigEndian.Uint64(src[8*i:]))
	}
	d.off += 8 * n
	return dst, nil
}

func (d *decoder) float64s(dst []float64, what string) ([]float64, error) {
	n, err := d.list(tDouble, what)
	if err != nil {
		return dst[:0], err
	}
	dst = resizeNoZero(dst, n)
	src := d.b[d.off : d.off+8*n]
	for i := range dst {
		dst[i] = math.Float64frombits(binary.BigEndian.Uint64(src[8*i:]))
	}
	d.off += 8 * n
	return dst, nil
}

// binaries reads a list<string>, each element aliasing the input.
func (d *decoder) binaries(dst [][]byte, what string) ([][]byte, error) {
	n, err := d.list(tString, what)
	if err != nil {
		return dst[:0], err
	}
	dst = resize(dst, n)
	b, off := d.b, d.off
	for i := range dst {
		if len(b)-off < 4 {
			d.off = off
			return dst[:0], d.short(4, what+" element length")
		}
		l := int(int32(binary.BigEndian.Uint32(b[off:])))
		if l < 0 {
			d.off = off
			return dst[:0], d.malformedAt(off, what+": negative string length "+itoa(l))
		}
		off += 4
		if l > len(b)-off {
			d.off = off
			return dst[:0], d.short(l, what+" element")
		}
		dst[i] = b[off : off+l : off+l]
		off += l
	}
	d.off = off
	return dst, nil
}

// compactBinaries reads a list<string> into one new data buffer (the values
// one after the other) and offsets: value i is data[offs[i]:offs[i+1]]. It
// checks every length first, so that the data is allocated once at its
// size, and fails exactly where binaries fails.
func (d *decoder) compactBinaries(offs []int32, what string) ([]int32, []byte, error) {
	n, err := d.list(tString, what)
	if err != nil {
		return offs[:0], nil, err
	}
	b, off := d.b, d.off
	total := 0
	for range n {
		if len(b)-off < 4 {
			d.off = off
			return offs[:0], nil, d.short(4, what+" element length")
		}
		l := int(int32(binary.BigEndian.Uint32(b[off:])))
		if l < 0 {
			d.off = off
			return offs[:0], nil, d.malformedAt(off, what+": negative string length "+itoa(l))
		}
		off += 4
		if l > len(b)-off {
			d.off = off
			return offs[:0], nil, d.short(l, what+" element")
		}
		off += l
		total += l
	}
	if total > math.MaxInt32 {
		return offs[:0], nil, d.malformedAt(d.off, what+": "+itoa(total)+" bytes of strings, more than offsets of 32 bits can address")
	}
	offs = resizeNoZero(offs, n+1)
	data := noZeroBytes(total)
	off, at := d.off, 0
	offs[0] = 0
	for i := range n {
		l := int(binary.BigEndian.Uint32(b[off:]))
		off += 4
		copyShort(data[at:at+l], b[off:off+l])
		at += l
		off += l
		offs[i+1] = int32(at)
	}
	d.off = off
	if data == nil {
		data = []byte{}
	}
	return offs, data, nil
}

// copyShort is copy(dst, src) for len(dst) == len(src), without a call
// for the short strings results are mostly made of: two overlapping loads
// and stores, never outside either slice.
func copyShort(dst, src []byte) {
	switch l := len(src); {
	case l >= 8 && l <= 16:
		binary.LittleEndian.PutUint64(dst, binary.LittleEndian.Uint64(src))
		binary.LittleEndian.PutUint64(dst[l-8:], binary.LittleEndian.Uint64(src[l-8:]))
	case l >= 4 && l < 8:
		binary.LittleEndian.PutUint32(dst, binary.LittleEndian.Uint32(src))
		binary.LittleEndian.PutUint32(dst[l-4:], binary.LittleEndian.Uint32(src[l-4:]))
	default:
		copy(dst, src)
	}
}

func (d *decoder) decimals(dst []Dec128, p *payload, what string) ([]Dec128, error) {
	n, err := d.list(tString, what)
	if err != nil {
		return dst[:0], err
	}
	p.decForm, p.decScale = nil, nil
	dst = resize(dst, n)
	for i := range dst {
		at := d.off
		s, err := d.binary(what)
		if err != nil {
			return dst[:0], err
		}
		if dst[i], err = d.decimal(s, at, i, n, p, what); err != nil {
			return dst[:0], err
		}
	}
	return dst, nil
}

// decimal reads DECIMAL128 value i (of n) in any of its forms: no bytes
// (NULL), UTF-8 decimal text ("123.45", "-0.5", "1E+3": any length but 16
// whose bytes are all decimal-literal characters and which parses), or
// 1..16 bytes of big-endian two's complement. The forms other than binary
// are noted in p, for checkVector to settle the scale.
func (d *decoder) decimal(s []byte, at, i, n int, p *payload, what string) (Dec128, error) {
	if len(s) == 0 {
		p.note(i, n, decEmpty, 0)
		return Dec128{}, nil
	}
	if len(s) != maxDecimalLength && decimalLiteral(s) {
		if x, scale, err := ParseDec128(string(s)); err == nil {
			if scale < -maxDecimalScale || scale > maxDecimalScale {
				return Dec128{}, d.malformedAt(at, what+": value "+itoa(i)+" has scale "+itoa(int(scale))+", outside [-1000, 1000]")
			}
			p.note(i, n, decText, scale)
			return x, nil
		}
	}
	if len(s) > maxDecimalLength {
		// Read only if its row is not NULL: checkVector decides.
		p.note(i, n, decInvalid, int32(min(len(s), math.MaxInt32)))
		return Dec128{}, nil
	}
	return dec128FromBytes(s), nil
}

// decimalLiteral reports whether every byte of s may appear in a decimal
// literal: digits, signs, a point and an exponent mark.
func decimalLiteral(s []byte) bool {
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9', c == '+', c == '-', c == '.', c == 'e', c == 'E':
		default:
			return false
		}
	}
	return true
}

// zones reads a list<string> of zone names into old's storage. Runs of the
// same zone (and zones equal to the ones decoded last time) share one string.
func (d *decoder) zones(old []string, what string) ([]string, error) {
	n, err := d.list(tString, what)
	if err != nil {
		return nil, err
	}
	dst := resize(old[:0], n)
	prev := ""
	for i := range dst {
		s, err := d.binary(what)
		if err != nil {
			return nil, err
		}
		switch {
		case i > 0 && string(s) == prev:
			dst[i] = prev
		case i < len(old) && string(s) == old[i]:
			dst[i] = old[i]
		default:
			dst[i] = string(s)
		}
		prev = dst[i]
	}
	return dst, nil
}
