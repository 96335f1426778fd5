package resume

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeCluster walks suspended -> (resume) -> resuming x n -> final.
type fakeCluster struct {
	mu            sync.Mutex
	status        string
	resumingPolls int
	final         string
	resumes       atomic.Int32
	statusCalls   atomic.Int32
	failStatus    int // first n status calls fail
}

func (f *fakeCluster) Status(ctx context.Context) (string, error) {
	n := f.statusCalls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if int(n) <= f.failStatus {
		return "", errors.New("transport: connection reset")
	}
	if f.status == Resuming {
		if f.resumingPolls == 0 {
			f.status = f.final
		} else {
			f.resumingPolls--
		}
	}
	return f.status, nil
}

func (f *fakeCluster) Resume(ctx context.Context) (string, error) {
	f.resumes.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status = Resuming
	return Resuming, nil
}

func TestResumeSequence(t *testing.T) {
	fc := &fakeCluster{status: Suspended, resumingPolls: 2, final: Active, failStatus: 1}
	var took time.Duration
	called := false
	r := &Resumer{API: fc, PollInterval: time.Millisecond, Timeout: 10 * time.Second,
		OnResumed: func(d time.Duration, c bool) { took, called = d, c }}
	if err := r.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fc.resumes.Load() != 1 || !called || took <= 0 {
		t.Fatalf("resumes=%d called=%v took=%v", fc.resumes.Load(), called, took)
	}
	// Active already: no resume call.
	if err := r.Resume(context.Background()); err != nil || fc.resumes.Load() != 1 {
		t.Fatalf("err=%v resumes=%d", err, fc.resumes.Load())
	}
}

func TestResumeSingleFlight(t *testing.T) {
	fc := &fakeCluster{status: Suspended, resumingPolls: 20, final: Active}
	r := &Resumer{API: fc, PollInterval: time.Millisecond, Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- r.Resume(context.Background()) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := fc.resumes.Load(); n != 1 {
		t.Fatalf("%d resume calls for 32 waiters, want 1", n)
	}
}

func TestResumeFailedAndUnexpected(t *testing.T) {
	for _, final := range []string{Failed, "exploded"} {
		fc := &fakeCluster{status: Suspended, final: final}
		r := &Resumer{API: fc, PollInterval: time.Millisecond, Timeout: 10 * time.Second}
		if err := r.Resume(context.Background()); !errors.Is(err, ErrFailed) {
			t.Fatalf("final %q: err = %v", final, err)
		}
	}
}

func TestResumeTimeoutAndContext(t *testing.T) {
	fc := &fakeCluster{status: Suspended, resumingPolls: 1 << 30, final: Active}
	r := &Resumer{API: fc, PollInterval: time.Millisecond, Timeout: 50 * time.Millisecond}
	if err := r.Resume(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r2 := &Resumer{API: fc, PollInterval: time.Hour, Timeout: time.Hour}
	if err := r2.Resume(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

// The caller that started a resume gives up; the callers still waiting get
// the cluster resumed by that same run (one resume call), not the first
// caller's cancellation.
func TestResumeOutlivesTheCallerThatStartedIt(t *testing.T) {
	fc := &fakeCluster{status: Suspended, resumingPolls: 1 << 30, final: Active}
	r := &Resumer{API: fc, PollInterval: time.Millisecond, Timeout: 10 * time.Second}
	first, cancelFirst := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() { firstErr <- r.Resume(first) }()
	waitUntil(t, func() bool { return fc.resumes.Load() == 1 })
	second := make(chan error, 1)
	go func() { second <- r.Resume(context.Background()) }()
	waitUntil(t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.flight != nil && r.flight.waiters == 2
	})
	cancelFirst()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("first caller: %v, want its own cancellation", err)
	}
	fc.mu.Lock()
	fc.resumingPolls = 0 // the cluster comes up now
	fc.mu.Unlock()
	if err := <-second; err != nil {
		t.Fatalf("second caller: %v, want the cluster resumed", err)
	}
	if n := fc.resumes.Load(); n != 1 {
		t.Fatalf("%d resume calls, want 1", n)
	}
}

// When every caller has given up, the run stops (no goroutine polls on
// for the whole timeout) and the next caller starts a new one.
func TestResumeStopsWhenNobodyWaits(t *testing.T) {
	fc := &fakeCluster{status: Suspended, resumingPolls: 1 << 30, final: Active}
	r := &Resumer{API: fc, PollInterval: time.Millisecond, Timeout: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Resume(ctx) }()
	waitUntil(t, func() bool { return fc.resumes.Load() == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	// The run's goroutine ends too: goleak (TestMain) fails the package if
	// it were still polling, with an hour of timeout left.
	r.mu.Lock()
	f := r.flight
	r.mu.Unlock()
	if f != nil {
		t.Fatal("a run is still registered after its last waiter left")
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// A caller that stops waiting (its own deadline, shorter than the run's)
// is told the last status the shared run saw.
func TestResumeCallerDeadlineNamesLastStatus(t *testing.T) {
	fc := &fakeCluster{status: Suspended, resumingPolls: 1 << 30, final: Active}
	r := &Resumer{API: fc, PollInterval: time.Millisecond, Timeout: time.Hour}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := r.Resume(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `"resuming"`) {
		t.Fatalf("err = %v, want the deadline and the last status", err)
	}
	// The run ends once its last waiter has gone.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		idle := r.flight == nil
		r.mu.Unlock()
		if idle {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run outlived its last waiter")
		}
		time.Sleep(time.Millisecond)
	}
}
