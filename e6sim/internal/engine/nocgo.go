//go:build !cgo

package engine

// e6sim runs its SQL on DuckDB, a C library linked through cgo. Without cgo
// (CGO_ENABLED=0, or no C compiler on the PATH) the go command would only
// report that build constraints exclude every file of DuckDB's bindings; this
// declaration fails the build instead with a message that says what to do.
// The driver (github.com/e6go/e6data) itself needs no cgo.
const _ int = "e6sim needs cgo (it embeds DuckDB, a C library): install a C compiler (Debian: apt-get install gcc) and build with CGO_ENABLED=1"
