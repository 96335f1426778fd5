package rpc

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want Kind
	}{
		{"nil", nil, KindNone},
		{"grpc-go HTTP 456", status.Error(codes.Unknown, "unexpected HTTP status code received from server: 456 (); transport: received unexpected content-type \"text/plain\""), KindWrongStrategy},
		{"python form", status.Error(codes.Unknown, "Received http2 header with status: 456"), KindWrongStrategy},
		{"status 456 any code", status.Error(codes.InvalidArgument, "Status: 456 wrong strategy"), KindWrongStrategy},
		{"upper case", status.Error(codes.Internal, "STATUS:456"), KindWrongStrategy},
		{"grpc-go HTTP 503", status.Error(codes.Unavailable, "unexpected HTTP status code received from server: 503 (Service Unavailable)"), KindClusterUnavailable},
		{"status 503 unknown code", status.Error(codes.Unknown, "status: 503 cluster suspended"), KindClusterUnavailable},
		{"not 4567", status.Error(codes.Unknown, "status: 4567"), KindOther},
		{"456 far from status", status.Error(codes.Unknown, "status ok but the plan has more than forty characters before 456"), KindOther},
		{"456 after another number", status.Error(codes.Unknown, "status: 200, wrote 456 bytes"), KindOther},
		{"access denied", status.Error(codes.Internal, "Access denied: session expired"), KindAccessDenied},
		{"access denied lower", status.Error(codes.Unknown, "java.lang.Exception: access DENIED"), KindAccessDenied},
		{"unauthenticated", status.Error(codes.Unauthenticated, "bad token"), KindUnauthenticated},
		{"plain unavailable", status.Error(codes.Unavailable, "connection refused"), KindTransient},
		{"tls unknown authority", status.Error(codes.Unavailable, `connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"`), KindTLS},
		{"tls expired", status.Error(codes.Unavailable, "x509: certificate has expired or is not yet valid"), KindTLS},
		{"tls client cert required", status.Error(codes.Unavailable, `connection error: desc = "error reading server preface: remote error: tls: certificate required"`), KindTLS},
		{"tls access denied alert is not a session", status.Error(codes.Unavailable, "remote error: tls: bad certificate; access denied"), KindTLS},
		{"tls version", status.Error(codes.Unavailable, "authentication handshake failed: tls: server selected unsupported protocol version 302"), KindTLS},
		{"tls plaintext server", status.Error(codes.Unavailable, "tls: first record does not look like a TLS handshake"), KindTLS},
		{"tls handshake failure alert (TLS 1.2 client certificate refused)", status.Error(codes.Unavailable, `connection error: desc = "transport: authentication handshake failed: remote error: tls: handshake failure"`), KindTLS},
		{"tls other alert is transient", status.Error(codes.Unavailable, "remote error: tls: internal error"), KindTransient},
		{"handshake EOF is transient", status.Error(codes.Unavailable, "transport: authentication handshake failed: EOF"), KindTransient},
		{"x509 on another code is not a connection failure", status.Error(codes.Internal, "x509: in a query message"), KindOther},
		{"not found", status.Error(codes.NotFound, "unknown query"), KindNotFound},
		{"invalid", status.Error(codes.InvalidArgument, "Parser Error: syntax error"), KindInvalid},
		{"exhausted", status.Error(codes.ResourceExhausted, "too big"), KindResourceExhausted},
		{"unimplemented", status.Error(codes.Unimplemented, "nope"), KindUnimplemented},
		{"canceled status", status.Error(codes.Canceled, "query cancelled"), KindCanceled},
		{"context canceled", fmt.Errorf("x: %w", context.Canceled), KindCanceled},
		{"deadline", context.DeadlineExceeded, KindDeadline},
		{"plain error", errors.New("boom"), KindOther},
		{"wrapped rpc error", fmt.Errorf("outer: %w", &Error{Kind: KindAccessDenied}), KindAccessDenied},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Classify(c.err); got != c.want {
				t.Fatalf("Classify(%v) = %v, want %v", c.err, got, c.want)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	if KindWrongStrategy.String() != "wrong_strategy" || Kind(200).String() != "unknown" {
		t.Fatal("kind names")
	}
}

func TestNormalizeStrategy(t *testing.T) {
	for in, want := range map[string]string{"blue": "blue", " Green ": "green", "BLUE": "blue", "red": "", "": ""} {
		if got := NormalizeStrategy(in); got != want {
			t.Errorf("NormalizeStrategy(%q) = %q, want %q", in, got, want)
		}
	}
	if Other("blue") != "green" || Other("green") != "blue" || Other("") != "blue" {
		t.Fatal("Other")
	}
}

func FuzzMentionsHTTPStatus(f *testing.F) {
	f.Add("status: 456")
	f.Add("unexpected HTTP status code received from server: 503 (Service Unavailable)")
	f.Add("sTaTuS")
	f.Fuzz(func(t *testing.T, msg string) {
		_ = mentionsHTTPStatus(msg, "456")
		_ = classifyStatus(codes.Unknown, msg)
	})
}

// The failures that are neither the server's verdict on a statement nor
// a transport blip get kinds of their own.
func TestClassifyLimitsClustersHosts(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want Kind
	}{
		{status.Error(codes.ResourceExhausted, "grpc: trying to send message larger than max (2097200 vs. 1048576)"), KindTooLarge},
		{status.Error(codes.ResourceExhausted, "grpc: received message larger than max (5000000 vs. 4194304)"), KindTooLarge},
		{status.Error(codes.ResourceExhausted, "too many open queries"), KindResourceExhausted},
		{status.Error(codes.NotFound, `cluster "staging" not found`), KindClusterNotFound},
		{status.Error(codes.NotFound, "query q-1 not found"), KindNotFound},
		{status.Error(codes.Unavailable, "dns: lookup nosuchhost.invalid on 10.0.0.53:53: no such host"), KindUnknownHost},
		{status.Error(codes.Unavailable, "connection refused"), KindTransient},
	} {
		if got := Classify(tc.err); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.err, got, tc.want)
		}
	}
}
