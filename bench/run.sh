#!/bin/sh
# Runs every benchmark behind bench/README.md, in about four minutes on a
# 2-core machine. Usage: bench/run.sh [profile-dir]
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
bench -bench 'Chunk' -benchtime=1s ./internal/wire/
echo "== call path overhead (internal/rpc)"
bench -bench 'Invoke' -benchtime=1s -count=3 ./internal/rpc/
echo "== database/sql scan path, and the driver's Next alone"
bench -bench 'BenchmarkScan|BenchmarkNext' -benchtime=1s .
echo "== e6sim batch production (DuckDB -> Thrift chunks)"
bench -bench 'FetchNumbers' -benchtime=3x ./e6sim/internal/engine/
echo "== end to end against an e6sim process"
bench -bench 'EndToEnd10M' -benchtime=1x .
echo "== prefetch over a 5 ms link"
bench -bench 'Prefetch' -benchtime=3x .
echo "== concurrency"
bench -bench 'Concurrency' -benchtime=3000x -e6bench.profiles "$prof" .
# The contended sites: the callers of Mutex.Unlock (mutex profile: delay
# caused to waiters) and of Mutex.Lock (block profile: time spent waiting).
echo "== mutex profile at 1000 goroutines: contended sites"
go tool pprof -peek 'sync.\(\*Mutex\).Unlock$' "$prof/mutex.pprof" 2>/dev/null | sed -n '/calls%/,$p' | head -12
echo "== block profile at 1000 goroutines: sites waiting for a mutex"
go tool pprof -peek 'sync.\(\*Mutex\).Lock$' "$prof/block.pprof" 2>/dev/null | sed -n '/calls%/,$p' | head -12
