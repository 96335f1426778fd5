// Our own Thrift description of an e6data result batch ("resultBatch" bytes of
// GetNextResultBatchResponse), written from shared/protocol.md §8. It exists
// only so that the hand-written codec in internal/wire can be checked against
// code that Apache Thrift generates; the connector itself never uses it.
//
// Regenerate with `go generate ./internal/wire/thriftref` (needs the Thrift
// compiler 0.17.0: `apt-get install thrift-compiler`).

namespace go thriftref

enum VectorType {
  BINARY = 0,
  BOOLEAN = 1,
  DOUBLE = 2,
  FLOAT = 3,
  INT96 = 4,
  INTEGER = 5,
  LONG = 6,
  STRING = 7,
  DATE = 8,
  DATETIME = 9,
  TIMESTAMP = 10,
  STRUCT = 11,
  MAP = 12,
  ARRAY = 13,
  NULL = 14,
  TIMESTAMP_TZ = 15,
  DECIMAL128 = 16,
}

// Column payloads: one list per row.
struct BoolList        { 1: list<bool> data }
struct Int32List       { 1: list<i32> data }
struct Int64List       { 1: list<i64> data }
struct DateList        { 1: list<i64> data }
struct Float32List     { 1: list<double> data }
struct Float64List     { 1: list<double> data }
struct VarcharList     { 1: list<string> data }
struct TimeList        { 1: list<i64> data, 2: optional list<string> zoneData }
struct Decimal128List  { 1: list<binary> data, 2: i32 scale }

// Constant payloads: one value for every row.
struct BoolConstant              { 1: bool data }
struct DateConstant              { 1: i64 data }
struct NullConstant              { 1: i8 data }   // "byte" in protocol.md; i8 is the same wire type
struct NumericConstant           { 1: i64 data }
struct NumericDecimalConstant    { 1: double data }
struct TemporalIntervalConstant  { 1: i8 data }
struct TimeConstant              { 1: i64 data, 2: optional string zoneData }
struct VarcharConstant           { 1: string data }
struct Decimal128Constant        { 1: binary data, 2: i32 scale }

union Data {
  1: BoolList boolData,
  2: Int32List int32Data,
  3: Int64List int64Data,
  4: DateList dateData,
  5: Float32List float32Data,
  6: Float64List float64Data,
  7: VarcharList varcharData,
  8: BoolConstant boolConstantData,
  9: DateConstant dateConstantData,
  10: NullConstant nullConstantData,
  11: NumericConstant numericConstantData,
  12: NumericDecimalConstant numericDecimalConstantData,
  13: TemporalIntervalConstant temporalIntervalConstantData,
  14: TimeConstant timeConstantData,
  15: VarcharConstant varcharConstantData,
  16: TimeList timeData,
  17: Decimal128List decimal128Data,
  18: Decimal128Constant numericDecimal128ConstantData,
}

struct Vector {
  1: i32 size,
  2: VectorType vectorType,
  3: list<bool> nullSet,
  4: Data data,
  5: bool isConstantVector,
  6: string zoneOffset,
  7: string format,
}

struct Chunk {
  1: required i32 size,
  2: list<Vector> vectors,
}
