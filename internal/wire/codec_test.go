package wire_test

import (
	"bytes"
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/e6go/e6data/internal/enginepb"
	"github.com/e6go/e6data/internal/wire"
)

// split cuts b into buffers of at most n bytes, as grpc-go hands a message
// received in several HTTP/2 frames to a codec.
func split(b []byte, n int) mem.BufferSlice {
	var s mem.BufferSlice
	for len(b) > 0 {
		k := min(n, len(b))
		s = append(s, mem.SliceBuffer(b[:k:k]))
		b = b[k:]
	}
	return s
}

func batchResponseSeeds() [][]byte {
	batch := bytes.Repeat([]byte("0123456789abcdef"), 2000)
	full, err := proto.Marshal(&enginepb.GetNextResultBatchResponse{ResultBatch: batch, SessionId: "s-1", NewStrategy: proto.String("green")})
	if err != nil {
		panic(err)
	}
	var odd []byte // fields out of order, resultBatch twice, an unknown field
	odd = protowire.AppendTag(odd, 4, protowire.BytesType)
	odd = protowire.AppendString(odd, "blue")
	odd = protowire.AppendTag(odd, 2, protowire.BytesType)
	odd = protowire.AppendBytes(odd, []byte("first"))
	odd = protowire.AppendTag(odd, 9, protowire.VarintType)
	odd = protowire.AppendVarint(odd, 300)
	odd = protowire.AppendTag(odd, 3, protowire.BytesType)
	odd = protowire.AppendString(odd, "s-2")
	odd = protowire.AppendTag(odd, 2, protowire.BytesType)
	odd = protowire.AppendBytes(odd, []byte("second"))
	var wrongType []byte // field 2 as a varint: proto.Unmarshal's business
	wrongType = protowire.AppendTag(wrongType, 2, protowire.VarintType)
	wrongType = protowire.AppendVarint(wrongType, 1)
	var emptyLast []byte
	emptyLast = protowire.AppendTag(emptyLast, 2, protowire.BytesType)
	emptyLast = protowire.AppendBytes(emptyLast, []byte("x"))
	emptyLast = protowire.AppendTag(emptyLast, 2, protowire.BytesType)
	emptyLast = protowire.AppendBytes(emptyLast, nil)
	return [][]byte{full, odd, wrongType, emptyLast, nil, {0x12, 0x05, 'a'}, {0x12}, {0xff, 0xff}}
}

// BatchCodec reads every response exactly as grpc-go's proto codec does,
// whatever the frames it arrives in, and fails where it fails.
func FuzzBatchCodec(f *testing.F) {
	for _, s := range batchResponseSeeds() {
		f.Add(s, uint16(16384))
		f.Add(s, uint16(3))
	}
	f.Fuzz(func(t *testing.T, b []byte, frame uint16) {
		var want enginepb.GetNextResultBatchResponse
		wantErr := proto.Unmarshal(b, &want)
		var got enginepb.GetNextResultBatchResponse
		got.SessionId = "stale" // Unmarshal replaces the message
		codec := &wire.BatchCodec{}
		err := codec.Unmarshal(split(b, int(frame)+1), &got)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("error %v, proto.Unmarshal's %v", err, wantErr)
		}
		if err != nil {
			return
		}
		if !bytes.Equal(got.GetResultBatch(), want.GetResultBatch()) || got.GetSessionId() != want.GetSessionId() ||
			got.NewStrategy == nil != (want.NewStrategy == nil) || got.GetNewStrategy() != want.GetNewStrategy() ||
			!bytes.Equal(got.ProtoReflect().GetUnknown(), want.ProtoReflect().GetUnknown()) {
			t.Fatalf("got %v, proto.Unmarshal gives %v", &got, &want)
		}
	})
}

// A batch is received into the codec's buffer when it is large enough, and
// into a new one (left in Buf for the next call) when not.
func TestBatchCodecReusesBuffer(t *testing.T) {
	msg := batchResponseSeeds()[0]
	codec := &wire.BatchCodec{Buf: make([]byte, 10)}
	var resp enginepb.GetNextResultBatchResponse
	if err := codec.Unmarshal(split(msg, 16384), &resp); err != nil {
		t.Fatal(err)
	}
	if cap(codec.Buf) < len(msg) {
		t.Fatalf("Buf has capacity %d after a %d-byte message", cap(codec.Buf), len(msg))
	}
	first := &codec.Buf[:1][0]
	next := &wire.BatchCodec{Buf: codec.Buf}
	var again enginepb.GetNextResultBatchResponse
	if err := next.Unmarshal(split(msg, 1000), &again); err != nil {
		t.Fatal(err)
	}
	if &next.Buf[:1][0] != first {
		t.Error("a large enough buffer was not reused")
	}
	rb := again.GetResultBatch()
	if off := bytes.Index(msg, rb); len(rb) == 0 || off < 0 || &rb[0] != &next.Buf[:off+1][off] {
		t.Error("ResultBatch does not alias the buffer")
	}
	if !bytes.Equal(rb, bytes.Repeat([]byte("0123456789abcdef"), 2000)) {
		t.Error("ResultBatch differs from the batch sent")
	}
	if again.GetSessionId() != "s-1" || again.GetNewStrategy() != "green" {
		t.Errorf("other fields: %v", &again)
	}
}

// Any other message goes through grpc-go's proto codec.
func TestBatchCodecOtherMessages(t *testing.T) {
	codec := &wire.BatchCodec{}
	in := &enginepb.AuthenticateResponse{SessionId: "abc"}
	data, err := codec.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out enginepb.AuthenticateResponse
	if err := codec.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if out.GetSessionId() != "abc" {
		t.Errorf("got %v", &out)
	}
	if codec.Name() != "" {
		t.Errorf("Name() = %q: the content-type would change", codec.Name())
	}
}
