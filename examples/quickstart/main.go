// Command quickstart shows the e6data connector through database/sql. With
// no flags it starts e6sim, the local e6data-compatible engine, inside the
// process, so it runs anywhere with nothing else installed:
//
//	go run ./examples/quickstart
//
// With -dsn it talks to a real cluster (or a running e6sim) instead:
//
//	go run ./examples/quickstart -dsn 'e6data://me%40corp.com:TOKEN@host:443/sales?catalog=hive&secure=true'
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
)

func main() {
	os.Exit(exitCode(run(context.Background(), os.Args[1:], os.Stdout), os.Stderr))
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
	fmt.Fprintln(stderr, "quickstart:", err)
	return 1
}

// badFlags is a command line the flag package refused.
type badFlags struct{ err error }

func (b badFlags) Error() string { return b.err.Error() }
func (b badFlags) Unwrap() error { return b.err }

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	dsn := fs.String("dsn", "", "e6data DSN of a cluster; empty = start an in-process simulator")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return badFlags{err}
	}

	var sim *e6sim.Server
	if *dsn == "" {
		var err error
		sim, err = e6sim.Start(ctx, e6sim.Config{}) // free loopback port, sample data
		if err != nil {
			return err
		}
		defer sim.Close()
		*dsn = "e6data://demo%40example.com:demo-token@" + sim.Addr() + "/main?catalog=sample"
		fmt.Fprintf(out, "started e6sim on %s (live strategy %s)\n\n", sim.Addr(), sim.Live())
	}

	// The DSN wins over E6DATA_* environment variables, which win over defaults.
	cfg, err := e6data.LoadConfig(*dsn, os.Environ(), e6data.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return err
	}
	db, err := e6data.OpenDB(cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()

	// 1. A join with a parameter.
	fmt.Fprintln(out, "Customers with orders over 100 (since 2023-01-10):")
	rows, err := db.QueryContext(ctx, `
		SELECT c.name, c.country, count(*) AS orders, sum(o.amount) AS total
		FROM customers c JOIN orders o ON o.customer_id = c.id
		WHERE o.amount > ? AND o.ordered_at >= ?
		GROUP BY c.name, c.country
		ORDER BY total DESC, c.name`, e6data.Decimal("100"), time.Date(2023, 1, 10, 0, 0, 0, 0, time.UTC))
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  name\tcountry\torders\ttotal")
	for rows.Next() {
		var name string
		var country sql.NullString
		var orders int64
		var total e6data.Decimal // exact: DECIMAL128 up to 38 digits
		if err := rows.Scan(&name, &country, &orders, &total); err != nil {
			return err
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\n", name, country.String, orders, total)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	tw.Flush()

	// 2. Column types as the connector reports them.
	rows, err = db.QueryContext(ctx, "SELECT c_bigint, c_decimal_38_10, c_timestamptz, c_blob, c_list FROM all_types WHERE id = 2")
	if err != nil {
		return err
	}
	cols, _ := rows.ColumnTypes()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	fmt.Fprintln(out, "\nOne row of all_types, with its e6data types:")
	tw = tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	for i, c := range cols {
		fmt.Fprintf(tw, "  %s\t%s\t%T\t%v\n", c.Name(), c.DatabaseTypeName(), vals[i], vals[i])
	}
	tw.Flush()

	// 3. A blue/green deployment in the middle of a streaming query.
	if sim != nil {
		fmt.Fprintln(out, "\nStreaming 1,000,000 rows while the cluster deploys green (blue drains):")
		rows, err := db.QueryContext(ctx, "SELECT id, s FROM numbers")
		if err != nil {
			return err
		}
		var n, sum int64
		for rows.Next() {
			var id int64
			var s string
			if err := rows.Scan(&id, &s); err != nil {
				return err
			}
			n++
			sum += id
			if n == 250_000 {
				// A drain far longer than the stream needs, even on a
				// loaded machine: blue is not torn down under it.
				if err := sim.Switch(ctx, 10*time.Minute, 0); err != nil {
					return err
				}
				// The connector learns of the switch from the first
				// answer that announces green (or a 456 from blue): the
				// first new query may still run on blue, the ones after
				// it run on green. The streaming query stays on blue.
				before := sim.Stats()
				for i := 0; i < 3; i++ {
					var c int64
					if err := db.QueryRowContext(ctx, "SELECT count(*) FROM orders").Scan(&c); err != nil {
						return err
					}
				}
				after := sim.Stats()
				fmt.Fprintf(out, "  switched to %s after %d rows; 3 new queries meanwhile: %d on blue (before the announcement reached the connector), %d on green\n",
					sim.Live(), n, after.Stacks["blue"].QueriesStarted-before.Stacks["blue"].QueriesStarted,
					after.Stacks["green"].QueriesStarted-before.Stacks["green"].QueriesStarted)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		fmt.Fprintf(out, "  the old query finished on blue: %d rows, sum(id) = %d\n", n, sum)
		st := sim.Stats()
		fmt.Fprintf(out, "  queries executed in all: blue %d, green %d; errors seen by the application: 0\n",
			st.Stacks["blue"].QueriesStarted, st.Stacks["green"].QueriesStarted)
	}
	return nil
}
