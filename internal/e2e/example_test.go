package e2e_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
)

// openExampleDB starts an in-process simulator and opens a *sql.DB on it.
// Against a real cluster only the host, port, credentials and TLS differ.
func openExampleDB() (db *sql.DB, stop func()) {
	ctx := context.Background()
	sim, err := e6sim.Start(ctx, e6sim.Config{}) // sample data, free loopback port
	if err != nil {
		log.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(sim.Addr())
	cfg, err := e6data.LoadConfig("", nil, // no DSN, no environment: options only
		e6data.WithSetting("host", host), e6data.WithSetting("port", port),
		e6data.WithCredentials("me@example.com", "my-token"),
		e6data.WithSetting("catalog", "sample"), e6data.WithSetting("database", "main"),
		e6data.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}
	db, err = e6data.OpenDB(cfg)
	if err != nil {
		log.Fatal(err)
	}
	return db, func() { db.Close(); sim.Close() }
}

// Raw reaches e6data operations database/sql has no words for: metadata
// listings, plans, dry runs, query status and cancel.
func Example_raw() {
	db, stop := openExampleDB()
	defer stop()
	ctx := context.Background()

	err := e6data.Raw(ctx, db, func(c e6data.Conn) error {
		cats, err := c.Catalogs(ctx)
		if err != nil {
			return err
		}
		for _, cat := range cats {
			fmt.Printf("catalog %s (default: %v)\n", cat.Name, cat.IsDefault)
		}
		tables, err := c.Tables(ctx, "", "main") // "" = the configured catalog
		if err != nil {
			return err
		}
		fmt.Println("tables:", tables)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// catalog sample (default: true)
	// tables: [all_types customers numbers orders]
}

// Columns lists a table's columns with their e6data type names.
func Example_connColumns() {
	db, stop := openExampleDB()
	defer stop()
	ctx := context.Background()

	err := e6data.Raw(ctx, db, func(c e6data.Conn) error {
		cols, err := c.Columns(ctx, "sample", "main", "customers")
		if err != nil {
			return err
		}
		for _, col := range cols {
			fmt.Printf("%-8s %s\n", col.Name, col.Type)
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// id       INTEGER
	// name     STRING
	// country  STRING
	// signup   DATE
	// vip      BOOLEAN
}

// Explain shows the plan of a statement without running it; ? parameters
// are rendered as for a query.
func Example_connExplain() {
	db, stop := openExampleDB()
	defer stop()
	ctx := context.Background()

	err := e6data.Raw(ctx, db, func(c e6data.Conn) error {
		plan, err := c.Explain(ctx, "SELECT name FROM customers WHERE country = ?", "GB")
		if err != nil {
			return err
		}
		fmt.Println(plan) // the server's plan text
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
}

// ExplainAnalyze runs the statement and reports the executed plan with its
// timings.
func Example_connExplainAnalyze() {
	db, stop := openExampleDB()
	defer stop()
	ctx := context.Background()

	err := e6data.Raw(ctx, db, func(c e6data.Conn) error {
		a, err := c.ExplainAnalyze(ctx, "SELECT g, count(*) FROM numbers GROUP BY g")
		if err != nil {
			return err
		}
		fmt.Println("parsing:", a.ParsingTime, "queued:", a.QueueingTime, "total:", a.TotalTime)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
}

// DryRun checks a statement without running it.
func Example_connDryRun() {
	db, stop := openExampleDB()
	defer stop()
	ctx := context.Background()

	err := e6data.Raw(ctx, db, func(c e6data.Conn) error {
		out, err := c.DryRun(ctx, "SELECT id, name FROM customers")
		if err != nil {
			return err
		}
		fmt.Println(out) // e6sim answers JSON; real clusters their own text
		_, err = c.DryRun(ctx, "SELECT nothing FROM nowhere")
		fmt.Println("invalid statement is ErrQueryFailed:", errors.Is(err, e6data.ErrQueryFailed))
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// {"valid":true,"columns":[{"name":"id","type":"INTEGER"},{"name":"name","type":"STRING"}],"parameters":[]}
	// invalid statement is ErrQueryFailed: true
}

// RawConn works on a connection pinned with db.Conn, so LastQueryID and
// Status refer to the queries run on it.
func Example_rawConn() {
	db, stop := openExampleDB()
	defer stop()
	ctx := context.Background()

	sc, err := db.Conn(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer sc.Close()
	rows, err := sc.QueryContext(ctx, "SELECT name FROM customers ORDER BY id")
	if err != nil {
		log.Fatal(err)
	}
	defer rows.Close()
	rows.Next()
	var first string
	if err := rows.Scan(&first); err != nil {
		log.Fatal(err)
	}
	err = e6data.RawConn(sc, func(c e6data.Conn) error {
		st, err := c.Status(ctx, c.LastQueryID())
		if err != nil {
			return err
		}
		fmt.Printf("%s: running=%v rows=%d\n", first, st.Running, st.RowCount)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// Ada Lovelace: running=true rows=10
}
