package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/e6go/e6data/e6arrow"
)

// Columnar export: `e6 query -o parquet --out FILE` and `-o arrow` (the
// Arrow IPC file format). The result is read as Arrow records, one per
// engine batch, and written as it arrives, so memory stays flat for any
// result size: a Parquet row group is cut at parquetGroupRows rows or
// parquetGroupBytes encoded bytes, whichever comes first.
const (
	parquetGroupRows  = 1 << 20
	parquetGroupBytes = 32 << 20
)

// columnar reports whether format is written from Arrow records.
func columnar(format string) bool { return format == "parquet" || format == "arrow" }

// recordSink writes records to a file.
type recordSink interface {
	write(rec arrow.RecordBatch) error
	close() error
}

// exportQuery runs query and writes its result to the file path in the
// columnar format; it returns the number of rows. The file is created
// first and removed again if the query fails.
func (a *app) exportQuery(ctx context.Context, db *sql.DB, query, path string) (n int64, err error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	defer func() {
		if ferr := bw.Flush(); err == nil {
			err = ferr
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	p := a.startProgress()
	defer p.stop()
	rdr, err := e6arrow.Query(ctx, db, query)
	if err != nil {
		return 0, err
	}
	defer rdr.Release()
	// The writers close an io.Closer they are given: they get a plain
	// writer, the file is closed here.
	sink, err := newSink(a.format, struct{ io.Writer }{bw}, rdr.Schema())
	if err != nil {
		return 0, err
	}
	for rdr.Next() {
		rec := rdr.RecordBatch()
		if err := sink.write(rec); err != nil {
			sink.close()
			return n, err
		}
		n += rec.NumRows()
		p.rows.Store(n)
	}
	if err := rdr.Err(); err != nil {
		sink.close()
		return n, err
	}
	p.stop()
	return n, sink.close()
}

func newSink(format string, w io.Writer, schema *arrow.Schema) (recordSink, error) {
	switch format {
	case "parquet":
		props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy),
			parquet.WithMaxRowGroupLength(parquetGroupRows))
		fw, err := pqarrow.NewFileWriter(schema, w, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
		if err != nil {
			return nil, err
		}
		return &parquetSink{fw: fw}, nil
	case "arrow":
		fw, err := ipc.NewFileWriter(w, ipc.WithSchema(schema))
		if err != nil {
			return nil, err
		}
		return ipcSink{fw}, nil
	}
	return nil, fmt.Errorf("no columnar format %q", format)
}

type parquetSink struct {
	fw     *pqarrow.FileWriter
	closed bool
}

func (s *parquetSink) write(rec arrow.RecordBatch) error {
	if err := s.fw.WriteBuffered(rec); err != nil {
		s.closed = true // WriteBuffered closes the writer on failure
		return err
	}
	if s.fw.RowGroupTotalBytesWritten() >= parquetGroupBytes {
		s.fw.NewBufferedRowGroup()
	}
	return nil
}

func (s *parquetSink) close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	return s.fw.Close()
}

type ipcSink struct{ fw *ipc.FileWriter }

func (s ipcSink) write(rec arrow.RecordBatch) error { return s.fw.Write(rec) }
func (s ipcSink) close() error                      { return s.fw.Close() }

// checkOut validates --out against the format.
func (a *app) checkOut(out string, statements int) error {
	switch {
	case columnar(a.format) && out == "":
		return usagef("-o %s writes a file: give --out FILE", a.format)
	case !columnar(a.format) && out != "":
		return usagef("--out is for -o parquet and -o arrow")
	case columnar(a.format) && statements != 1:
		return usagef("-o %s writes the result of one statement; %d given", a.format, statements)
	}
	return nil
}
