package e2e

// End-to-end logging tests: a real workload against e6sim through a
// capturing slog handler (captureHandler, from logging_test.go).

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
	"github.com/e6go/e6data/internal/e2e/e2esim"
)

const logStaticToken = "static-SECRET-77aa"

// recordText is everything a record shows: message, keys and values.
func recordText(r captured) string {
	var b strings.Builder
	b.WriteString(r.Msg)
	for k, v := range r.Attrs {
		b.WriteString(" " + k + "=" + v)
	}
	return b.String()
}

func TestLoggingWorkloadStrategyRecordsAndNoSecrets(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		ctx := context.Background()
		srv := startSim(t, e6sim.Config{Signal: sig, ChunkRows: 100})
		capt := newCapture()
		var p countingProvider
		db, ctr := openDB(t, srv, e6data.WithLogger(slog.New(capt)),
			e6data.WithSetting("E6DATA_LOG_LEVEL", "DEBUG"), e6data.WithSetting("E6DATA_STRATEGY_LOG_LEVEL", "DEBUG"),
			e6data.WithCredentials("alice@example.com", logStaticToken), e6data.WithTokenProvider(p.token))
		db.SetMaxOpenConns(2)
		var errs []error
		count := func(q string) {
			t.Helper()
			var n int64
			if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}

		count("SELECT count(*) FROM orders")
		// A graceful switch with a query in flight: it is announced on the
		// query's own calls, new work moves, the old query finishes.
		rows, err := db.QueryContext(ctx, "SELECT id FROM numbers WHERE id < 1000")
		if err != nil {
			t.Fatal(err)
		}
		rows.Next()
		// The drain outlasts the query however slow the machine; it is
		// ended once the query is done.
		if err := srv.Switch(ctx, time.Hour, 0); err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		count("SELECT count(*) FROM customers")
		srv.EndDrain()
		waitFor(t, time.Minute, "the old stack to be torn down", func() bool { return srv.Stats().Draining == "" })

		// Session expiry, a bad statement, an abrupt switch (a 456 recovered).
		srv.ExpireSessions()
		count("SELECT count(*) FROM orders")
		_, err = db.QueryContext(ctx, "SELEC broken")
		errs = append(errs, err)
		if err := srv.Switch(ctx, 0, 0); err != nil {
			t.Fatal(err)
		}
		count("SELECT count(*) FROM orders")

		// Bad credentials, on a cluster that checks them.
		strict := startSim(t, e6sim.Config{Signal: sig, Users: e6sim.Users{"alice@example.com": "right-SECRET-1"}})
		bad, _ := openDB(t, strict, e6data.WithLogger(slog.New(capt)), e6data.WithSetting("E6DATA_LOG_LEVEL", "DEBUG"),
			e6data.WithCredentials("alice@example.com", "wrong-SECRET-2"))
		err = bad.Ping()
		if !errors.Is(err, e6data.ErrAuth) {
			t.Fatalf("bad credentials: %v", err)
		}
		errs = append(errs, err)

		// (That a rotated token from the provider is redacted wherever the
		// connector logs it: TestConnectorLoggersRedactRotatedTokens in the
		// root package, which logs through the connector's own loggers.)

		recs := capt.Records()
		secrets := []string{"SECRET"}
		texts := []string{ctr.Config().String(), fmt.Sprintf("%v %+v", ctr.Config(), ctr.Config())}
		for _, d := range ctr.Config().Diagnostics() {
			texts = append(texts, d.String())
		}
		for _, e := range errs {
			texts = append(texts, e.Error())
		}
		for _, r := range recs {
			texts = append(texts, recordText(r))
		}
		for _, s := range texts {
			for _, sec := range secrets {
				if strings.Contains(s, sec) {
					t.Errorf("a secret shows: %s", s)
				}
			}
		}
		// Strategy records: strategy, transition_type and cluster always;
		// query_id where a query caused the transition.
		types := map[string][]captured{}
		for _, r := range recs {
			if r.Attrs["component"] != e6data.ComponentStrategy {
				continue
			}
			for _, k := range []string{"strategy", "transition_type", "cluster"} {
				if r.Attrs[k] == "" {
					t.Errorf("strategy record %q has no %s: %v", r.Msg, k, r.Attrs)
				}
			}
			if _, ok := r.Attrs["query_id"]; !ok && strings.HasPrefix(r.Msg, "strategy ") {
				t.Errorf("transition record without query_id: %v", r.Attrs)
			}
			if want := srv.Addr() + "/" + e2esim.ClusterName(srv); r.Attrs["cluster"] != want { // host:port/cluster-name
				t.Errorf("cluster = %q, want %q", r.Attrs["cluster"], want)
			}
			types[r.Attrs["transition_type"]] = append(types[r.Attrs["transition_type"]], r)
		}
		for _, want := range []string{"detected", "announced", "switched", "invalidated", "recovered_456"} {
			if len(types[want]) == 0 {
				t.Errorf("no %q record; seen %v", want, slices.Sorted(mapKeys(types)))
			}
		}
		if a := types["announced"]; len(a) > 0 && (a[0].Attrs["strategy"] != "green" || !strings.HasPrefix(a[0].Attrs["query_id"], "blue-q-")) {
			t.Errorf("the announcement came on the in-flight blue query's call: %v", a[0].Attrs)
		}
		if r := types["recovered_456"]; len(r) > 0 && (r[0].Attrs["from"] != "green" || r[0].Attrs["strategy"] != "blue" || !strings.HasPrefix(r[0].Attrs["query_id"], "blue-q-")) {
			t.Errorf("recovered_456: %v", r[0].Attrs)
		}
		if inv := types["invalidated"]; len(inv) > 0 && inv[0].Attrs["strategy"] != "green" {
			t.Errorf("invalidated must name the stack found not live: %v", inv[0].Attrs)
		}
	})
}

