package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
)

const fetchRPC = "QueryEngineService/getNextResultBatch"

// scanIDs reads n rows of a single id column from rows and checks they are
// want, want+1, ...; it returns the next expected id.
func scanIDs(t *testing.T, rows *sql.Rows, want int64, n int) int64 {
	t.Helper()
	for range n {
		if !rows.Next() {
			t.Fatalf("rows ended at id %d: %v", want, rows.Err())
		}
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		if id != want {
			t.Fatalf("got id %d, want %d", id, want)
		}
		want++
	}
	return want
}

// Every batch arrives once and in order whatever the depth.
func TestPrefetchDeliversEveryBatchInOrder(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 97})
	for _, depth := range []int{0, 1, 2, 5} {
		t.Run(fmt.Sprint("depth", depth), func(t *testing.T) {
			db, _ := openDB(t, srv, e6data.WithSetting("PrefetchDepth", strconv.Itoa(depth)))
			rows, err := db.QueryContext(context.Background(),
				"SELECT id, 'row-' || id AS s FROM numbers WHERE id < 5000 ORDER BY id")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var want int64
			for rows.Next() {
				var id int64
				var s string
				if err := rows.Scan(&id, &s); err != nil {
					t.Fatal(err)
				}
				if id != want || s != fmt.Sprint("row-", want) {
					t.Fatalf("row %d: got %d %q", want, id, s)
				}
				want++
			}
			if err := rows.Err(); err != nil || want != 5000 {
				t.Fatalf("read %d rows, err %v; want 5000", want, err)
			}
		})
	}
}

// While the application holds a batch, exactly depth more are fetched
// (after the one read ahead before the rows reached the application).
func TestPrefetchRunsAheadWhileTheApplicationScans(t *testing.T) {
	for _, depth := range []int{0, 1, 3} {
		t.Run(fmt.Sprint("depth", depth), func(t *testing.T) {
			srv := startSim(t, e6sim.Config{ChunkRows: 10})
			db, _ := openDB(t, srv, e6data.WithSetting("PrefetchDepth", strconv.Itoa(depth)))
			rows, err := db.QueryContext(context.Background(), "SELECT id FROM numbers WHERE id < 1000 ORDER BY id")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			if n := srv.Stats().RPCs[fetchRPC]; n != 2 {
				t.Fatalf("%d fetches before the first row, want 2 (the first batch and the read-ahead)", n)
			}
			scanIDs(t, rows, 0, 11) // into the second batch
			want := int64(2 + depth)
			waitFor(t, 10*time.Second, fmt.Sprintf("%d fetches", want), func() bool { return srv.Stats().RPCs[fetchRPC] == want })
			// Into the third batch: one more fetch (on the application's
			// goroutine without prefetching, ahead of it with).
			next := scanIDs(t, rows, 11, 10)
			want++
			waitFor(t, 10*time.Second, fmt.Sprintf("%d fetches", want), func() bool { return srv.Stats().RPCs[fetchRPC] == want })
			scanIDs(t, rows, next, 1000-int(next))
			if rows.Next() || rows.Err() != nil {
				t.Fatalf("more rows or an error after the last: %v", rows.Err())
			}
		})
	}
}

// Close and a cancelled context stop a fetch that is running in the
// background at once, and the query is still freed on the server.
func TestPrefetchStopsOnCloseAndCancel(t *testing.T) {
	for _, how := range []string{"close", "cancel"} {
		t.Run(how, func(t *testing.T) {
			srv := startSim(t, e6sim.Config{ChunkRows: 10})
			db, _ := openDB(t, srv, e6data.WithSetting("PrefetchDepth", "2"))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rows, err := db.QueryContext(ctx, "SELECT id FROM numbers WHERE id < 1000 ORDER BY id")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			// Every fetch from now on hangs in the gateway until its
			// context ends.
			if err := srv.SetFaults([]e6sim.FaultRule{{Method: "getNextResultBatch", Kind: e6sim.FaultLatency, Latency: time.Hour}}); err != nil {
				t.Fatal(err)
			}
			scanIDs(t, rows, 0, 11)
			waitFor(t, 10*time.Second, "the background fetch to hang", func() bool { return srv.Stats().FaultsFired == 1 })
			done := make(chan error, 1)
			go func() {
				if how == "close" {
					done <- rows.Close()
					return
				}
				cancel()
				for rows.Next() {
				}
				if err := rows.Err(); !errors.Is(err, context.Canceled) {
					done <- fmt.Errorf("err = %v, want context.Canceled", err)
					return
				}
				done <- nil
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the rows did not stop the background fetch")
			}
			waitFor(t, 10*time.Second, "the query to be freed on the server", func() bool { return openQueries(srv) == 0 })
		})
	}
}

// A failure in the background reaches the application after the batches
// fetched before it, as ErrQueryInterrupted counting exactly the rows the
// application received.
func TestPrefetchFailureAfterPrefetchedBatches(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 10})
	db, _ := openDB(t, srv, e6data.WithSetting("PrefetchDepth", "3"))
	rows, err := db.QueryContext(context.Background(), "SELECT id FROM numbers WHERE id < 1000 ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	next := scanIDs(t, rows, 0, 11)
	// Batches 3, 4 and 5 are fetched; the fault hits batch 6.
	waitFor(t, 10*time.Second, "the prefetch to fill up", func() bool { return srv.Stats().RPCs[fetchRPC] == 5 })
	if err := srv.SetFaults([]e6sim.FaultRule{{Method: "getNextResultBatch", Kind: e6sim.Fault456, Count: 1}}); err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		if id != next {
			t.Fatalf("got id %d, want %d", id, next)
		}
		next++
	}
	var e *e6data.Error
	if err := rows.Err(); !errors.Is(err, e6data.ErrQueryInterrupted) || !errors.As(err, &e) {
		t.Fatalf("err = %v, want ErrQueryInterrupted", err)
	}
	if next != 50 || e.Rows != next {
		t.Fatalf("the application got %d rows, the error says %d; want 50 and 50", next, e.Rows)
	}
}

// An expired session met by the background fetch is repaired as it is
// without prefetching: re-authenticate, ask again, lose and repeat nothing.
func TestPrefetchAccessDeniedMidStream(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 10})
	db, ctr := openDB(t, srv, e6data.WithSetting("PrefetchDepth", "2"))
	rows, err := db.QueryContext(context.Background(), "SELECT id FROM numbers WHERE id < 1000 ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if err := srv.SetFaults([]e6sim.FaultRule{{Method: "getNextResultBatch", Kind: e6sim.FaultAccessDenied, Count: 1}}); err != nil {
		t.Fatal(err)
	}
	next := scanIDs(t, rows, 0, 11)
	scanIDs(t, rows, next, 1000-int(next))
	if rows.Next() || rows.Err() != nil {
		t.Fatalf("more rows or an error after the last: %v", rows.Err())
	}
	if n := ctr.Stats().Reauths; n != 1 {
		t.Fatalf("re-authenticated %d times, want 1", n)
	}
}
