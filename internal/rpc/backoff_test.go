package rpc

import (
	"context"
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Base: 100 * time.Millisecond, Max: time.Second}
	for attempt, full := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		full *= time.Millisecond
		for i := 0; i < 50; i++ {
			d := b.Delay(attempt)
			if d < full/2 || d > full {
				t.Fatalf("attempt %d: delay %v outside [%v, %v]", attempt, d, full/2, full)
			}
		}
	}
	if (Backoff{}).Delay(3) != 0 {
		t.Fatal("zero base must not wait")
	}
}

func TestWaitCutShortByContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := Wait(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("Wait = %v, want context.Canceled", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("Wait ignored the context")
	}
	if err := Wait(context.Background(), time.Microsecond); err != nil {
		t.Fatal(err)
	}
}
