// Command metrics serves the e6data connector's OpenTelemetry metrics at
// /metrics in the Prometheus text format, through the OpenTelemetry SDK and
// its Prometheus exporter. It starts e6sim, the local e6data-compatible
// engine, inside the process and keeps running queries on it, with a
// blue/green deployment now and then, until -duration passes or Ctrl-C:
//
//	go run ./examples/metrics
//	curl -s http://127.0.0.1:9464/metrics | grep '^e6data_'
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, nil)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode is the exit status for run's error, as in every example: 0 for
// -h (the usage was printed), 2 for bad flags, 1 for any other failure.
func exitCode(err error, stderr io.Writer) int {
	var bad badFlags
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &bad):
		return 2 // the flag package printed the problem and the usage
	}
	fmt.Fprintln(stderr, "metrics:", err)
	return 1
}

// badFlags is a command line the flag package refused.
type badFlags struct{ err error }

func (b badFlags) Error() string { return b.err.Error() }
func (b badFlags) Unwrap() error { return b.err }

// run serves the metrics until ctx ends or -duration passes. listening,
// when set, is called with the address once the first queries have run.
func run(ctx context.Context, args []string, out io.Writer, listening func(addr string)) error {
	fs := flag.NewFlagSet("metrics", flag.ContinueOnError)
	// -listen, not -addr: in the examples -addr is always an e6sim's engine
	// address.
	addr := fs.String("listen", "127.0.0.1:9464", "address to serve /metrics on")
	duration := fs.Duration("duration", 0, "stop this long after serving starts (0 = until Ctrl-C)")
	every := fs.Duration("every", time.Second, "pause between rounds of queries")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return badFlags{err}
	}
	if *every <= 0 {
		return errors.New("-every must be positive")
	}
	sim, err := e6sim.Start(ctx, e6sim.Config{})
	if err != nil {
		return err
	}
	defer sim.Close()

	// The OpenTelemetry SDK, read by the Prometheus exporter, which fills
	// its own registry (not the global one).
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return err
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	defer provider.Shutdown(context.Background())

	cfg, err := e6data.LoadConfig("e6data://demo%40example.com:demo-token@"+sim.Addr()+"/main?catalog=sample", nil,
		e6data.WithLogger(slog.New(slog.DiscardHandler)), e6data.WithMeterProvider(provider))
	if err != nil {
		return err
	}
	db, err := e6data.OpenDB(cfg) // OpenDB: the pool gauges report this pool
	if err != nil {
		return err
	}
	defer db.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() { srv.Close(); <-served }()
	fmt.Fprintf(out, "serving metrics on http://%s/metrics (e6sim on %s)\n", ln.Addr(), sim.Addr())
	var stop <-chan time.Time // -duration: stop at the end of the round it ends in
	if *duration > 0 {
		t := time.NewTimer(*duration)
		defer t.Stop()
		stop = t.C
	}

	tick := time.NewTicker(*every)
	defer tick.Stop()
rounds:
	for round := 1; ; round++ {
		if err := work(ctx, db, sim, round); err != nil {
			if ctx.Err() != nil { // Ctrl-C
				break rounds
			}
			return err
		}
		if round == 1 && listening != nil {
			listening(ln.Addr().String())
		}
		select {
		case <-ctx.Done():
			break rounds
		case <-stop:
			break rounds
		case <-tick.C:
		}
	}
	fmt.Fprintln(out, "stopped")
	return nil
}

// work runs one round of queries; every fifth round the cluster deploys
// the other stack (gracefully: the old one drains for two seconds).
func work(ctx context.Context, db *sql.DB, sim *e6sim.Server, round int) error {
	if round%5 == 0 {
		if err := sim.Switch(ctx, 2*time.Second, 0); err != nil {
			return err
		}
	}
	var orders int64
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM orders").Scan(&orders); err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, "SELECT id, s FROM numbers WHERE id < 20000")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}
