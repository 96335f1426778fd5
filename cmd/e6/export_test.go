package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/creack/pty"

	"github.com/e6go/e6data"
)

// simDB is a database/sql handle on the shared simulator.
func simDB(t *testing.T) *sql.DB {
	t.Helper()
	setup(t)
	host, port, _ := net.SplitHostPort(sim.Addr())
	p, _ := strconv.Atoi(port)
	cfg, err := e6data.LoadConfig("", nil, e6data.WithSetting("Host", host), e6data.WithSetting("Port", strconv.Itoa(p)),
		e6data.WithCredentials("tester@example.com", "secret-token"), e6data.WithSetting("Catalog", "sample"),
		e6data.WithSetting("Database", "main"), e6data.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ctr, err := e6data.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(ctr)
	t.Cleanup(func() { db.Close() })
	return db
}

func scanAll(t *testing.T, db *sql.DB, query string) ([]string, [][]any) {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return cols, out
}

// equalValue compares a value read back from Parquet with the source's:
// times as instants, decimals as numbers, the rest exactly.
func equalValue(got, want any) bool {
	switch w := want.(type) {
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w)
	case e6data.Decimal:
		g, ok := got.(e6data.Decimal)
		if !ok {
			return false
		}
		x, _ := new(big.Rat).SetString(string(g))
		y, _ := new(big.Rat).SetString(string(w))
		return x != nil && y != nil && x.Cmp(y) == 0
	case []byte:
		g, ok := got.([]byte)
		return ok && bytes.Equal(g, w)
	}
	return got == want
}

// `e6 query -o parquet` of all_types, read back by DuckDB (read_parquet in
// the simulator's engine), equals the source table.
func TestParquetExportReadBackByDuckDB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "all_types.parquet")
	r := e6(t, simEnv(t), "", "query", "-o", "parquet", "--out", path, "SELECT * FROM all_types ORDER BY id")
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	db := simDB(t)
	cols, want := scanAll(t, db, "SELECT * FROM all_types ORDER BY id")
	gotCols, got := scanAll(t, db, "SELECT * FROM read_parquet('"+path+"') ORDER BY id")
	if strings.Join(gotCols, ",") != strings.Join(cols, ",") {
		t.Fatalf("columns %v, want %v", gotCols, cols)
	}
	if len(got) != len(want) || len(want) != 4 {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		for c := range want[i] {
			if !equalValue(got[i][c], want[i][c]) {
				t.Errorf("row %d %s: read back %#v, source %#v", i+1, cols[c], got[i][c], want[i][c])
			}
		}
	}
}

// `e6 query -o arrow` writes an Arrow IPC file with every row; the usage
// errors of --out.
func TestArrowExportAndUsage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "numbers.arrow")
	r := e6(t, simEnv(t), "", "query", "-o", "arrow", "--out", path, "SELECT id, x, s FROM numbers WHERE id < 25000")
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	f, err := openFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := ipc.NewFileReader(f, ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var n int64
	for i := range rd.NumRecords() {
		rec, err := rd.RecordBatchAt(i)
		if err != nil {
			t.Fatal(err)
		}
		n += rec.NumRows()
		rec.Release()
	}
	if n != 25000 || rd.Schema().NumFields() != 3 {
		t.Fatalf("%d rows, schema %v", n, rd.Schema())
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"query", "-o", "parquet", "SELECT 1"}, "give --out FILE"},
		{[]string{"query", "--out", "x", "SELECT 1"}, "--out is for -o parquet and -o arrow"},
		{[]string{"query", "-o", "arrow", "--out", "x", "SELECT 1; SELECT 2"}, "one statement; 2 given"},
	} {
		r := e6(t, simEnv(t), "", tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	// A failed query leaves no file behind.
	bad := filepath.Join(t.TempDir(), "bad.parquet")
	if r := e6(t, simEnv(t), "", "query", "-o", "parquet", "--out", bad, "SELECT nope"); r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	if _, err := openFile(bad); err == nil {
		t.Fatal("the file of a failed query is left behind")
	}
}

func openFile(path string) (*os.File, error) { return os.Open(path) }

// On a terminal the export shows its progress (elapsed time and rows
// written); Ctrl-C cancels the query on the server and removes the file.
func TestExportProgressAndInterruptPTY(t *testing.T) {
	setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	path := filepath.Join(t.TempDir(), "big.parquet")
	cmd := exec.CommandContext(ctx, e6bin, "query", "-o", "parquet", "--out", path, "SELECT range AS id, 'row-' || range AS s FROM range(2000000000)")
	cmd.Env = simEnv(t)
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	p := &ptyTerm{t: t, ptmx: ptmx, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		io.Copy(&p.out, ptmx)
	}()
	defer func() {
		cmd.Process.Kill()
		ptmx.Close()
		<-p.done
		if t.Failed() {
			t.Logf("terminal output:\n%q", p.out.String())
		}
	}()
	before := sim.Stats().Cancels
	p.expect("elapsed, ")
	waitFor(t, "rows in the progress line", func() bool {
		return regexp.MustCompile(`elapsed, [1-9][0-9]* rows`).MatchString(p.out.String())
	})
	p.send("\x03")
	p.expect("query cancelled")
	if err := cmd.Wait(); err == nil {
		t.Fatal("exit 0 after Ctrl-C")
	}
	waitFor(t, "the server-side cancel", func() bool { return sim.Stats().Cancels > before })
	waitFor(t, "the query to close on the server", func() bool { return openQueries() == 0 })
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the interrupted export left %s behind (%v)", path, err)
	}
}
