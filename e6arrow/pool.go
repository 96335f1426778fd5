package e6arrow

import (
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// pool is the memory.Allocator of one reader's fixed-width buffers (the
// values of numeric, temporal and decimal columns, and the offsets of
// strings): a buffer freed when the caller releases a record is used again
// for a later one, so a reader whose records are released as it goes
// allocates next to nothing for them, and the garbage collector runs far
// less often. The bytes of strings are not pooled: a string that
// array.String.Value returns refers to them, and callers keep such strings
// after releasing the record.
//
// Allocate does not clear the memory: every buffer taken from the pool is
// overwritten entirely by the builder before the record is built.
type pool struct {
	mu   sync.Mutex
	free [][]byte
}

// maxPooled bounds the buffers kept for reuse (a few records' worth).
const maxPooled = 32

var _ memory.Allocator = (*pool)(nil)

func (p *pool) Allocate(size int) []byte {
	p.mu.Lock()
	for i := len(p.free) - 1; i >= 0; i-- {
		if b := p.free[i]; cap(b) >= size {
			last := len(p.free) - 1
			p.free[i] = p.free[last]
			p.free[last] = nil
			p.free = p.free[:last]
			p.mu.Unlock()
			return b[:size]
		}
	}
	p.mu.Unlock()
	return noZeroBytes(size)
}

func (p *pool) Reallocate(size int, b []byte) []byte {
	if cap(b) >= size {
		return b[:size]
	}
	nb := p.Allocate(size)
	copy(nb, b)
	p.Free(b)
	return nb
}

func (p *pool) Free(b []byte) {
	if cap(b) == 0 {
		return
	}
	p.mu.Lock()
	if len(p.free) < maxPooled {
		p.free = append(p.free, b[:0])
	}
	p.mu.Unlock()
}

// buffer returns a pooled buffer of n bytes, to be overwritten entirely.
// The caller owns one reference.
func (p *pool) buffer(n int) *memory.Buffer {
	buf := memory.NewResizableBuffer(p)
	buf.Resize(n)
	return buf
}
