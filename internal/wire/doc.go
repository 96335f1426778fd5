// Package wire owns the two byte formats in which an e6data engine returns
// query results (docs/protocol.md §7 and §8): the resultMetaData schema
// (big-endian, Java DataOutput style) and the resultBatch Chunk (a bare
// Thrift TBinaryProtocol struct). It encodes both (for the simulator) and
// decodes both (for the connector), and provides the exact value helpers the
// connector needs: 128-bit decimals, microsecond timestamps and zones.
//
// Decoders are written for hostile input: they never panic, report every
// failure as a *DecodeError (errors.Is(err, ErrMalformed)), and never
// allocate more than a small constant factor of the input size. DecodeChunk
// reuses the caller's slices and returns variable-length values that alias
// the input buffer, so a steady stream of batches decodes with next to no
// allocation.
//
// The package has no dependency beyond the standard library. Its tests check
// it against code that Apache Thrift generates from our own IDL
// (internal/wire/thriftref), against golden byte files under testdata/, and
// by fuzzing.
package wire
