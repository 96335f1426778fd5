package e6data

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"

	"github.com/e6go/e6data/internal/rpc"
)

// Sentinel errors, for errors.Is. Every error the connector returns wraps
// one of them where one applies, and unwraps to its cause.
var (
	// ErrConfig: a setting is invalid (every *ConfigError matches it).
	ErrConfig = errors.New("e6data: invalid configuration")
	// ErrAuth: the cluster rejected the user or token.
	ErrAuth = errors.New("e6data: authentication failed")
	// ErrStrategyMismatch: a call reached a stack that is not live (HTTP 456)
	// and could not be recovered.
	ErrStrategyMismatch = errors.New("e6data: request sent to a stack that is not live (456)")
	// ErrClusterUnavailable: the cluster is suspended or not ready (HTTP 503)
	// and could not be resumed in time.
	ErrClusterUnavailable = errors.New("e6data: cluster unavailable")
	// ErrSessionExpired: the server no longer knows the session ("Access
	// denied") and re-authentication did not help.
	ErrSessionExpired = errors.New("e6data: session invalid or expired")
	// ErrQueryInterrupted: a deployment or failure ended a query after it had
	// delivered rows; re-running it would duplicate them, so it is not re-run.
	ErrQueryInterrupted = errors.New("e6data: query interrupted")
	// ErrQueryCancelled: the query was cancelled (by the caller's context or
	// by a cancel on the server).
	ErrQueryCancelled = errors.New("e6data: query cancelled")
	// ErrQueryFailed: the server rejected or failed the statement (bad SQL,
	// unknown table, runtime error).
	ErrQueryFailed = errors.New("e6data: query failed")
	// ErrProtocol: the server sent something the connector cannot read.
	ErrProtocol = errors.New("e6data: malformed server response")
	// ErrRetriesExhausted: a recoverable failure kept happening until the
	// attempts allowed by MaxRetryAttempts were used up.
	ErrRetriesExhausted = errors.New("e6data: retries exhausted")
	// ErrTLS: the TLS handshake failed in a way retrying cannot fix: the
	// server's certificate was not trusted (unknown authority, expired,
	// issued for another name), the server refused the client's (mutual
	// TLS), there is no common protocol version (TLS 1.2 is the minimum),
	// or the server does not speak TLS. It is not retried.
	ErrTLS = errors.New("e6data: TLS handshake failed")
	// ErrTimeout: a bound the configuration sets ran out, not the caller's
	// context: connection-timeout (waiting for a free connection and
	// opening a session) or prepare-timeout. The message names the setting
	// and the address.
	ErrTimeout = errors.New("e6data: timed out")
	// ErrMessageTooLarge: a request or a response was over this side's
	// message size limit (max-send-msg-length, max-receive-msg-length).
	ErrMessageTooLarge = errors.New("e6data: message too large")
	// ErrClusterNotFound: the server has no cluster of the name sent
	// (cluster-name, E6DATA_CLUSTER_UUID).
	ErrClusterNotFound = errors.New("e6data: cluster not found")
	// ErrUnknownHost: the host name does not resolve (host, E6DATA_HOST).
	ErrUnknownHost = errors.New("e6data: unknown host")
	// ErrConnClosed: the connection or connector was closed.
	ErrConnClosed = errors.New("e6data: connection closed")
	// ErrOutcomeUnknown: a statement that writes was sent for execution and
	// the connector cannot tell whether it ran (the connection was reset,
	// the engine's stack went away, the answer was lost). It is never sent
	// again by the connector, and SafeToRetry is false for it: check
	// whether the write took effect, or make the write idempotent, before
	// running it again. It may come with another sentinel (ErrQueryCancelled
	// when the caller's context ended after the execute was sent).
	ErrOutcomeUnknown = errors.New("e6data: outcome unknown: the statement may or may not have run")
	// ErrNoLiveStrategy: strategy detection found no live stack (blue or
	// green) within the strategy detection timeout.
	ErrNoLiveStrategy = errors.New("e6data: no live strategy found")
)

// Error is the detailed form of a failed operation, for errors.As. It
// matches its sentinel with errors.Is and unwraps to the underlying cause
// (a gRPC status error, a context error, a decode error).
type Error struct {
	Op        string     // what the connector was doing ("prepare", "fetch", ...)
	Code      codes.Code // gRPC status code of the server's answer, when there was one
	QueryID   string     // the query, when one was involved
	Strategy  string     // the stack the failing call went to
	Message   string     // the server's message
	Retryable bool       // whether running the same work again may succeed
	Rows      int64      // rows already delivered to the application (interrupted queries)
	Attempts  int        // attempts made, when retries were involved

	sentinel error
	cause    error
	unknown  bool // a write was sent and may or may not have run: matches ErrOutcomeUnknown too
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("e6data: ")
	b.WriteString(e.Op)
	if e.sentinel != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.sentinel.Error(), "e6data: "))
	}
	if e.QueryID != "" {
		fmt.Fprintf(&b, " (query %s)", e.QueryID)
	}
	if errors.Is(e.sentinel, ErrQueryInterrupted) {
		fmt.Fprintf(&b, " after %d rows", e.Rows)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	if e.unknown && !errors.Is(e.sentinel, ErrOutcomeUnknown) {
		b.WriteString(" (outcome unknown: the statement may or may not have run)")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	} else if e.cause != nil && e.sentinel == nil {
		b.WriteString(": ")
		b.WriteString(e.cause.Error())
	}
	return b.String()
}

