package thriftref_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/e6go/e6data/internal/wire"
)

// goldenChunkFiles lists internal/wire's golden result batches (written by
// its TestGoldenChunks from values it pins). This module lives inside
// internal/wire's directory and is tested only from the repository, so it
// reads them in place.
func goldenChunkFiles() ([]string, error) {
	return filepath.Glob(filepath.Join("..", "testdata", "*chunk*.bin"))
}

// TestThriftReadsGoldenChunks: the generated Thrift code reads every golden
// batch of internal/wire to the values DecodeChunk reads.
func TestThriftReadsGoldenChunks(t *testing.T) {
	names, err := goldenChunkFiles()
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 5 {
		t.Fatalf("found %d golden chunk files under ../testdata, want internal/wire's", len(names))
	}
	for _, name := range names {
		t.Run(filepath.Base(name), func(t *testing.T) {
			file, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var c wire.Chunk
			if err := wire.DecodeChunk(file, &c); err != nil {
				t.Fatal(err)
			}
			tc, err := thriftDecode(file)
			if err != nil {
				t.Fatalf("Thrift cannot read the golden file: %v", err)
			}
			if c.Rows > 0 {
				if d := chunkDiff(&c, fromThrift(t, tc)); d != "" {
					t.Fatalf("as read by Thrift: %s", d)
				}
			}
		})
	}
}
