package rpc

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Kind is what a failed call means to the connector.
type Kind uint8

// The kinds of failure the connector distinguishes.
const (
	KindNone               Kind = iota // no error
	KindWrongStrategy                  // 456: the request's strategy is not live
	KindClusterUnavailable             // 503: cluster suspended or not ready
	KindAccessDenied                   // session invalid or expired ("Access denied")
	KindUnauthenticated                // bad credentials
	KindCanceled                       // the caller's context was cancelled, or the server cancelled the query
	KindDeadline                       // a deadline expired
	KindTransient                      // UNAVAILABLE without a 503: connection trouble
	KindNotFound                       // unknown query or object
	KindInvalid                        // the server rejected the request (bad SQL, bad argument)
	KindResourceExhausted              // limits (message size, open queries)
	KindUnimplemented                  // the server does not offer the RPC
	KindOther                          // anything else
	KindTLS                            // TLS handshake refused (certificate, version): permanent
	KindTooLarge                       // a message over this side's size limit (send or receive)
	KindClusterNotFound                // the cluster named in the cluster-name header does not exist
	KindUnknownHost                    // the host name does not resolve
)

var kindNames = [...]string{
	KindNone:               "none",
	KindWrongStrategy:      "wrong_strategy",
	KindClusterUnavailable: "cluster_unavailable",
	KindAccessDenied:       "access_denied",
	KindUnauthenticated:    "unauthenticated",
	KindCanceled:           "canceled",
	KindDeadline:           "deadline",
	KindTransient:          "transient",
	KindNotFound:           "not_found",
	KindInvalid:            "invalid",
	KindResourceExhausted:  "resource_exhausted",
	KindUnimplemented:      "unimplemented",
	KindOther:              "other",
	KindTLS:                "tls",
	KindTooLarge:           "too_large",
	KindClusterNotFound:    "cluster_not_found",
	KindUnknownHost:        "unknown_host",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Classify tells what err means. It recognises every form of the e6data
// signals listed in docs/protocol.md §3, whatever gRPC code carries them: a
// message naming "status: 456" in any letter case, grpc-go's report of an
// HTTP 456 response ("unexpected HTTP status code received from server: 456"),
// the same two forms for 503, and "Access denied" in any case.
func Classify(err error) Kind {
	if err == nil {
		return KindNone
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	if errors.Is(err, context.Canceled) {
		return KindCanceled
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return KindDeadline
	}
	st, ok := status.FromError(err)
	if !ok {
		return KindOther
	}
	return classifyStatus(st.Code(), st.Message())
}

func classifyStatus(code codes.Code, msg string) Kind {
	switch {
	case code == codes.OK:
		return KindNone
	case code == codes.Unavailable && isTLSFailure(msg):
		return KindTLS
	case code == codes.Unavailable && strings.Contains(msg, "no such host"):
		return KindUnknownHost
	case code == codes.ResourceExhausted && (strings.Contains(msg, "trying to send message larger than max") ||
		strings.Contains(msg, "received message larger than max")):
		return KindTooLarge
	case code == codes.NotFound && strings.HasPrefix(msg, "cluster ") && strings.HasSuffix(msg, " not found"):
		return KindClusterNotFound
	case mentionsHTTPStatus(msg, "456"):
		return KindWrongStrategy
	case mentionsHTTPStatus(msg, "503"):
		return KindClusterUnavailable
	case containsFold(msg, "access denied"):
		return KindAccessDenied
	}
	switch code {
	case codes.Unauthenticated, codes.PermissionDenied:
		return KindUnauthenticated
	case codes.Canceled:
		return KindCanceled
	case codes.DeadlineExceeded:
		return KindDeadline
	case codes.Unavailable:
		return KindTransient
	case codes.NotFound:
		return KindNotFound
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange, codes.AlreadyExists:
		return KindInvalid
	case codes.ResourceExhausted:
		return KindResourceExhausted
	case codes.Unimplemented:
		return KindUnimplemented
	}
	return KindOther
}

// mentionsHTTPStatus reports whether msg contains the word "status" followed,
// within a short stretch of letters, spaces and colons, by the number num
// standing alone. It matches "status: 456", "Status:456", "Received http2
// header with status: 456" and "unexpected HTTP status code received from
// server: 456 (...)", but not "status: 4567", "status: 200 ... 456 bytes",
// nor SQL that a server echoes in an error message: "http_status = 503",
// "WHERE status = 503", "'status: 503'".
func mentionsHTTPStatus(msg, num string) bool {
	const maxGap = 40
	for i := 0; ; {
		j := indexFold(msg[i:], "status")
		if j < 0 {
			return false
		}
		start := i + j
		k := start + len("status")
		i = k
		if start > 0 && !standsAlone(msg[start-1]) {
			continue // part of a longer word, or quoted
		}
		gap := 0
		for k < len(msg) && gap <= maxGap && isGapByte(msg[k]) {
			k++
			gap++
		}
		if gap <= maxGap && strings.HasPrefix(msg[k:], num) {
			end := k + len(num)
			if end == len(msg) || !isDigit(msg[end]) {
				return true
			}
		}
	}
}

// standsAlone reports whether c may precede the word "status" of a signal.
func standsAlone(c byte) bool {
	return !(isDigit(c) || c == '_' || c == '\'' || c == '"' || c == '`' ||
		'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z')
}

// isGapByte reports whether c may stand between "status" and its number.
func isGapByte(c byte) bool {
	return c == ' ' || c == ':' || c == '\t' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// isTLSFailure reports whether a connection failure is a TLS problem
// that retrying cannot fix: this side did not trust the server's
// certificate (grpc-go reports "authentication handshake failed: tls:
// failed to verify certificate: x509: ..."), the server refused ours (an
// alert: "remote error: tls: bad certificate", "certificate required",
// "unknown certificate authority", ..., or any alert ending grpc-go's
// "authentication handshake failed"), the two sides share no protocol
// version, or the server does not speak TLS at all.
func isTLSFailure(msg string) bool {
	switch {
	case strings.Contains(msg, "x509: "), strings.Contains(msg, "tls: failed to verify"),
		strings.Contains(msg, "tls: first record does not look like a TLS handshake"),
		strings.Contains(msg, "tls: server selected unsupported protocol version"),
		strings.Contains(msg, "remote error: tls: protocol version not supported"):
		return true
	case strings.Contains(msg, "remote error: tls: "):
		// Any alert that ends the handshake (under TLS 1.2 a refused client
		// certificate is "handshake failure"); after it, only certificate
		// alerts are final.
		return strings.Contains(msg, "certificate") || strings.Contains(msg, "authentication handshake failed") ||
			strings.Contains(msg, "remote error: tls: handshake failure")
	}
	return false
}

func containsFold(s, sub string) bool { return indexFold(s, sub) >= 0 }

// indexFold is strings.Index ignoring ASCII letter case; sub must be lower case.
func indexFold(s, sub string) int {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		match := true
		for j := 0; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}
