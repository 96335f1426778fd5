package wire

import (
	"strconv"
	"strings"
)

// VectorType is the Thrift enum VectorType of docs/protocol.md §8; the same names
// appear as column type names in the resultMetaData (§7).
type VectorType int32

// The vector types, numbered as on the wire.
const (
	Binary      VectorType = 0
	Boolean     VectorType = 1
	Double      VectorType = 2
	Float       VectorType = 3
	Int96       VectorType = 4
	Integer     VectorType = 5
	Long        VectorType = 6
	String      VectorType = 7
	Date        VectorType = 8
	DateTime    VectorType = 9
	Timestamp   VectorType = 10
	Struct      VectorType = 11
	Map         VectorType = 12
	Array       VectorType = 13
	Null        VectorType = 14
	TimestampTZ VectorType = 15
	Decimal128  VectorType = 16
)

var vectorTypeNames = [...]string{
	Binary:      "BINARY",
	Boolean:     "BOOLEAN",
	Double:      "DOUBLE",
	Float:       "FLOAT",
	Int96:       "INT96",
	Integer:     "INTEGER",
	Long:        "LONG",
	String:      "STRING",
	Date:        "DATE",
	DateTime:    "DATETIME",
	Timestamp:   "TIMESTAMP",
	Struct:      "STRUCT",
	Map:         "MAP",
	Array:       "ARRAY",
	Null:        "NULL",
	TimestampTZ: "TIMESTAMP_TZ",
	Decimal128:  "DECIMAL128",
}

// valid reports whether t is one of the declared constants.
func (t VectorType) valid() bool { return t >= 0 && int(t) < len(vectorTypeNames) }

// String returns the upper-case protocol name ("LONG", "TIMESTAMP_TZ", ...),
// or "VectorType(n)" for a value that is not a declared constant.
func (t VectorType) String() string {
	if t.valid() {
		return vectorTypeNames[t]
	}
	return "VectorType(" + strconv.Itoa(int(t)) + ")"
}

// ParseVectorType maps a protocol type name, in any letter case, to its
// VectorType. It reports false for any other string.
func ParseVectorType(s string) (VectorType, bool) {
	for i, name := range vectorTypeNames {
		if strings.EqualFold(s, name) {
			return VectorType(i), true
		}
	}
	return 0, false
}
