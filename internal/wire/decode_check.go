package wire

// Validating a decoded vector against its type and row count: NULL slots,
// zero padding, the common scale of DECIMAL128 values.

import (
	"errors"
	"math"
	"math/bits"
)

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
