package e6arrow_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6arrow"
)

// Reading a result as Arrow records and summing a column.
func ExampleQuery() {
	ctx := context.Background()
	db, err := sql.Open(e6data.DriverName, os.Getenv("E6DATA_DSN"))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	rdr, err := e6arrow.Query(ctx, db, "SELECT id, x FROM numbers WHERE id < ?", 1000)
	if err != nil {
		panic(err)
	}
	defer rdr.Release()
	var sum float64
	for rdr.Next() {
		xs := rdr.RecordBatch().Column(1).(*array.Float64)
		for _, x := range xs.Float64Values() {
			sum += x
		}
	}
	if err := rdr.Err(); err != nil {
		panic(err)
	}
	fmt.Println(sum)
}

// Writing a result to a Parquet file, one row group per record.
func ExampleQuery_parquet() {
	ctx := context.Background()
	db, err := sql.Open(e6data.DriverName, os.Getenv("E6DATA_DSN"))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	rdr, err := e6arrow.Query(ctx, db, "SELECT * FROM orders")
	if err != nil {
		panic(err)
	}
	defer rdr.Release()
	f, err := os.Create("orders.parquet")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	w, err := pqarrow.NewFileWriter(rdr.Schema(), f, nil, pqarrow.DefaultWriterProps())
	if err != nil {
		panic(err)
	}
	for rdr.Next() {
		if err := w.Write(rdr.RecordBatch()); err != nil {
			panic(err)
		}
	}
	if err := rdr.Err(); err != nil {
		panic(err)
	}
	if err := w.Close(); err != nil { // also closes f
		panic(err)
	}
}
