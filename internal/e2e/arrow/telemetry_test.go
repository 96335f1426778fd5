package arrow

import (
	"context"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6arrow"
	"github.com/e6go/e6data/e6sim"
)

// A query read through e6arrow is counted like one read through
// database/sql: its rows, its duration by outcome, nothing left in flight.
func TestTelemetryCountsArrowQueries(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 1000})
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	db, _ := openDB(t, srv, e6data.WithMeterProvider(mp))
	rdr, err := e6arrow.Query(context.Background(), db, "SELECT id, s FROM numbers WHERE id < 4500")
	if err != nil {
		t.Fatal(err)
	}
	for rdr.Next() {
	}
	if err := rdr.Err(); err != nil {
		t.Fatal(err)
	}
	rdr.Release()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var rows, inFlight, durations int64 = -1, -1, -1
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				var v int64
				for _, p := range d.DataPoints {
					v += p.Value
				}
				switch m.Name {
				case "e6data.rows.fetched":
					rows = v
				case "e6data.queries.in_flight":
					inFlight = v
				}
			case metricdata.Histogram[float64]:
				if m.Name == "e6data.query.duration" {
					durations = 0
					for _, p := range d.DataPoints {
						if o, ok := p.Attributes.Value("outcome"); ok && o.AsString() == "ok" {
							durations += int64(p.Count)
						}
					}
				}
			}
		}
	}
	if rows != 4500 || inFlight != 0 || durations != 1 {
		t.Fatalf("rows.fetched %d, in_flight %d, query.duration{ok} count %d; want 4500, 0, 1", rows, inFlight, durations)
	}
}
