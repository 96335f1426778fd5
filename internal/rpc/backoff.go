package rpc

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff computes jittered exponential delays: attempt n (0-based) waits a
// random duration in [d/2, d] where d = Base * 2^n, capped at Max.
type Backoff struct {
	Base time.Duration // first step; 0 means no waiting at all
	Max  time.Duration // cap; 0 means 30 s
}

// Delay is the wait before retry number attempt (0 = first retry).
func (b Backoff) Delay(attempt int) time.Duration {
	if b.Base <= 0 {
		return 0
	}
	limit := b.Max
	if limit <= 0 {
		limit = 30 * time.Second
	}
	d := b.Base
	for i := 0; i < attempt && d < limit; i++ {
		d *= 2
	}
	if d > limit {
		d = limit
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(d-half)+1))
}

// Wait blocks for d or until ctx ends, whichever comes first, and returns
// ctx.Err() in the second case.
func Wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
