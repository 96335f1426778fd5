// Command zero-downtime shows the e6data connector riding through blue/green
// deployments, suspensions and expired sessions: N workers run queries whose
// answers are known and check every row, while the cluster is deployed again
// and again. It starts e6sim in-process by default:
//
//	go run ./examples/zero-downtime                       # 64 workers, 30 s, mixed events every 2 s
//	go run ./examples/zero-downtime -mode abrupt -duration 60s
//
// or drives a running e6sim through its admin endpoint:
//
//	go run ./cmd/e6sim &
//	go run ./examples/zero-downtime -addr 127.0.0.1:50051 -admin http://127.0.0.1:50052
//
// It ends with one line
//
//	RESULT queries=N failed=N wrong=N interrupted=N transitions=N resumes=N p50=… p99=… converge_p99=…
//
// and exits 1 if any query failed or returned wrong rows, or was interrupted
// without the simulator having torn its stack down under it. Interrupted
// queries (ErrQueryInterrupted: a teardown ended a query after it had
// delivered rows, which is never re-run) come from abrupt deployments,
// suspensions, and graceful ones whose drain ended before the query did.
// Each event waits, beyond -flip-every, until every worker has finished a
// query since the previous one (-follow-work=false turns that off).
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
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
	"github.com/e6go/e6data/internal/chaos"
	"github.com/e6go/e6data/internal/chaos/e6chaos"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("zero-downtime", flag.ContinueOnError)
	fs.SetOutput(stderr)
	workers := fs.Int("workers", 64, "worker goroutines running queries")
	duration := fs.Duration("duration", 30*time.Second, "how long to run")
	flipEvery := fs.Duration("flip-every", 2*time.Second, "pause between deployment events")
	modeName := fs.String("mode", "mixed", "events: graceful (switch with drain), abrupt (drain 0), mixed (graceful, abrupt, announce-then-switch, suspend, expire sessions), none")
	drain := fs.Duration("drain", 1500*time.Millisecond, "drain period of graceful switches (keep it below -flip-every)")
	followWork := fs.Bool("follow-work", true, "each event also waits until every worker has finished a query since the previous one")
	announce := fs.Duration("announce", 500*time.Millisecond, "announce phase of announce-then-switch events")
	addr := fs.String("addr", "", "engine address (host:port) of a running e6sim; default: start one in-process")
	admin := fs.String("admin", "", "admin endpoint (http://host:port) of the e6sim given by -addr")
	adminToken := fs.String("admin-token", "", "admin token of that e6sim, if it has one")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "seed of the workers' random choices")
	verbose := fs.Bool("v", false, "log the connector's strategy transitions to stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // the usage was printed: -h is not a failure
		}
		return 2
	}
	mode, err := chaos.ParseMode(*modeName)
	if err != nil || fs.NArg() > 0 || *workers < 1 || *duration <= 0 || *flipEvery <= 0 {
		if err == nil {
			err = errors.New("bad arguments")
		}
		fmt.Fprintln(stderr, "zero-downtime:", err)
		fs.Usage()
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "zero-downtime:", err)
		return 1
	}

	var target chaos.Target
	engine := *addr
	if engine == "" {
		sim, err := e6sim.Start(ctx, e6sim.Config{ChunkRows: 1000, ResumeDuration: 500 * time.Millisecond})
		if err != nil {
			return fail(err)
		}
		defer sim.Close()
		engine, target = sim.Addr(), chaos.Sim(sim)
		fmt.Fprintf(stdout, "started e6sim on %s (live strategy %s)\n", engine, sim.Live())
	} else {
		if *admin == "" {
			return fail(errors.New("-addr needs -admin, the simulator's admin endpoint"))
		}
		if target, err = chaos.Admin(*admin, *adminToken); err != nil {
			return fail(err)
		}
	}
	host, port, err := net.SplitHostPort(engine)
	if err != nil {
		return fail(fmt.Errorf("-addr %q: %w", engine, err))
	}

	logger := slog.New(slog.DiscardHandler)
	if *verbose {
		logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	cfg, err := e6data.LoadConfig("", nil,
		e6data.WithSetting("host", host), e6data.WithSetting("port", port), e6data.WithCredentials("demo@example.com", "demo-token"),
		e6data.WithSetting("catalog", "sample"), e6data.WithSetting("database", "main"),
		e6data.WithPool(*workers, 1, 0, 0),
		// Poll a resuming cluster often: the simulator resumes in moments.
		e6data.WithSetting("ResumePollInterval", "0.2"),
		e6data.WithLogger(logger))
	if err != nil {
		return fail(err)
	}
	ctr, err := e6data.NewConnector(cfg)
	if err != nil {
		return fail(err)
	}
	db := sql.OpenDB(ctr)
	defer db.Close()
	ctr.ConfigurePool(db)
	db.SetMaxIdleConns(*workers) // every worker keeps its session between queries

	fmt.Fprintf(stdout, "%d workers for %v, mode %s, an event every %v (drain %v)\n", *workers, *duration, mode, *flipEvery, *drain)
	tty := isTerminal(stdout)
	every := 5 * time.Second
	if tty {
		every = 250 * time.Millisecond
	}
	width := 0
	res, err := chaos.Run(ctx, db, chaos.Config{
		Workers: *workers, Duration: *duration,
		Mix:        chaos.Mix{Agg: 4, Scan: 3, Join: 2, Stream: 1},
		StreamRows: 10000,
		Target:     target, Mode: mode, FlipEvery: *flipEvery, Drain: *drain, Announce: *announce,
		WaitForWorkers: *followWork,
		Driver:         e6chaos.Driver(ctr), Seed: *seed,
		ProgressEvery: every,
		Progress: func(p chaos.Progress) {
			line := fmt.Sprintf("%6.1fs  queries %d  failed %d  wrong %d  interrupted %d  transitions %d  live %s",
				p.Elapsed.Seconds(), p.Queries, p.Failed, p.Wrong, p.Interrupted, p.Transitions, p.Live)
			if !tty {
				fmt.Fprintln(stdout, line)
				return
			}
			pad := max(width-len(line), 0)
			width = len(line)
			fmt.Fprintf(stdout, "\r%s%s", line, strings.Repeat(" ", pad))
		},
	})
	if tty && width > 0 {
		fmt.Fprintln(stdout)
	}
	if err != nil {
		return fail(err)
	}
	fmt.Fprintln(stdout, res.Details())
	fmt.Fprintln(stdout, res.Line())
	if res.Failed != 0 || res.Wrong != 0 || res.Unexplained > 0 {
		return 1
	}
	return 0
}

// isTerminal reports whether w is a character device (a terminal), where
// the progress line may be redrawn in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
