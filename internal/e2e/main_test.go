package e2e

import (
	"testing"

	"github.com/e6go/e6data/internal/e2e/e2esim"
)

// TestMain runs the tests on one shared simulator database and fails them
// if any goroutine is left running, or if a secret token reached any log
// record (secretguard_test.go).
func TestMain(m *testing.M) {
	e2esim.Main(m, func() string {
		removeSimBinary()
		return checkSecretViolations()
	})
}
