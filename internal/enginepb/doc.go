// Package enginepb holds this project's own protobuf definitions of e6data's
// QueryEngineService and ClusterService (written from docs/protocol.md) and
// the Go code generated from them. Run `go generate ./internal/enginepb` to
// reproduce the generated files; they are committed.
package enginepb

//go:generate sh gen.sh
