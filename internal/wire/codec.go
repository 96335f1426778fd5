package wire

import (
	"fmt"
	"strings"
	"unsafe"

	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/e6go/e6data/internal/enginepb"
)

// BatchCodec is the gRPC codec of getNextResultBatch (grpc.ForceCodecV2).
// It reads a GetNextResultBatchResponse with one copy of its bytes:
// grpc-go's proto codec first gathers the message's frames into a pooled
// buffer it clears (a 1 MiB one for a 300 KB batch), and proto.Unmarshal
// then copies resultBatch again into a new, zeroed slice. BatchCodec copies
// the frames once into a new slice that is not cleared first (every byte of
// it is overwritten) and sets ResultBatch to the part of it that field 2
// holds; the other fields are given to proto.Unmarshal as they are. Every
// other message goes through grpc-go's proto codec unchanged.
//
// The storage is Buf when it is large enough (a new slice otherwise, left
// in Buf), so that a fetcher that gives each call the buffer of a batch it
// has finished with receives without allocating: see Chunk.Recv. Use one
// BatchCodec per call.
//
// Its Name is empty, so that the call's content-type stays
// "application/grpc", exactly what the default codec sends.
type BatchCodec struct {
	Buf []byte
}

var _ encoding.CodecV2 = (*BatchCodec)(nil)

// Name is empty: the content-subtype is left unset (see BatchCodec).
func (*BatchCodec) Name() string { return "" }

func protoCodec() encoding.CodecV2 { return encoding.GetCodecV2(grpcproto.Name) }

// Marshal is grpc-go's proto codec.
func (*BatchCodec) Marshal(v any) (mem.BufferSlice, error) { return protoCodec().Marshal(v) }

// Unmarshal reads a *enginepb.GetNextResultBatchResponse as described on
// BatchCodec, and anything else with grpc-go's proto codec.
func (c *BatchCodec) Unmarshal(data mem.BufferSlice, v any) error {
	resp, ok := v.(*enginepb.GetNextResultBatchResponse)
	if !ok {
		return protoCodec().Unmarshal(data, v)
	}
	n := data.Len()
	if cap(c.Buf) < n {
		c.Buf = noZeroBytes(n + n/8) // room for a slightly larger next batch
	}
	buf := c.Buf[:n:n]
	data.CopyTo(buf)
	return unmarshalBatchResponse(buf, resp)
}

// unmarshalBatchResponse is proto.Unmarshal of b into resp, except that
// ResultBatch aliases b. The fields other than resultBatch (field 2) are
// copied, in their order, and unmarshalled by proto.Unmarshal; the last
// resultBatch wins, as in proto3.
func unmarshalBatchResponse(b []byte, resp *enginepb.GetNextResultBatchResponse) error {
	proto.Reset(resp)
	var rest []byte
	var batch []byte
	for off := 0; off < len(b); {
		num, typ, n := protowire.ConsumeTag(b[off:])
		if n < 0 {
			return fmt.Errorf("proto: GetNextResultBatchResponse: %w", protowire.ParseError(n))
		}
		m := protowire.ConsumeFieldValue(num, typ, b[off+n:])
		if m < 0 {
			return fmt.Errorf("proto: GetNextResultBatchResponse: %w", protowire.ParseError(m))
		}
		if num == 2 && typ == protowire.BytesType {
			v, k := protowire.ConsumeBytes(b[off+n:])
			if k < 0 {
				return fmt.Errorf("proto: GetNextResultBatchResponse: %w", protowire.ParseError(k))
			}
			batch = v[:len(v):len(v)]
		} else {
			rest = append(rest, b[off:off+n+m]...)
		}
		off += n + m
	}
	if len(rest) > 0 {
		if err := (proto.UnmarshalOptions{Merge: true}).Unmarshal(rest, resp); err != nil {
			return err
		}
	}
	if len(batch) > 0 {
		resp.ResultBatch = batch
	}
	return nil
}

// noZeroBytes returns n bytes that the caller overwrites entirely: the
// memory is not cleared first (strings.Builder allocates it so).
func noZeroBytes(n int) []byte {
	if n == 0 {
		return nil
	}
	var sb strings.Builder
	sb.Grow(n)
	return unsafe.Slice(unsafe.StringData(sb.String()), n)
}

// makeNoZero is make([]T, n) without clearing the memory, for a slice the
// caller overwrites entirely. T holds no pointers.
func makeNoZero[T int32 | int64 | float64](n int) []T {
	if n == 0 {
		return []T{}
	}
	var zero T
	b := noZeroBytes(n * int(unsafe.Sizeof(zero)))
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// resizeNoZero is resize for a slice the caller overwrites entirely.
func resizeNoZero[T int32 | int64 | float64](s []T, n int) []T {
	if cap(s) < n {
		return makeNoZero[T](n)
	}
	return s[:n]
}
