package e6data

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's unit tests if any goroutine is left running.
// (The integration tests, with e6sim, are in internal/e2e, whose TestMain
// also checks that no secret reached a log.)
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
