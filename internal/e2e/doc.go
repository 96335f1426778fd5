// Package e2e holds the driver's integration tests: every test of
// github.com/e6go/e6data that needs a running engine, against the in-process
// simulator e6sim over real gRPC on loopback. They use only the driver's
// exported API (and what e6sim records: queries, teardowns, Stats, Health,
// logs and spans), as an application would.
//
// The package is a module of its own so that the driver's module never
// requires e6sim (DuckDB, cgo): an application's `go mod tidy` resolves the
// tests of the packages it imports, and the driver's own tests import
// nothing heavier than the driver does. The package has no non-test code.
//
// The e6arrow integration tests are in the arrow subdirectory.
package e2e
