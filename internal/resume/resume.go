package resume

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Cluster statuses as the ClusterService reports them (lower case).
const (
	Active     = "active"
	Suspended  = "suspended"
	Resuming   = "resuming"
	Suspending = "suspending"
	Failed     = "failed"
)

// API is the part of the ClusterService a Resumer needs.
type API interface {
	Status(ctx context.Context) (string, error)
	Resume(ctx context.Context) (string, error)
}

// ErrFailed: the cluster reported "failed" or an unexpected status.
var ErrFailed = errors.New("cluster could not be resumed")

// Resumer resumes one cluster.
type Resumer struct {
	API          API
	PollInterval time.Duration // default 5 s
	Timeout      time.Duration // default 300 s
	// OnResumed is called once per successful resume that this Resumer
	// started (not for waiters), with how long it took.
	OnResumed func(took time.Duration, resumeCalled bool)

	mu     sync.Mutex
	flight *flight
}

type flight struct {
	done chan struct{}
	err  error
}

// Resume makes sure the cluster is active: status -> resume if suspended ->
// poll status until active, failed, the timeout or ctx. A status call that
// fails counts as "not yet". Concurrent callers share one run.
func (r *Resumer) Resume(ctx context.Context) error {
	r.mu.Lock()
	if f := r.flight; f != nil {
		r.mu.Unlock()
		select {
		case <-f.done:
			return f.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	r.flight = f
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.flight = nil
		r.mu.Unlock()
		close(f.done)
	}()
	f.err = r.run(ctx)
	return f.err
}

func (r *Resumer) run(ctx context.Context) error {
	poll, timeout := r.PollInterval, r.Timeout
	if poll <= 0 {
		poll = 5 * time.Second
	}
	if timeout <= 0 {
		timeout = 300 * time.Second
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resumed := false
	var last string
	var lastErr error
	for {
		st, err := r.API.Status(ctx)
		if err == nil {
			last, lastErr = st, nil
			switch st {
			case Active:
				if r.OnResumed != nil {
					r.OnResumed(time.Since(start), resumed)
				}
				return nil
			case Suspended:
				if !resumed {
					if _, err := r.API.Resume(ctx); err != nil {
						lastErr = err
					} else {
						resumed = true
						continue // look at the status again at once
					}
				}
			case Resuming, Suspending:
			case Failed:
				return fmt.Errorf("%w: status %q", ErrFailed, st)
			default:
				return fmt.Errorf("%w: unexpected status %q", ErrFailed, st)
			}
		} else {
			lastErr = err
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			if lastErr != nil {
				return fmt.Errorf("cluster still %q after %v: %w (last error: %v)", last, time.Since(start).Round(time.Millisecond), ctx.Err(), lastErr)
			}
			return fmt.Errorf("cluster still %q after %v: %w", last, time.Since(start).Round(time.Millisecond), ctx.Err())
		case <-t.C:
		}
	}
}
