package wire_test

import "github.com/e6go/e6data/internal/wire/wiretest"

// The random batches and their comparison live in wiretest, shared with
// the Thrift reference module's tests.
var (
	newGen    = wiretest.NewGen
	max38     = wiretest.Max38
	min38     = wiretest.Min38
	mustBig   = wiretest.MustBig
	mustDec   = wiretest.MustDec
	chunkDiff = wiretest.ChunkDiff
	decBytes  = wiretest.DecBytes
)

// firstDiff is the index of the first byte where a and b differ.
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
