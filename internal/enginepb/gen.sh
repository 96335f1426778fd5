#!/bin/sh
# Regenerates engine.pb.go, engine_grpc.pb.go, cluster.pb.go and
# cluster_grpc.pb.go. Needs protoc (Debian: apt-get install protobuf-compiler);
# the two plugins are the versions pinned as `tool`s in internal/tools/go.mod.
set -eu
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
go build -o "$bin/protoc-gen-go-grpc" google.golang.org/grpc/cmd/protoc-gen-go-grpc
protoc --proto_path=. \
  --plugin=protoc-gen-go="$bin/protoc-gen-go" --plugin=protoc-gen-go-grpc="$bin/protoc-gen-go-grpc" \
  --go_out=. --go_opt=paths=source_relative \
  --go-grpc_out=. --go-grpc_opt=paths=source_relative \
  engine.proto cluster.proto
