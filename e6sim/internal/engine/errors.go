//go:build cgo

package engine

import (
	"context"
	"errors"

	"github.com/duckdb/duckdb-go/v2/mapping"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Causes with which a query's context is cancelled.
var (
	errQueryCancelled = errors.New("query cancelled")
	errQueryCleared   = errors.New("query cleared")
	errQueryReclaimed = errors.New("query reclaimed: idle for longer than the query idle timeout")
	errEngineReset    = errors.New("query dropped: the stack was reset")
	errEngineClosed   = errors.New("engine closed")
)

func accessDenied(reason string) error {
	return status.Error(codes.Internal, "Access denied: "+reason)
}

func errClosed() error {
	return status.Error(codes.Unavailable, "engine closed")
}

func errReset() error {
	return status.Error(codes.Unavailable, "stack reset during the call")
}

// cancelStatus is the status of a call that met a cancelled query.
func cancelStatus(cause error) error {
	if cause == nil {
		cause = errQueryCancelled
	}
	return status.Error(codes.Canceled, cause.Error())
}

// sqlStatus turns an error from DuckDB into a gRPC status carrying DuckDB's
// message.
func sqlStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	if errors.Is(err, ErrDBClosed) {
		return status.Error(codes.Unavailable, err.Error())
	}
	if errors.Is(err, context.Canceled) {
		return status.Error(codes.Canceled, err.Error())
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	var de *duckError
	if !errors.As(err, &de) {
		return status.Error(codes.Unknown, err.Error())
	}
	switch de.typ {
	case mapping.ErrorTypeInterrupt:
		return status.Error(codes.Canceled, de.msg)
	case mapping.ErrorTypeOutOfMemory:
		return status.Error(codes.ResourceExhausted, de.msg)
	case mapping.ErrorTypeFatal, mapping.ErrorTypeInternal:
		// Not INTERNAL: clients treat INTERNAL as a session problem.
		return status.Error(codes.Unknown, de.msg)
	default:
		return status.Error(codes.InvalidArgument, de.msg)
	}
}
