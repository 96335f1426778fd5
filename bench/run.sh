#!/bin/sh
# Runs every benchmark behind bench/README.md, in about two minutes on a
# quiet 2-core machine (1 min 43 s for the figures of bench/README.md). Usage: bench/run.sh [profile-dir]
# The mutex and block profiles of BenchmarkConcurrency (1000 goroutines)
# are written to profile-dir (default: a new temporary directory) and
# summarised at the end.
set -eu
cd "$(dirname "$0")/.."
prof=${1:-$(mktemp -d)}
mkdir -p "$prof"
bench() { go test -run '^$' -benchmem "$@"; }

echo "== machine"
grep -m1 'model name' /proc/cpuinfo
echo "cores: $(nproc)"
go version
date -u

echo "== chunk decoding (internal/wire)"
bench -bench 'Chunk' -benchtime=1s ./internal/wire/ ./internal/wire/thriftref/
echo "== call path overhead (internal/rpc)"
bench -bench 'Invoke' -benchtime=1s -count=3 ./internal/rpc/
echo "== database/sql scan path, and the driver's Next alone"
bench -bench 'BenchmarkScan|BenchmarkNext' -benchtime=1s .
echo "== e6sim batch production (DuckDB -> Thrift chunks)"
bench -bench 'FetchNumbers' -benchtime=3x ./e6sim/internal/engine/
echo "== fetch paths against the floor (replay server, no SQL engine)"
bench -bench 'FetchFloor' -benchtime=500x -count=3 .
echo "== end to end against an e6sim process"
bench -bench 'EndToEnd10M' -benchtime=1x .
echo "== prefetch over a 5 ms link"
bench -bench 'Prefetch' -benchtime=3x .
echo "== concurrency (1 and 4 gRPC connections)"
bench -bench 'Concurrency' -benchtime=3000x -e6bench.profiles "$prof" .
# The contended sites at 1000 goroutines, each run alone (the profiles are
# cumulative; the -start ones are the base): the callers of Mutex.Unlock
# (mutex profile: delay caused to waiters) and of Mutex.Lock (block
# profile: time spent waiting).
for n in 1 4; do
	echo "== mutex profile at 1000 goroutines, $n gRPC connection(s): contended sites"
	go tool pprof -diff_base "$prof/mutex-grpc$n-start.pprof" -peek 'sync.\(\*Mutex\).Unlock$' "$prof/mutex-grpc$n.pprof" 2>/dev/null | sed -n '/calls%/,$p' | head -12
	echo "== block profile at 1000 goroutines, $n gRPC connection(s): sites waiting for a mutex"
	go tool pprof -diff_base "$prof/block-grpc$n-start.pprof" -peek 'sync.\(\*Mutex\).Lock$' "$prof/block-grpc$n.pprof" 2>/dev/null | sed -n '/calls%/,$p' | head -12
done
