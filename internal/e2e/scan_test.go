package e2e

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"testing"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
)

// rawRows runs text on a driver connection of ctr and returns its
// driver.Rows, so the tests see exactly what Next stores.
// driverRows is what the driver's rows offer beyond driver.Rows.
type driverRows interface {
	driver.Rows
	driver.RowsColumnTypeScanType
	driver.RowsColumnTypeDatabaseTypeName
}

func rawRows(t *testing.T, ctr *e6data.Connector, text string) driverRows {
	t.Helper()
	ctx := context.Background()
	dc, err := ctr.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	r, err := dc.(driver.QueryerContext).QueryContext(ctx, text, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r.(driverRows)
}

// ColumnTypeScanType is the type Next stores for every non-NULL value of
// every column of all_types (every type the simulator produces).
func TestScanTypeMatchesNext(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	_, ctr := openDB(t, srv)
	r := rawRows(t, ctr, "SELECT * FROM all_types ORDER BY id")
	cols := r.Columns()
	dest := make([]driver.Value, len(cols))
	seen := make([]int, len(cols))
	for {
		err := r.Next(dest)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range dest {
			if v == nil {
				continue
			}
			seen[i]++
			if got, want := reflect.TypeOf(v), r.ColumnTypeScanType(i); got != want {
				t.Errorf("column %s (%s): Next stores %v, ColumnTypeScanType says %v",
					cols[i], r.ColumnTypeDatabaseTypeName(i), got, want)
			}
		}
	}
	for i, n := range seen {
		if n == 0 {
			t.Errorf("column %s: no non-NULL value to check", cols[i])
		}
	}
}

// Values the application keeps (Scan into *any keeps the driver's value)
// do not change as later batches arrive, with and without prefetching.
func TestScannedValuesOutliveTheirBatch(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 7})
	for _, depth := range []int{0, 2} {
		t.Run(fmt.Sprint("depth", depth), func(t *testing.T) {
			db, _ := openDB(t, srv, e6data.WithSetting("PrefetchDepth", strconv.Itoa(depth)))
			rows, err := db.QueryContext(context.Background(),
				"SELECT id, CAST(id AS INTEGER) AS i, id / 4 AS d, 'v' || id AS s FROM numbers WHERE id < 200 ORDER BY id")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var kept [][4]any
			for rows.Next() {
				var v [4]any
				if err := rows.Scan(&v[0], &v[1], &v[2], &v[3]); err != nil {
					t.Fatal(err)
				}
				kept = append(kept, v)
			}
			if err := rows.Err(); err != nil || len(kept) != 200 {
				t.Fatalf("%d rows, err %v", len(kept), err)
			}
			for n, v := range kept {
				want := [4]any{int64(n), int32(n), float64(n) / 4, fmt.Sprint("v", n)}
				if v != want {
					t.Fatalf("row %d kept %#v, want %#v", n, v, want)
				}
			}
		})
	}
}
