package e2e

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
)

// TestChaosWrites: 8 workers insert unique keys while the simulator
// deploys abruptly every 60 ms and, now and then, resets the connection
// after the engine ran an execute. Afterwards no key is in the table twice,
// every write the application was told succeeded is there exactly once,
// every write reported SafeToRetry is not there, and every write whose
// outcome is unknown was reported so.
func TestChaosWrites(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig})
		db, _ := chaosDB(t, srv, 8, e6data.WithRetry(5, 100*time.Millisecond))
		table := newTable(t, db, "chaos_writes_"+sig.String())
		if err := srv.SetFaults([]e6sim.FaultRule{
			// Both forms of execute: V2 follows prepareStatementV2 when a
			// catalog is set.
			{Method: "executeStatement", Kind: e6sim.FaultUnavailable, After: true, Probability: 0.05},
			{Method: "executeStatementV2", Kind: e6sim.FaultUnavailable, After: true, Probability: 0.05},
		}); err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithTimeout(context.Background(), chaosTime(4*time.Second, 30*time.Second))
		defer stop()
		flips := make(chan int)
		go func() {
			n := 0
			defer func() { flips <- n }()
			tick := time.NewTicker(60 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					if err := srv.Switch(context.Background(), 0, 0); err == nil {
						n++
					}
				}
			}
		}()

		type outcome struct {
			ok, unknown, safe, other []int64
			otherErrs                map[string]int
		}
		var mu sync.Mutex
		all := outcome{otherErrs: map[string]int{}}
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int64(0); ctx.Err() == nil; i++ {
					k := int64(w)*1_000_000 + i
					_, err := db.ExecContext(context.Background(), fmt.Sprintf("INSERT INTO %s VALUES (%d)", table, k))
					mu.Lock()
					switch {
					case err == nil:
						all.ok = append(all.ok, k)
					case errors.Is(err, e6data.ErrOutcomeUnknown):
						if e6data.SafeToRetry(err) {
							t.Errorf("SafeToRetry true for %v", err)
						}
						all.unknown = append(all.unknown, k)
					case e6data.SafeToRetry(err):
						all.safe = append(all.safe, k)
						all.otherErrs["(safe to retry) "+err.Error()]++
					default:
						all.other = append(all.other, k)
						all.otherErrs[err.Error()]++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		nflips := <-flips
		srv.ClearFaults()

		count := map[int64]int{}
		rows, err := db.Query("SELECT k, count(*) FROM " + table + " GROUP BY k")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k int64
			var n int
			if err := rows.Scan(&k, &n); err != nil {
				t.Fatal(err)
			}
			count[k] = n
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()

		twice := 0
		for k, n := range count {
			if n > 1 {
				twice++
				t.Errorf("key %d is in the table %d times", k, n)
			}
		}
		for _, k := range all.ok {
			if count[k] != 1 {
				t.Errorf("write %d reported successful is there %d times", k, count[k])
			}
		}
		for _, k := range all.safe {
			if count[k] != 0 {
				t.Errorf("write %d reported safe to retry ran (%d times)", k, count[k])
			}
		}
		unknownRan := 0
		for _, k := range all.unknown {
			unknownRan += count[k]
		}
		st := srv.Stats()
		t.Logf("signal %s: %d abrupt deployments, %d writes: %d ok, %d outcome unknown (%d of them ran), %d failed safe to retry, %d other failures; "+
			"keys twice %d; faults fired %d, 456 sent %d",
			sig, nflips, len(all.ok)+len(all.unknown)+len(all.safe)+len(all.other), len(all.ok), len(all.unknown), unknownRan,
			len(all.safe), len(all.other), twice, st.FaultsFired, st.Sent456)
		for msg, n := range all.otherErrs {
			t.Logf("  %d x %s", n, msg)
		}
		if len(all.ok) == 0 || nflips < 10 {
			t.Errorf("%d writes succeeded across %d deployments: the run proves nothing", len(all.ok), nflips)
		}
		if len(all.unknown) == 0 {
			t.Error("no write met an unknown outcome: the resets after execute did not happen")
		}
	})
}
