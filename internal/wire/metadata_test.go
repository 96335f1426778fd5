package wire_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/e6go/e6data/internal/wire"
)

func TestMetadataRoundTrip(t *testing.T) {
	cases := []wire.Metadata{
		{RowCount: -1, Fields: []wire.Field{}},
		{RowCount: 1 << 40, Fields: []wire.Field{{Name: "a", Type: "LONG"}}},
		{RowCount: 3, Fields: []wire.Field{{Name: strings.Repeat("é", 32767), Type: "STRING", Zone: "Europe/Paris", Format: "%s"}}},
		{RowCount: 0, Fields: []wire.Field{{Name: strings.Repeat("x", 65535)}, {Name: "\x00"}}},
	}
	for i, m := range cases {
		b, err := wire.AppendMetadata([]byte("prefix"), &m)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if string(b[:6]) != "prefix" {
			t.Fatalf("%d: dst prefix lost", i)
		}
		got, err := wire.DecodeMetadata(append(b[6:], "trailing bytes are ignored"...))
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if !reflect.DeepEqual(got, &m) {
			t.Fatalf("%d: round trip gave %+v", i, got)
		}
	}
}

func TestAppendMetadataRejects(t *testing.T) {
	cases := []struct {
		name string
		m    *wire.Metadata
		what string
	}{
		{"nil", nil, "nil metadata"},
		{"long name", &wire.Metadata{Fields: []wire.Field{{Name: strings.Repeat("x", 65536)}}}, "field 0 name is 65536 bytes"},
		{"long format", &wire.Metadata{Fields: []wire.Field{{}, {Format: strings.Repeat("é", 32768)}}}, "field 1 format"},
		{"invalid UTF-8 type", &wire.Metadata{Fields: []wire.Field{{Type: "LO\xffNG"}}}, "field 0 type is not valid UTF-8"},
		{"surrogate in zone", &wire.Metadata{Fields: []wire.Field{{Zone: "\xed\xa0\x80"}}}, "zone is not valid UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := wire.AppendMetadata([]byte("keep"), c.m)
			if err == nil || !strings.Contains(err.Error(), c.what) || !errorsIs(err, wire.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid saying %q", err, c.what)
			}
			if string(out) != "keep" {
				t.Fatalf("dst changed to %q", out)
			}
		})
	}
}

func TestDecodeMetadataRejects(t *testing.T) {
	head := func(fields int32) tw { return tw{}.i64(5).i32(fields) }
	cases := []struct {
		name      string
		in        []byte
		truncated bool
		what      string
	}{
		{"empty", nil, true, "needs 12 bytes"},
		{"short header", head(0)[:11], true, "needs 12 bytes"},
		{"negative count", head(-1), false, "negative field count"},
		{"count beyond input", head(1 << 30).raw(make(tw, 16)), true, "cannot fit"},
		{"cut length", head(1).raw(tw{0, 3, 'a', 'b', 'c', 0, 0, 0, 0, 0}), true, "string length of field 0 format"},
		{"cut string", head(1).raw(tw{0, 20, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'}), true, "field 0 name declares 20 bytes, 8 left"},
		{"modified UTF-8 NUL", head(1).raw(tw{0, 2, 0xc0, 0x80, 0, 0, 0, 0, 0, 0}), false, "field 0 name is not valid UTF-8"},
		{"CESU surrogate pair", head(1).raw(tw{0, 0, 0, 6, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80, 0, 0, 0, 0}), false, "field 0 type is not valid UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := wire.DecodeMetadata(c.in)
			if m != nil {
				t.Fatalf("got metadata %+v with the error", m)
			}
			checkDecodeError(t, err, c.truncated, c.what)
		})
	}
}

func TestDecodeMetadataEveryPrefixFails(t *testing.T) {
	for _, g := range goldenMetadata {
		b, err := wire.AppendMetadata(nil, &g.m)
		if err != nil {
			t.Fatal(err)
		}
		for i := range len(b) {
			if _, err := wire.DecodeMetadata(b[:i]); err == nil {
				t.Fatalf("%s cut to %d of %d bytes decoded", g.name, i, len(b))
			}
		}
	}
}
