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
#     build, and under 170 MB after `go mod tidy` (see tidy_limit_mb),
#   - the binary opens a connection (Ping and a query) to an e6sim started here,
#   - after `go mod tidy`, the module cache exceeds by at most 45 MB that of
#     an application importing only grpc and protobuf at the same versions
#     (the floor of any grpc-based driver, measured here the same way).
# `go mod tidy` makes go.sum sufficient for `go test all`: it also resolves
# what the tests of the packages the application builds import, the
# driver's and its dependencies'. None of the driver's tests imports e6sim
# (the driver's integration tests are the module internal/e2e) nor Thrift
# (the differential tests against the Thrift-generated reference decoder
# are the module internal/wire/thriftref). The simulator module is
# published all the same, as a release would publish it.
#
# Measured 2026-12-05 (go1.26, grpc v1.85.0): after `go get` + build 135 MB;
# after `go mod tidy` 164 MB, of which golang.org/x/text 37, the
# OpenTelemetry API module go.opentelemetry.io/otel 35 (its semconv
# packages; the driver imports its attribute and codes packages), gonum 24
# (imported by grpc's own tests), protobuf 18, grpc 18, x/sys 13, x/net 12,
# the driver 3. The grpc-only floor is 122 MB after tidy (97 after go get),
# so the driver adds 42 MB, 35 of them the OpenTelemetry API: under 150 MB
# is out of reach while the driver imports the OpenTelemetry API and grpc's
# tests import gonum.
#
# Usage: scripts/consumer-check.sh   (from anywhere; needs cgo for e6sim)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$PATH:/usr/local/go/bin"
limit_mb=150
# After `go mod tidy` the cache also holds what the TESTS of every package
# the application builds import (tidy makes go.sum sufficient for
# `go test all`), including the tests of grpc's own packages (gonum). Step 6
# measures that floor: an application importing only grpc and protobuf, at
# the versions the driver requires, same procedure. The two limits below
# catch anything heavier coming back (Thrift was 29 MB, DuckDB is 1 GB).
tidy_limit_mb=${CONSUMER_CHECK_TIDY_LIMIT_MB:-170}
# What the driver may add over that floor, after `go mod tidy`.
over_floor_limit_mb=${CONSUMER_CHECK_OVER_FLOOR_LIMIT_MB:-45}
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
# breakdown CACHE N: the N largest module versions in a module cache, in MB,
# counting both the extracted tree and the zip under cache/download.
breakdown() {
	local c=$1 d
	(cd "$c" && find . -path ./cache -prune -o -type d -name '*@*' -prune -print) | while IFS= read -r d; do
		d=${d#./}
		printf '%s %s\n' "$(du -smc "$c/$d" "$c/cache/download/${d%@*}/@v/${d##*@}.zip" 2>/dev/null | tail -1 | cut -f1)" "$d"
	done | sort -rn | head -"$2" | sed 's/^/    /'
}

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
echo "  the largest modules (MB, extracted + zip):"
breakdown "$modcache" 10
if [ "$cache_mb" -ge "$tidy_limit_mb" ]; then
	echo "FAIL: module cache ${cache_mb} MB >= ${tidy_limit_mb} MB"
	fail=1
fi
(cd "$app" && CGO_ENABLED=0 go build -o "$work/app-bin" .) || { echo "FAIL: the application does not build after go mod tidy"; fail=1; }
driver_mb=$cache_mb

# 6. The floor: an application that imports only grpc and protobuf, at the
#    versions the driver's go.mod requires, with its own empty module cache,
#    `go get` + build + `go mod tidy` as above. No grpc-based driver can
#    give an application less; the check bounds what ours adds over it.
floor="$work/floor"
mkdir -p "$floor"
cat >"$floor/main.go" <<'GO'
// Command floor is a gRPC client and nothing else.
package main

import (
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

func main() {
	cc, err := grpc.NewClient("127.0.0.1:1", grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer cc.Close()
	b, err := proto.Marshal(durationpb.New(time.Second))
	fmt.Println(len(b), err)
}
GO
printf 'module example.com/floor\n\ngo 1.26.0\n' >"$floor/go.mod"
pin() { awk -v m="$1" '$1 == m { print $2 }' "$repo/go.mod"; }
export GOMODCACHE="$work/floor-modcache"
(cd "$floor" && go get "google.golang.org/grpc@$(pin google.golang.org/grpc)" "google.golang.org/protobuf@$(pin google.golang.org/protobuf)")
(cd "$floor" && CGO_ENABLED=0 go build -o /dev/null .)
floor_get_mb=$(du -sm "$GOMODCACHE" | cut -f1)
(cd "$floor" && go mod tidy)
floor_mb=$(du -sm "$GOMODCACHE" | cut -f1)
echo "grpc-only floor (grpc $(pin google.golang.org/grpc), protobuf $(pin google.golang.org/protobuf)): module cache ${floor_get_mb} MB after go get + build, ${floor_mb} MB after go mod tidy"
echo "  go.sum modules: $(cut -d' ' -f1 "$floor/go.sum" | sort -u | tr '\n' ' ')"
echo "  the largest modules (MB, extracted + zip):"
breakdown "$GOMODCACHE" 10
echo "the driver adds $((driver_mb - floor_mb)) MB over the grpc-only floor after go mod tidy (limit ${over_floor_limit_mb})"
if [ $((driver_mb - floor_mb)) -gt "$over_floor_limit_mb" ]; then
	echo "FAIL: the driver adds more than ${over_floor_limit_mb} MB over the grpc-only floor"
	fail=1
fi

[ "$fail" -eq 0 ] && echo "consumer-check: ok"
exit "$fail"
