// Package arrow holds the integration tests of github.com/e6go/e6data/e6arrow:
// Arrow record readers over the driver against the in-process simulator
// e6sim, compared row by row with database/sql. The unit tests of e6arrow
// (conversions, no server) stay beside it. See ../doc.go for why these
// tests live in a module of their own.
package arrow
