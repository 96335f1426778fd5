package chaos

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
)

// openSim starts a simulator and a *sql.DB on it through the connector.
func openSim(t *testing.T) (*e6sim.Server, *sql.DB) {
	t.Helper()
	srv, err := e6sim.Start(context.Background(), e6sim.Config{ChunkRows: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	host, port, _ := net.SplitHostPort(srv.Addr())
	p, _ := strconv.Atoi(port)
	ctr, err := e6data.NewConnector(nil, e6data.WithSetting("Host", host), e6data.WithSetting("Port", strconv.Itoa(p)), e6data.WithCredentials("u@example.com", "t"),
		e6data.WithSetting("Catalog", "sample"), e6data.WithSetting("Database", "main"))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(ctr)
	t.Cleanup(func() { db.Close() })
	return srv, db
}

func TestVerifiersAcceptTheKnownAnswers(t *testing.T) {
	_, db := openSim(t)
	ctx := context.Background()
	cfg := Config{AggRows: 5000, ScanRows: 300, StreamRows: 700}
	r := rand.New(rand.NewPCG(1, 2))
	for _, kind := range []string{KindAgg, KindScan, KindJoin, KindStream} {
		for range 5 {
			j := newJob(kind, r, &cfg)
			if o := j.run(ctx, db); o.err != nil {
				t.Fatalf("%s [%d,%d]: %v", kind, j.lo, j.hi, o.err)
			}
		}
	}
	// The edges: the first and last ids, all ten customers.
	for _, o := range []outcome{
		runAgg(ctx, db, aggSQL, 0, numbersRows-1),
		runRange(ctx, db, scanSQL, numbersRows-250, numbersRows-1, pacing{}),
		runRange(ctx, db, streamSQL, 0, 250, pacing{every: 100, delay: time.Millisecond}),
		runJoin(ctx, db, joinSQL, 1, 10),
	} {
		if o.err != nil {
			t.Fatal(o.err)
		}
	}
}

func TestVerifiersCatchWrongRows(t *testing.T) {
	_, db := openSim(t)
	ctx := context.Background()
	for name, o := range map[string]outcome{
		"missing row":      runRange(ctx, db, "SELECT id, x, s FROM numbers WHERE id BETWEEN ? AND ? AND id <> 150 ORDER BY id", 100, 400, pacing{}),
		"duplicated row":   runRange(ctx, db, "SELECT id, x, s FROM (SELECT * FROM numbers WHERE id BETWEEN ? AND ? UNION ALL SELECT * FROM numbers WHERE id = 150) ORDER BY id", 100, 400, pacing{}),
		"short result":     runRange(ctx, db, "SELECT id, x, s FROM numbers WHERE id BETWEEN ? AND ? - 1 ORDER BY id", 100, 400, pacing{}),
		"wrong x":          runRange(ctx, db, "SELECT id, CASE WHEN id = 300 THEN 0 ELSE x END, s FROM numbers WHERE id BETWEEN ? AND ? ORDER BY id", 100, 400, pacing{}),
		"wrong s":          runRange(ctx, db, "SELECT id, x, CASE WHEN id = 300 THEN 'row-3' ELSE s END FROM numbers WHERE id BETWEEN ? AND ? ORDER BY id", 100, 400, pacing{}),
		"wrong count":      runAgg(ctx, db, "SELECT count(*) + 1, sum(id), sum(x) FROM numbers WHERE id BETWEEN ? AND ?", 10, 20),
		"wrong sum":        runAgg(ctx, db, "SELECT count(*), sum(id), sum(x) + 0.5 FROM numbers WHERE id BETWEEN ? AND ?", 10, 20),
		"two rows":         runAgg(ctx, db, "SELECT count(*), sum(id), sum(x) FROM numbers WHERE id BETWEEN ? AND ? GROUP BY g % 2", 10, 20),
		"wrong total":      runJoin(ctx, db, "SELECT c.id, c.name, count(o.id), sum(o.amount) + 1 FROM customers c LEFT JOIN orders o ON o.customer_id = c.id WHERE c.id BETWEEN ? AND ? GROUP BY c.id, c.name ORDER BY c.id", 1, 3),
		"missing customer": runJoin(ctx, db, "SELECT c.id, c.name, count(o.id), sum(o.amount) FROM customers c LEFT JOIN orders o ON o.customer_id = c.id WHERE c.id BETWEEN ? AND ? AND c.id <> 2 GROUP BY c.id, c.name ORDER BY c.id", 1, 3),
	} {
		if !isWrong(o.err) {
			t.Errorf("%s: not caught (err %v)", name, o.err)
		}
	}
}

func TestLateAndPercentile(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	deps := []Deployment{
		{From: "blue", To: "green", Trigger: at(0), Learned: at(10)},
		{From: "green", To: "blue", Trigger: at(1000), Learned: at(1010)},
	}
	all := []Query{
		{Begin: at(5), Took: 20 * time.Millisecond, Stack: "blue"},     // began before the connector knew
		{Begin: at(20), Took: 20 * time.Millisecond, Stack: "green"},   // moved
		{Begin: at(30), Took: 20 * time.Millisecond, Stack: "blue"},    // late
		{Begin: at(990), Took: 50 * time.Millisecond, Stack: "blue"},   // outlived the next trigger: not judged
		{Begin: at(1020), Took: 10 * time.Millisecond, Stack: "green"}, // late for the second deployment
		{Begin: at(1030), Took: 10 * time.Millisecond, Stack: ""},      // unknown stack
	}
	if n, samples := late(deps, all, 10); n != 2 || len(samples) != 2 {
		t.Fatalf("late = %d %v, want 2", n, samples)
	}
	ds := []time.Duration{5, 1, 4, 2, 3}
	if p := percentile(ds, 0.5); p != 3 {
		t.Fatalf("p50 = %v", p)
	}
	if p := percentile(ds, 0.99); p != 5 {
		t.Fatalf("p99 = %v", p)
	}
	if p := percentile(nil, 0.5); p != 0 {
		t.Fatalf("empty p50 = %v", p)
	}
}

func TestConfigDefaultsAndErrors(t *testing.T) {
	c := Config{Driver: nopDriver{}}
	if err := c.defaults(); err != nil || c.Workers != 64 || c.Mode != ModeNone || c.FlipEvery != 2*time.Second || c.Drain != 5*time.Second {
		t.Fatalf("defaults: %v %+v", err, c)
	}
	for _, bad := range []Config{
		{},                                      // no driver
		{Driver: nopDriver{}, Mode: ModeAbrupt}, // no target
		{Driver: nopDriver{}, Mode: "sideways"},
		{Driver: nopDriver{}, Workers: 2, Streamers: 3},
		{Driver: nopDriver{}, Events: []string{"reboot"}},
	} {
		if err := bad.defaults(); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	if _, err := ParseMode("Graceful"); err != nil {
		t.Fatal(err)
	}
}

type nopDriver struct{}

func (nopDriver) Interrupted(error) (int64, bool) { return 0, false }
func (nopDriver) Sentinels(error) []string        { return []string{"untyped"} }
func (nopDriver) QueryID(*sql.Conn) string        { return "" }
func (nopDriver) Stats() Stats                    { return Stats{} }
