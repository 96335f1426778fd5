package wire

// Vector is one column of a Chunk (Thrift struct Vector, docs/protocol.md §8).
//
// Exactly one typed slice carries the values, chosen by Type:
//
//	BOOLEAN                          Bools
//	INTEGER                          Int32s
//	LONG, DATE, DATETIME, TIMESTAMP,
//	TIMESTAMP_TZ                     Int64s (dates and times: microseconds since the Unix epoch, UTC)
//	DOUBLE, FLOAT                    Float64s
//	STRING, BINARY, ARRAY, MAP,
//	STRUCT                           Bytes
//	DECIMAL128                       Decimals and Scale
//	NULL                             none: every row is NULL
//
// A non-constant vector has one slot per row in Nulls and in its value slice
// (a NULL row still has a slot, holding the zero value). A constant vector
// has a single slot, Nulls[0] and values[0], standing for every row. The
// accessors (IsNull, Int64, ...) map a row to its slot in both cases.
//
// After DecodeChunk, every []byte in Bytes, and Nulls and Bools (a Thrift
// bool is one byte, 0 or 1), alias the input buffer (no copy is made; each
// has its capacity cut to its length, so appending to one cannot overwrite
// its neighbour). They stay valid only while the caller keeps that buffer
// unchanged; copy what must outlive it. The decoder never writes to them
// again, even when the Chunk is reused. After DecodeChunkCompact, StrData
// is a new slice the decoder never writes to again either (unless the
// caller hands it back as StrSpare), while StrOffsets, like the numeric
// slices, is reused by the next decode into the same Chunk.
type Vector struct {
	Type       VectorType
	Size       int32     // Vector.size on the wire (>= the chunk's rows)
	Constant   bool      // isConstantVector
	Nulls      []bool    // nullSet: one per row, or one for a constant vector
	ZoneOffset string    // Vector field 6
	Format     string    // Vector field 7
	Bools      []bool    // BOOLEAN
	Int32s     []int32   // INTEGER
	Int64s     []int64   // LONG, DATE, DATETIME, TIMESTAMP, TIMESTAMP_TZ
	Float64s   []float64 // DOUBLE, FLOAT (a FLOAT travels as a double)
	Bytes      [][]byte  // STRING, BINARY, ARRAY, MAP, STRUCT (aliases the input after DecodeChunk)
	StrOffsets []int32   // instead of Bytes after DecodeChunkCompact: value i is StrData[StrOffsets[i]:StrOffsets[i+1]]
	StrData    []byte    // the values of StrOffsets, one after the other (a new slice for every batch, unless StrSpare)
	Zones      []string  // zoneData of DATETIME/TIMESTAMP/TIMESTAMP_TZ, one per row (one for a constant); nil when absent (= UTC)
	Decimals   []Dec128  // DECIMAL128 unscaled values
	Scale      int32     // DECIMAL128 scale: value = Decimals[i] / 10^Scale
	// StrSpare is storage DecodeChunkCompact may decode StrData into
	// instead of a new slice: the caller sets it to an earlier StrData
	// that nothing refers to any more. The decoder takes it (sets it to
	// nil) when it decodes a list of strings.
	StrSpare []byte
}

// slot maps a row to the index of its value.
func (v *Vector) slot(row int) int {
	if v.Constant {
		return 0
	}
	return row
}

// IsNull reports whether row is NULL. Every row of a NULL-type vector is.
func (v *Vector) IsNull(row int) bool {
	if v.Type == Null {
		return true
	}
	i := v.slot(row)
	return i < len(v.Nulls) && v.Nulls[i]
}

// Bool returns the BOOLEAN value of row.
func (v *Vector) Bool(row int) bool { return v.Bools[v.slot(row)] }

// Int32 returns the INTEGER value of row.
func (v *Vector) Int32(row int) int32 { return v.Int32s[v.slot(row)] }

// Int64 returns the LONG value of row, or for DATE, DATETIME, TIMESTAMP and
// TIMESTAMP_TZ the microseconds since the Unix epoch (see TimeFromMicros).
func (v *Vector) Int64(row int) int64 { return v.Int64s[v.slot(row)] }

// Float64 returns the DOUBLE or FLOAT value of row.
func (v *Vector) Float64(row int) float64 { return v.Float64s[v.slot(row)] }

// BytesAt returns the STRING/BINARY/ARRAY/MAP/STRUCT bytes of row. After
// DecodeChunk they alias the decoded buffer; after DecodeChunkCompact
// they are part of StrData (or Bytes, for the vectors it leaves there).
func (v *Vector) BytesAt(row int) []byte {
	i := v.slot(row)
	if len(v.StrOffsets) > 0 {
		return v.StrData[v.StrOffsets[i]:v.StrOffsets[i+1]:v.StrOffsets[i+1]]
	}
	return v.Bytes[i]
}

// StringCount is the number of values of a STRING, BINARY, ARRAY, MAP or
// STRUCT vector, in either form.
func (v *Vector) StringCount() int {
	if k := len(v.StrOffsets); k > 0 {
		return k - 1
	}
	return len(v.Bytes)
}

// Zone returns the zone text of row ("+05:30", "Z", an IANA name), or ""
// when the vector carries no zones (UTC). See Location.
func (v *Vector) Zone(row int) string {
	if i := v.slot(row); i < len(v.Zones) {
		return v.Zones[i]
	}
	return ""
}

// Decimal returns the DECIMAL128 unscaled value of row; the scale is
// v.Scale.
func (v *Vector) Decimal(row int) Dec128 { return v.Decimals[v.slot(row)] }

// Chunk is one result batch (Thrift struct Chunk): Rows rows in column
// vectors. Column i is matched to metadata field i by position.
//
// Recv is not touched by DecodeChunk: it is storage a fetcher may receive
// the next batch into (see BatchCodec) once nothing uses this batch's
// values any more.
type Chunk struct {
	Rows    int32
	Vectors []Vector
	Recv    []byte
}

// IsEnd reports whether a resultBatch is the end-of-results marker: an empty
// byte string. (A chunk whose size is <= 0 also ends; DecodeChunk reports
// it with Rows == 0.)
func IsEnd(b []byte) bool { return len(b) == 0 }

// Widen converts v to the declared type t when that loses nothing: an
// INTEGER vector under a LONG column, a FLOAT vector under a DOUBLE one
// (a FLOAT travels as a double already). It reports whether v has type t
// afterwards; v is unchanged when it does not.
func (v *Vector) Widen(t VectorType) bool {
	switch {
	case v.Type == t:
		return true
	case v.Type == Integer && t == Long:
		out := make([]int64, len(v.Int32s))
		for i, x := range v.Int32s {
			out[i] = int64(x)
		}
		v.Int64s, v.Type = out, Long
		return true
	case v.Type == Float && t == Double:
		v.Type = Double
		return true
	}
	return false
}
