package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"
)

// Field describes one result column in the resultMetaData (docs/protocol.md §7).
type Field struct {
	Name   string
	Type   string // a VectorType name such as "LONG" or "DECIMAL128"
	Zone   string // may be empty
	Format string // may be empty
}

// Metadata is the decoded resultMetaData.
type Metadata struct {
	RowCount int64 // total rows of the result; -1 or 0 when unknown
	Fields   []Field
}

// maxUTF is the largest string a Java DataOutput "utf" can carry.
const maxUTF = math.MaxUint16

// metaFieldMin is the smallest encoding of one field: four empty strings.
const metaFieldMin = 4 * 2

// AppendMetadata appends the resultMetaData encoding of m to dst. Strings
// are written as standard UTF-8 (never Java's modified UTF-8); a string that
// is not valid UTF-8 or is longer than 65535 bytes is an error wrapping
// ErrInvalid, and dst is then returned unchanged.
func AppendMetadata(dst []byte, m *Metadata) ([]byte, error) {
	if m == nil {
		return dst, fmt.Errorf("%w: nil metadata", ErrInvalid)
	}
	if len(m.Fields) > math.MaxInt32 {
		return dst, fmt.Errorf("%w: %d fields", ErrInvalid, len(m.Fields))
	}
	need := 12
	for i := range m.Fields {
		f := &m.Fields[i]
		for _, s := range [...]struct{ name, v string }{{"name", f.Name}, {"type", f.Type}, {"zone", f.Zone}, {"format", f.Format}} {
			if len(s.v) > maxUTF {
				return dst, fmt.Errorf("%w: field %d %s is %d bytes, more than 65535", ErrInvalid, i, s.name, len(s.v))
			}
			if !utf8.ValidString(s.v) {
				return dst, fmt.Errorf("%w: field %d %s is not valid UTF-8", ErrInvalid, i, s.name)
			}
			need += 2 + len(s.v)
		}
	}
	if cap(dst)-len(dst) < need {
		dst = append(make([]byte, 0, len(dst)+need), dst...)
	}
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.RowCount))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(m.Fields)))
	for i := range m.Fields {
		f := &m.Fields[i]
		dst = appendUTF(dst, f.Name)
		dst = appendUTF(dst, f.Type)
		dst = appendUTF(dst, f.Zone)
		dst = appendUTF(dst, f.Format)
	}
	return dst, nil
}

func appendUTF(dst []byte, s string) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(s)))
	return append(dst, s...)
}

// DecodeMetadata decodes resultMetaData bytes. Strings must be standard
// UTF-8 (Java's modified UTF-8 forms such as C0 80 are rejected, as the
// Python client rejects them). Bytes after the last field are ignored.
// All the strings of the result share one allocation.
func DecodeMetadata(b []byte) (*Metadata, error) {
	if len(b) < 12 {
		return nil, &DecodeError{Offset: 0, What: "resultMetaData needs 12 bytes of row and field counts, have " + itoa(len(b)), Truncated: true}
	}
	rowCount := int64(binary.BigEndian.Uint64(b))
	count := int32(binary.BigEndian.Uint32(b[8:]))
	if count < 0 {
		return nil, &DecodeError{Offset: 8, What: "negative field count " + itoa(int(count))}
	}
	const start = 12
	if int(count) > (len(b)-start)/metaFieldMin {
		return nil, &DecodeError{Offset: 8, What: "field count " + itoa(int(count)) + " cannot fit in the remaining " + itoa(len(b)-start) + " bytes", Truncated: true}
	}
	// Pass 1: validate every length and the UTF-8, find the end.
	off := start
	for i := 0; i < 4*int(count); i++ {
		if len(b)-off < 2 {
			return nil, &DecodeError{Offset: off, What: "string length of field " + itoa(i/4) + " " + metaPart[i%4] + " cut off", Truncated: true}
		}
		n := int(binary.BigEndian.Uint16(b[off:]))
		off += 2
		if len(b)-off < n {
			return nil, &DecodeError{Offset: off, What: "field " + itoa(i/4) + " " + metaPart[i%4] + " declares " + itoa(n) + " bytes, " + itoa(len(b)-off) + " left", Truncated: true}
		}
		if !utf8.Valid(b[off : off+n]) {
			return nil, &DecodeError{Offset: off, What: "field " + itoa(i/4) + " " + metaPart[i%4] + " is not valid UTF-8"}
		}
		off += n
	}
	// Pass 2: one string for all the text, fields slice into it.
	all := string(b[start:off])
	m := &Metadata{RowCount: rowCount, Fields: make([]Field, count)}
	off = 0
	next := func() string {
		n := int(binary.BigEndian.Uint16(b[start+off:]))
		s := all[off+2 : off+2+n]
		off += 2 + n
		return s
	}
	for i := range m.Fields {
		f := &m.Fields[i]
		f.Name = next()
		f.Type = next()
		f.Zone = next()
		f.Format = next()
	}
	return m, nil
}

var metaPart = [4]string{"name", "type", "zone", "format"}
