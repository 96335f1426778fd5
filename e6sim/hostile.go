package e6sim

import (
	"context"
	"encoding/binary"
	"math"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/e6go/e6data/internal/enginepb"
	"github.com/e6go/e6data/internal/wire"
)

// The hostile fault kinds: responses a broken or malicious server could
// send. They are built from the engine's real answer, so every other part
// of the response stays plausible and only the named defect is wrong.

// stall blocks until the call's context ends or the server closes, and
// returns the status the client would see.
func (s *Server) stall(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	case <-s.closed:
		return status.Error(codes.Unavailable, "e6sim: server closed during an injected stall")
	}
}

// hostileResponse applies rule (a hostile kind, or none) to the response of
// a successful call of method with request req, and keeps the endless
// rule's per-query state.
func (s *Server) hostileResponse(method string, rule FaultRule, req, resp any) {
	qid := ""
	if r, ok := req.(interface{ GetQueryId() string }); ok {
		qid = r.GetQueryId()
	}
	switch method {
	case "clear", "cancelQuery", "clearOrCancelQuery":
		s.faults.forgetLast(qid)
		return
	}
	switch rule.Kind {
	case FaultEndless:
		if r, ok := resp.(*enginepb.GetNextResultBatchResponse); ok {
			r.ResultBatch = s.faults.repeatLast(qid, r.ResultBatch)
		}
	case FaultWrongType, FaultShortVector, FaultMissingNullSet, FaultAbsurdRows:
		if r, ok := resp.(*enginepb.GetNextResultBatchResponse); ok {
			r.ResultBatch = corruptBatch(rule, r.ResultBatch)
		}
	case FaultBadMetadata:
		if r, ok := resp.(*enginepb.GetResultMetadataResponse); ok {
			r.ResultMetaData = corruptMetadata(r.ResultMetaData)
		}
	}
}

// repeatLast remembers b as the query's last batch when it holds rows, and
// replaces the end marker with the remembered batch.
func (f *faultSet) repeatLast(qid string, b []byte) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(b) > 0 {
		if f.last == nil {
			f.last = make(map[string][]byte)
		}
		f.last[qid] = b
		return b
	}
	if last, ok := f.last[qid]; ok {
		return last
	}
	return b
}

func (f *faultSet) forgetLast(qid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.last, qid)
}

// corruptMetadata declares math.MaxInt32 fields in front of the real ones.
func corruptMetadata(b []byte) []byte {
	if len(b) < 12 {
		return b
	}
	out := append([]byte(nil), b...)
	binary.BigEndian.PutUint32(out[8:], math.MaxInt32)
	return out
}

// The layout AppendChunk writes (docs/protocol.md §8, every field in order):
//
//	Chunk:  08 0001 <size i32>  0F 0002 0C <count i32>  vectors...  00
//	Vector: 08 0001 <i32>  08 0002 <i32>  0F 0003 02 <n i32> <n bools>  ...
const (
	chunkHeader  = 3 + 4 + 3 + 5 // size field, vectors field and list header
	nullSetStart = 7 + 7         // Vector.size and Vector.vectorType fields
	listHeader   = 3 + 5         // field header and list header
)

// corruptBatch damages one non-empty batch as rule says. Batches it cannot
// read (or the end marker) pass unchanged.
func corruptBatch(rule FaultRule, b []byte) []byte {
	var c wire.Chunk
	if len(b) == 0 || wire.DecodeChunk(b, &c) != nil || c.Rows <= 0 || len(c.Vectors) == 0 {
		return b
	}
	if rule.Kind == FaultAbsurdRows {
		out := append([]byte(nil), b...)
		binary.BigEndian.PutUint32(out[3:], math.MaxInt32)
		return out
	}
	col := min(rule.Column, len(c.Vectors)-1)
	rows := c.Rows
	vecs := make([][]byte, len(c.Vectors))
	for i := range c.Vectors {
		v := c.Vectors[i]
		vr := rows
		if i == col {
			switch rule.Kind {
			case FaultWrongType:
				v = otherTypeVector(&v, int(rows))
			case FaultShortVector:
				vr = rows / 2
				v = shortVector(v, int(vr))
			}
		}
		enc, err := wire.AppendChunk(nil, &wire.Chunk{Rows: vr, Vectors: []wire.Vector{v}})
		if err != nil {
			return b
		}
		vb := enc[chunkHeader : len(enc)-1]
		if i == col && rule.Kind == FaultMissingNullSet {
			n := int(binary.BigEndian.Uint32(vb[nullSetStart+4:]))
			vb = append(append([]byte(nil), vb[:nullSetStart]...), vb[nullSetStart+listHeader+n:]...)
		}
		vecs[i] = vb
	}
	out := make([]byte, 0, len(b))
	out = append(out, 8, 0, 1)
	out = binary.BigEndian.AppendUint32(out, uint32(rows))
	out = append(out, 15, 0, 2, 12)
	out = binary.BigEndian.AppendUint32(out, uint32(len(vecs)))
	for _, vb := range vecs {
		out = append(out, vb...)
	}
	return append(out, 0)
}

// otherTypeVector is a well-formed vector of rows values whose type differs
// from v's: STRING, or LONG when v is a STRING.
func otherTypeVector(v *wire.Vector, rows int) wire.Vector {
	out := wire.Vector{Size: int32(rows), Nulls: make([]bool, rows)}
	if v.Type == wire.String {
		out.Type, out.Int64s = wire.Long, make([]int64, rows)
		return out
	}
	out.Type, out.Bytes = wire.String, make([][]byte, rows)
	for i := range out.Bytes {
		out.Bytes[i] = []byte("hostile")
	}
	return out
}

// shortVector cuts v to n rows (its size, nullSet and values).
func shortVector(v wire.Vector, n int) wire.Vector {
	v.Size = int32(n)
	if v.Constant {
		return v
	}
	v.Nulls = v.Nulls[:min(n, len(v.Nulls))]
	v.Bools = v.Bools[:min(n, len(v.Bools))]
	v.Int32s = v.Int32s[:min(n, len(v.Int32s))]
	v.Int64s = v.Int64s[:min(n, len(v.Int64s))]
	v.Float64s = v.Float64s[:min(n, len(v.Float64s))]
	v.Bytes = v.Bytes[:min(n, len(v.Bytes))]
	v.Decimals = v.Decimals[:min(n, len(v.Decimals))]
	if v.Zones != nil {
		v.Zones = v.Zones[:min(n, len(v.Zones))]
	}
	return v
}
