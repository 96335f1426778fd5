package resume

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
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
	// OnPoll, when set, hears every status poll: the status, or the error.
	OnPoll func(status string, err error)

	mu     sync.Mutex
	flight *flight
}

type flight struct {
	done    chan struct{}
	err     error
	start   time.Time
	last    atomic.Pointer[string] // the last status the run saw
	waiters int                    // callers waiting for this run
	cancel  context.CancelFunc     // ends the run when its last waiter gives up
}

// Resume makes sure the cluster is active: status -> resume if suspended ->
// poll status until active, failed, the timeout or ctx. A status call that
// fails counts as "not yet". Concurrent callers share one run, which does
// not depend on any one caller's context: a caller whose ctx ends stops
// waiting (and gets ctx's error) while the others go on waiting; the run
// itself stops when its last waiter has given up, or at the timeout. A
// caller that stops waiting gets ctx's error, with the last status the run
// saw when it saw one.
func (r *Resumer) Resume(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	f := r.flight
	if f == nil {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f = &flight{done: make(chan struct{}), cancel: cancel, start: time.Now()}
		r.flight = f
		go func() {
			err := r.run(fctx, f)
			cancel()
			r.mu.Lock()
			if r.flight == f {
				r.flight = nil
			}
			f.err = err
			r.mu.Unlock()
			close(f.done)
		}()
	}
	f.waiters++
	r.mu.Unlock()
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		r.mu.Lock()
		f.waiters--
		if f.waiters == 0 { // nobody wants this run any more
			f.cancel()
			if r.flight == f {
				r.flight = nil
			}
		}
		r.mu.Unlock()
		if last := f.last.Load(); last != nil {
			return fmt.Errorf("cluster still %q after %v: %w", *last, time.Since(f.start).Round(time.Millisecond), ctx.Err())
		}
		return ctx.Err()
	}
}

func (r *Resumer) run(ctx context.Context, f *flight) error {
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
		if r.OnPoll != nil {
			r.OnPoll(st, err)
		}
		if err == nil {
			last, lastErr = st, nil
			f.last.Store(&st)
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
