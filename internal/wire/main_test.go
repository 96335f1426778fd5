package wire_test

import (
	"testing"

	"go.uber.org/goleak"
	_ "time/tzdata" // IANA zones in tests even on a machine without zoneinfo
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
