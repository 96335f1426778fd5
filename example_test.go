package e6data_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"

	"github.com/e6go/e6data"
)

// openExampleDB opens a *sql.DB on a cluster. (These examples are
// compiled, not run, here: their runnable copies, with the output they
// print against e6sim, are in internal/e2e/example_test.go.)
func openExampleDB() (db *sql.DB, stop func()) {
	db, err := sql.Open(e6data.DriverName, "e6data://me%40example.com:my-token@engine.example.com:443/main?catalog=sample&secure=true")
	if err != nil {
		log.Fatal(err)
	}
	return db, func() { db.Close() }
}

// Raw reaches e6data operations database/sql has no words for: metadata
// listings, plans, dry runs, query status and cancel.
func ExampleRaw() {
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
}

// Columns lists a table's columns with their e6data type names.
func ExampleConn_columns() {
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
}

// Explain shows the plan of a statement without running it; ? parameters
// are rendered as for a query.
func ExampleConn_explain() {
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
func ExampleConn_explainAnalyze() {
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
func ExampleConn_dryRun() {
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
}

// RawConn works on a connection pinned with db.Conn, so LastQueryID and
// Status refer to the queries run on it.
func ExampleRawConn() {
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
}
