#!/usr/bin/env bash
# consumer-check: what an application that depends on the driver alone sees.
#
# Publishes the driver module (github.com/e6go/e6data, the repository root
# without its nested modules) and the simulator module as they are in this
# checkout into a file:// module proxy, then, with an EMPTY module cache and
# outside the workspace, creates an application that imports only the
# driver, runs `go get` and `go mod tidy` through that proxy chained before
# the host's module cache and the public proxy, builds it with
# CGO_ENABLED=0 and checks that
#   - its go.sum names no DuckDB module (nor Prometheus, pty, the OTel SDK),
#     after `go get` and after `go mod tidy`,
#   - the module cache it filled stays under 150 MB after `go get` and the
#     build (under 200 MB after `go mod tidy`: see tidy_limit_mb),
#   - the binary opens a connection (Ping and a query) to an e6sim started here.
# `go mod tidy` makes go.sum sufficient for `go test all`: it also resolves
# what the tests of the driver's packages import. None of them imports e6sim
# (the driver's integration tests are the module internal/e2e), so tidy
# stays as small as `go get`. The simulator module is published all the
# same, as a release would publish it.
#
# Usage: scripts/consumer-check.sh   (from anywhere; needs cgo for e6sim)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$PATH:/usr/local/go/bin"
limit_mb=150
# After `go mod tidy` the cache also holds what the TESTS of every package
# the application builds import (tidy makes go.sum sufficient for
# `go test all`). Measured here: about 193 MB, of which 135 MB is what the
# build needs (as after `go get`), gonum 19 MB (imported by grpc's own
# balancer tests: any grpc application pays it) and Apache Thrift 24 MB
# (imported by the tests of the driver's internal/wire, the reference
# decoder). 150 MB is out of reach while grpc's tests import gonum; the
# limit below catches anything heavier coming back (DuckDB alone is 1 GB).
tidy_limit_mb=${CONSUMER_CHECK_TIDY_LIMIT_MB:-200}
version=v0.0.0-consumercheck