func mapKeys[M ~map[K]V, K comparable, V any](m M) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// E6DATA_STRATEGY_LOG_LEVEL=DEBUG with E6DATA_LOG_LEVEL=ERROR: the
// strategy's records from DEBUG up, the connector's from ERROR up only.
func TestLoggingPerComponentLevelsFromEnvironment(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig})
		host, port, _ := net.SplitHostPort(srv.Addr())
		capt := newCapture()
		cfg, err := e6data.LoadConfig("", []string{
			"E6DATA_HOST=" + host, "E6DATA_PORT=" + port, "E6DATA_USERNAME=alice@example.com", "E6DATA_PASSWORD=" + logStaticToken,
			"E6DATA_CATALOG=sample", "E6DATA_DATABASE=main",
			"E6DATA_STRATEGY_LOG_LEVEL=DEBUG", "E6DATA_LOG_LEVEL=ERROR",
			"E6DATA_PASSWROD=typo", // a WARN diagnostic of the connector: must not show
		}, e6data.WithLogger(slog.New(capt)))
		if err != nil {
			t.Fatal(err)
		}
		ctr, err := e6data.NewConnector(cfg)
		if err != nil {
			t.Fatal(err)
		}
		db := sql.OpenDB(ctr)
		defer db.Close()
		var n int64
		if err := db.QueryRow("SELECT count(*) FROM customers").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if err := srv.Switch(context.Background(), 0, 0); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow("SELECT count(*) FROM customers").Scan(&n); err != nil {
			t.Fatal(err)
		}
		var strategy, connector []string
		for _, r := range capt.Records() {
			switch r.Attrs["component"] {
			case e6data.ComponentStrategy:
				strategy = append(strategy, r.Level.String()+" "+r.Msg)
			default:
				connector = append(connector, r.Level.String()+" "+r.Msg)
				if r.Level < slog.LevelError {
					t.Errorf("connector record below ERROR: %v %q", r.Level, r.Msg)
				}
			}
		}
		// (Records the connector's loggers are given directly at each
		// level, against the same settings: TestConnectorLoggersRedactRotatedTokens
		// in the root package.)
		if !slices.Contains(strategy, "INFO strategy detected") || len(strategy) < 3 {
			t.Errorf("strategy records %q", strategy)
		}
		if len(connector) != 0 {
			t.Errorf("connector records below ERROR from a workload that failed nowhere: %q", connector)
		}
	})
}
