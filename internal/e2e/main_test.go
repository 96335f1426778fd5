package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/e6go/e6data/e6sim"
)

// sharedDB is one DuckDB database (with the sample dataset) that every
// simulator of this package's tests uses, so each test starts in milliseconds.
var sharedDB *e6sim.DB

// TestMain fails the package's tests if any goroutine is left running, or
// if a secret token reached any log record (secretguard_test.go).
func TestMain(m *testing.M) {
	db, err := e6sim.OpenDB(context.Background(), "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "open simulator database:", err)
		os.Exit(1)
	}
	sharedDB = db
	code := m.Run()
	removeSimBinary()
	db.Close()
	if leak := checkSecretViolations(); leak != "" {
		fmt.Fprintln(os.Stderr, leak)
		code = 1
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