// Unwrap returns the sentinel and the cause, so errors.Is matches both.
func (e *Error) Unwrap() []error {
	out := make([]error, 0, 3)
	if e.sentinel != nil {
		out = append(out, e.sentinel)
	}
	if e.unknown {
		out = append(out, ErrOutcomeUnknown)
	}
	if e.cause != nil {
		out = append(out, e.cause)
	}
	return out
}

// SafeToRetry reports whether err is a failure after which the application
// may run the same work again without risking a duplicate effect. It is
// exact: true only when the connector knows the statement did not run (the
// gateway refused it before routing, or it failed before execute), or the
// statement only reads (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN, VALUES,
// TABLE), and the failure is one that running again may cure. It is false
// for ErrOutcomeUnknown, for a cancelled call, for a statement the server
// rejected, and for every error that is not the connector's.
func SafeToRetry(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable && !errors.Is(err, ErrOutcomeUnknown)
}

// newError turns a failed call into an *Error with the right sentinel.
func newError(op, queryID string, err error) *Error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return already
	}
	e := &Error{Op: op, QueryID: queryID, cause: err}
	var re *rpc.Error
	if errors.As(err, &re) {
		e.Code, e.Message, e.Strategy = re.Code, re.Message, re.Strategy
	}
	switch rpc.Classify(err) {
	case rpc.KindWrongStrategy:
		e.sentinel, e.Retryable = ErrStrategyMismatch, true
	case rpc.KindClusterUnavailable:
		e.sentinel, e.Retryable = ErrClusterUnavailable, true
	case rpc.KindAccessDenied:
		e.sentinel, e.Retryable = ErrSessionExpired, true
	case rpc.KindUnauthenticated:
		e.sentinel = ErrAuth
	case rpc.KindCanceled, rpc.KindDeadline:
		e.sentinel = ErrQueryCancelled
		if re == nil {
			e.Message = err.Error()
		}
	case rpc.KindTransient:
		e.Retryable = true
	case rpc.KindTLS:
		e.sentinel = ErrTLS
		if e.Message == "" {
			e.Message = err.Error()
		}
	case rpc.KindTooLarge:
		e.sentinel = ErrMessageTooLarge
		e.Message = tooLargeMessage(e.Message)
	case rpc.KindClusterNotFound:
		e.sentinel = ErrClusterNotFound
		e.Message += " (set by cluster-name / E6DATA_CLUSTER_UUID)"
	case rpc.KindUnknownHost:
		e.sentinel = ErrUnknownHost
		if host := unknownHost(e.Message); host != "" {
			e.Message = fmt.Sprintf("host %q does not resolve (set by host / E6DATA_HOST)", host)
		}
	case rpc.KindInvalid, rpc.KindNotFound, rpc.KindResourceExhausted, rpc.KindUnimplemented, rpc.KindOther:
		if re != nil {
			e.sentinel = ErrQueryFailed
		}
	}
	return e
}

// tooLargeMessage says which limit a message broke and where it is set.
func tooLargeMessage(msg string) string {
	switch {
	case strings.Contains(msg, "trying to send"):
		return "the request is over the send limit: " + msg + " (raise max-send-msg-length / E6DATA_MAX_SEND_MSG_LENGTH)"
	case strings.Contains(msg, "received message"):
		return "a response is over the receive limit: " + msg + " (raise max-receive-msg-length / E6DATA_MAX_RECEIVE_MSG_LENGTH)"
	}
	return msg
}

// unknownHost finds the name in a resolver's "lookup NAME ...: no such
// host" report.
func unknownHost(msg string) string {
	i := strings.LastIndex(msg, "lookup ")
	if i < 0 {
		return ""
	}
	rest := msg[i+len("lookup "):]
	end := strings.IndexAny(rest, " :")
	if end <= 0 {
		return ""
	}
	return rest[:end]
}

// transportReason is what the transport last said about err, without the
// call's own deadline wording: "" when nothing more than a deadline.
func transportReason(err error) string {
	var re *rpc.Error
	if !errors.As(err, &re) || re.Message == "" {
		return ""
	}
	m := re.Message
	if strings.Contains(m, "context deadline exceeded") || strings.Contains(m, "context canceled") {
		return ""
	}
	return m
}
