#!/bin/sh
# Regenerates chunk.go, chunk-consts.go and GoUnusedProtection__.go from
# chunk.thrift. Needs the Thrift compiler 0.17.0 (Debian: apt-get install
# thrift-compiler); it is not needed to build or test, only to regenerate.
# The output is run through gofmt so that the committed files are gofmt clean;
# running this script again reproduces them byte for byte.
set -eu
cd "$(dirname "$0")"
want="Thrift version 0.17.0"
got=$(thrift --version)
if [ "$got" != "$want" ]; then
	echo "gen.sh: need $want, have $got" >&2
	exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
thrift --gen go:package_prefix=github.com/e6go/e6data/internal/wire/,skip_remote -out "$out" chunk.thrift
for f in chunk.go chunk-consts.go GoUnusedProtection__.go; do
	gofmt "$out/thriftref/$f" >"$f"
done