work=$(mktemp -d)
sim_pid=""
cleanup() {
	if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
	chmod -R u+w "$work" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# 1. e6sim, built in the workspace with the contributor's usual caches, started
#    on free ports while the application is resolved (it needs cgo).
(cd "$repo" && go build -o "$work/e6sim" ./cmd/e6sim)
"$work/e6sim" -addr 127.0.0.1:0 -admin "" >"$work/e6sim.out" 2>"$work/e6sim.err" &
sim_pid=$!

# 2. The driver and the simulator as a module proxy would serve them after a
#    release: for each, the tracked files of its directory minus those of
#    nested modules, and its go.mod with the sibling requirement set to the
#    released version (in the repository it is a placeholder that the
#    workspace and `replace` resolve; a release sets it with `go mod edit`).
proxy="$work/proxy"
placeholder=v0.0.0-00010101000000-000000000000
files=$(cd "$repo" && git ls-files --cached --others --exclude-standard)
nested=$(printf '%s\n' "$files" | sed -n 's,^\(.*\)/go\.mod$,\1,p')
publish() { # publish DIR MODULE-PATH
	local dir=$1 path=$2 f n skip
	local at="$path@$version" vdir="$proxy/$path/@v"
	mkdir -p "$vdir" "$work/zip/$at"
	printf '%s\n' "$files" | while IFS= read -r f; do
		[ -f "$repo/$f" ] || continue
		if [ "$dir" != . ]; then case "$f" in "$dir"/*) f=${f#"$dir"/} ;; *) continue ;; esac; fi
		skip=""
		for n in $nested; do
			[ "$dir" = . ] || n=${n#"$dir"/}
			case "$f" in "$n"/*) skip=1 ;; esac
		done
		case "$f" in go.work | go.work.sum) skip=1 ;; esac
		[ -z "$skip" ] || continue
		mkdir -p "$work/zip/$at/$(dirname "$f")"
		cp "$repo/$dir/$f" "$work/zip/$at/$f"
	done
	sed "s,^\(\s*\(require \)\?github\.com/e6go/e6data[a-z0-9/]*\) $placeholder,\1 $version," "$repo/$dir/go.mod" >"$work/zip/$at/go.mod"
	cp "$work/zip/$at/go.mod" "$vdir/$version.mod"
	(cd "$work/zip" && zip -qr -X "$vdir/$version.zip" "$at")
	printf '{"Version":"%s","Time":"2026-01-01T00:00:00Z"}\n' "$version" >"$vdir/$version.info"
	echo "$version" >"$vdir/list"
}
publish . github.com/e6go/e6data
publish e6sim github.com/e6go/e6data/e6sim

# 3. The application: its own module, outside the workspace, empty module cache.
app="$work/app"
mkdir -p "$app"
cat >"$app/main.go" <<'GO'
// Command app opens the e6data DSN given as its argument, pings and runs one query.
package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"time"

	_ "github.com/e6go/e6data"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db, err := sql.Open("e6data", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(1)
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "ping:", err)
		os.Exit(1)
	}
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT 6 * 7").Scan(&n); err != nil {
		fmt.Fprintln(os.Stderr, "query:", err)
		os.Exit(1)
	}
	fmt.Println("connected, SELECT 6 * 7 =", n)
}
GO
printf 'module example.com/app\n\ngo 1.26.0\n' >"$app/go.mod"

modcache="$work/modcache"
host_cache=$(go env GOMODCACHE)/cache/download
export GOWORK=off GOFLAGS= GOTOOLCHAIN=local GOMODCACHE="$modcache" GONOSUMDB=github.com/e6go/e6data
# Our proxy first; then the host's module cache used as a read-only proxy (it
# also holds checksum database tiles), then the public proxy. The driver is
# not in the public checksum database (GONOSUMDB).
proxies="file://$proxy,file://$host_cache"
export GOPROXY="$proxies,https://proxy.golang.org"
fail=0
duckdb_lines() { grep -ci duckdb "$app/go.sum" || true; }

# 4. What `go get` of the driver gives the application: its go.sum, its
#    module cache, a CGO_ENABLED=0 build, and a connection.
start=$(date +%s)
(cd "$app" && go get "github.com/e6go/e6data@$version")
(cd "$app" && CGO_ENABLED=0 go build -o "$work/app-bin" .)
secs=$(( $(date +%s) - start ))
cache_mb=$(du -sm "$modcache" | cut -f1)
mods=$(cd "$app" && go list -deps -f '{{with .Module}}{{.Path}}{{end}}' . | sort -u | grep -c .)
echo "go get + CGO_ENABLED=0 build: go.sum $(wc -l <"$app/go.sum") lines, $(duckdb_lines) DuckDB, $mods modules providing packages, module cache ${cache_mb} MB (limit ${limit_mb}), ${secs}s"
echo "  go.sum modules: $(cut -d' ' -f1 "$app/go.sum" | sort -u | tr '\n' ' ')"
if [ "$(duckdb_lines)" -ne 0 ]; then echo "FAIL: the application's go.sum names DuckDB"; fail=1; fi
if [ "$cache_mb" -ge "$limit_mb" ]; then echo "FAIL: module cache ${cache_mb} MB >= ${limit_mb} MB"; fail=1; fi

addr=""
for _ in $(seq 1 600); do
	addr=$(sed -n 's/.*e6data engine on \([0-9.:]*\).*/\1/p' "$work/e6sim.out")
	[ -n "$addr" ] && break
	kill -0 "$sim_pid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$addr" ]; then
	echo "FAIL: e6sim did not start"; cat "$work/e6sim.err"; exit 1
fi
if ! "$work/app-bin" "e6data://consumer%40example.com:token@$addr/main?catalog=sample"; then
	echo "FAIL: the application could not query e6sim at $addr"; fail=1
fi

# 5. `go mod tidy` in the application, with the same module cache: what
#    an application that tidies (as most do) gets.
start=$(date +%s)
(cd "$app" && go mod tidy)
secs=$(( $(date +%s) - start ))
cache_mb=$(du -sm "$modcache" | cut -f1)
echo "go mod tidy: go.sum $(wc -l <"$app/go.sum") lines, $(duckdb_lines) DuckDB, module cache ${cache_mb} MB (limit ${tidy_limit_mb}), ${secs}s"
echo "  go.sum modules: $(cut -d' ' -f1 "$app/go.sum" | sort -u | tr '\n' ' ')"
if [ "$(duckdb_lines)" -ne 0 ]; then echo "FAIL: after go mod tidy the application's go.sum names DuckDB"; fail=1; fi
if grep -qi 'prometheus\|creack/pty\|otel/sdk' "$app/go.sum"; then echo "FAIL: after go mod tidy the application's go.sum names Prometheus, pty or the OTel SDK"; fail=1; fi
if [ "$cache_mb" -ge "$tidy_limit_mb" ]; then
	echo "FAIL: module cache ${cache_mb} MB >= ${tidy_limit_mb} MB; the largest:"
	du -sm "$modcache"/*/* "$modcache"/*/*/* 2>/dev/null | sort -rn | head -8 | sed 's/^/  /'
	fail=1
fi
(cd "$app" && CGO_ENABLED=0 go build -o "$work/app-bin" .) || { echo "FAIL: the application does not build after go mod tidy"; fail=1; }

[ "$fail" -eq 0 ] && echo "consumer-check: ok"
exit "$fail"
