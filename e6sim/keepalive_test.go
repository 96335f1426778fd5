package e6sim

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Clients ping every 30 s even with no call in flight (docs/protocol.md §1).
// grpc-go's own server transport would answer a third ping without data
// within five minutes with GOAWAY "too_many_pings"; the simulator serves
// gRPC through net/http's HTTP/2 server, which acknowledges every PING and
// has no ping policy. This test proves it at the frame level with far more
// (and far faster) pings than any client sends, then makes a gRPC call on
// the same connection. (A grpc-go client cannot ping faster than every 10 s,
// too slow for a unit test.)
func TestKeepalivePingsWithoutCallsAreWelcome(t *testing.T) {
	s := start(t, Config{})
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(conn, conn)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	must(t, fr.WriteSettings())

	// next returns the next frame that matters, failing on GOAWAY.
	next := func() http2.Frame {
		t.Helper()
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				t.Fatalf("read frame: %v", err)
			}
			switch f := f.(type) {
			case *http2.GoAwayFrame:
				t.Fatalf("server sent GOAWAY %v %q", f.ErrCode, f.DebugData())
			case *http2.SettingsFrame:
				if !f.IsAck() {
					must(t, fr.WriteSettingsAck())
				}
				continue
			case *http2.WindowUpdateFrame:
				continue
			}
			return f
		}
	}

	const pings = 100
	for i := range pings {
		var data [8]byte
		binary.BigEndian.PutUint64(data[:], uint64(i))
		must(t, fr.WritePing(false, data))
		f, ok := next().(*http2.PingFrame)
		if !ok || !f.IsAck() || f.Data != data {
			t.Fatalf("ping %d: got %v", i, f)
		}
	}

	// The connection still serves gRPC: healthCheck on stream 1.
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, h := range [][2]string{
		{":method", "POST"}, {":scheme", "http"}, {":path", "/QueryEngineService/healthCheck"},
		{":authority", s.Addr()}, {"content-type", "application/grpc"}, {"te", "trailers"},
	} {
		must(t, enc.WriteField(hpack.HeaderField{Name: h[0], Value: h[1]}))
	}
	must(t, fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndHeaders: true}))
	must(t, fr.WriteData(1, true, []byte{0, 0, 0, 0, 0})) // empty HealthCheckRequest
	grpcStatus := ""
	for grpcStatus == "" {
		switch f := next().(type) {
		case *http2.MetaHeadersFrame:
			if v := f.PseudoValue("status"); v != "" && v != "200" {
				t.Fatalf(":status %s", v)
			}
			for _, h := range f.RegularFields() {
				if h.Name == "grpc-status" {
					grpcStatus = h.Value
				}
			}
		case *http2.DataFrame, *http2.PingFrame:
		default:
			t.Fatalf("unexpected frame %v", f)
		}
	}
	if grpcStatus != "0" {
		t.Fatalf("grpc-status %s", grpcStatus)
	}
}
