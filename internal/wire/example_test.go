package wire_test

import (
	"fmt"

	"github.com/e6go/e6data/internal/wire"
)

// A connector decodes each resultBatch into the same Chunk, so that its
// storage is reused, and stops at the empty batch.
func ExampleDecodeChunk() {
	price := wire.Vector{Type: wire.Decimal128, Scale: 2, Nulls: []bool{false, true},
		Decimals: []wire.Dec128{wire.Dec128FromInt64(-12345), {}}}
	at := wire.Vector{Type: wire.TimestampTZ, Nulls: []bool{false, false},
		Int64s: []int64{-1, 1_709_210_096_789_012}, Zones: []string{"Z", "Asia/Kolkata"}}
	batch, err := wire.AppendChunk(nil, &wire.Chunk{Rows: 2, Vectors: []wire.Vector{price, at}})
	if err != nil {
		panic(err)
	}

	var c wire.Chunk
	for _, b := range [][]byte{batch, nil} {
		if err := wire.DecodeChunk(b, &c); err != nil {
			panic(err)
		}
		if c.Rows == 0 {
			fmt.Println("end of results")
			break
		}
		for row := range int(c.Rows) {
			p, t := &c.Vectors[0], &c.Vectors[1]
			loc, err := wire.Location(t.Zone(row))
			if err != nil {
				panic(err)
			}
			ts := wire.TimeFromMicros(t.Int64(row), loc).Format("2006-01-02 15:04:05.000000 -07:00")
			if p.IsNull(row) {
				fmt.Println("NULL", ts)
				continue
			}
			fmt.Println(p.Decimal(row).Format(p.Scale), ts)
		}
	}
	// Output:
	// -123.45 1969-12-31 23:59:59.999999 +00:00
	// NULL 2024-02-29 18:04:56.789012 +05:30
	// end of results
}
