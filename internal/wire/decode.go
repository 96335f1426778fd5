package wire

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
