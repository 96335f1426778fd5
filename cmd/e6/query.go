package main

import (
	"bufio"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/e6go/e6data"
)

// cmdQuery runs `e6 query [SQL]`: the statements of SQL (or of stdin) one
// after the other, each result in the chosen format.
func (a *app) cmdQuery(ctx context.Context, args []string) error {
	var outFile string
	pos, err := a.parseArgs("query", args, 0, 1, "query takes one SQL argument (quote it)", func(fs *flag.FlagSet) {
		fs.StringVar(&outFile, "out", "", "output `file` of -o parquet and -o arrow")
	})
	if err != nil {
		return err
	}
	if err := a.checkFormat(); err != nil && !columnar(a.format) {
		return err
	}
	var src string
	if len(pos) == 1 {
		src = pos[0]
	} else {
		b, err := io.ReadAll(a.stdin)
		if err != nil {
			return fmt.Errorf("reading SQL from stdin: %w", err)
		}
		src = string(b)
	}
	stmts, rest := splitStatements(src)
	if rest = strings.TrimSpace(rest); rest != "" {
		stmts = append(stmts, rest) // the last statement needs no ';'
	}
	if len(stmts) == 0 {
		return usagef("no SQL given")
	}
	if err := a.checkOut(outFile, len(stmts)); err != nil {
		return err
	}
	s, err := a.connect(false)
	if err != nil {
		return err
	}
	defer s.Close()
	for i, q := range stmts {
		if i > 0 && a.format == "table" {
			fmt.Fprintln(a.stdout)
		}
		if _, err := s.do(ctx, func(ctx context.Context) error {
			if columnar(a.format) {
				_, err := a.exportQuery(ctx, s.db, q, outFile)
				return err
			}
			_, err := a.runQuery(ctx, s.db, q)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// runQuery runs one statement and writes its result to stdout; it returns
// the number of rows. On a terminal (stdout and stderr both) a progress line
// on stderr shows the elapsed time and the rows so far while it runs.
func (a *app) runQuery(ctx context.Context, db *sql.DB, query string) (int64, error) {
	p := a.startProgress()
	defer p.stop()
	out := bufio.NewWriter(p.writer(a.stdout))
	n, err := a.writeResult(ctx, db, query, out, p)
	p.stop()
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	return n, err
}

func (a *app) writeResult(ctx context.Context, db *sql.DB, query string, out io.Writer, p *progress) (int64, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return 0, err
	}
	cols := make([]column, len(cts))
	for i, ct := range cts {
		cols[i] = column{name: ct.Name(), typ: ct.DatabaseTypeName()}
	}
	f, err := newFormatter(a.format, out, cols, a.expanded)
	if err != nil {
		return 0, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		if err := f.row(vals); err != nil {
			return n, err
		}
		n++
		p.rows.Store(n)
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	if err := rows.Close(); err != nil {
		return n, err
	}
	p.stop() // the progress line goes before the result is printed
	return n, f.end()
}

// Progress display timing.
const (
	progressDelay  = 300 * time.Millisecond // queries faster than this show nothing
	progressPeriod = 100 * time.Millisecond // at most 10 refreshes a second
)

// progress shows "elapsed, rows" on stderr while a query runs, on one line
// that is erased before any result output and when the query ends. It is
// inert unless both stdout and stderr are terminals.
type progress struct {
	rows     atomic.Int64
	w        io.Writer
	start    time.Time
	mu       sync.Mutex
	shown    bool
	quit     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

func (a *app) startProgress() *progress {
	p := &progress{w: a.stderr, start: time.Now(), quit: make(chan struct{})}
	if !isTerminal(a.stdout) || !isTerminal(a.stderr) {
		close(p.quit)
		p.stopOnce.Do(func() {})
		return p
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(progressPeriod)
		defer t.Stop()
		for {
			select {
			case <-p.quit:
				return
			case now := <-t.C:
				if el := now.Sub(p.start); el >= progressDelay {
					p.mu.Lock()
					fmt.Fprintf(p.w, "\r\x1b[K%s elapsed, %d rows (Ctrl-C cancels)", el.Round(100*time.Millisecond), p.rows.Load())
					p.shown = true
					p.mu.Unlock()
				}
			}
		}
	}()
	return p
}

// clearLocked erases the progress line; p.mu is held.
func (p *progress) clearLocked() {
	if p.shown {
		io.WriteString(p.w, "\r\x1b[K")
		p.shown = false
	}
}

// stop ends the display and erases the line; it may be called many times.
func (p *progress) stop() {
	p.stopOnce.Do(func() {
		close(p.quit)
		p.wg.Wait()
		p.mu.Lock()
		p.clearLocked()
		p.mu.Unlock()
	})
}

// writer returns w wrapped so that each write first erases the progress line.
func (p *progress) writer(w io.Writer) io.Writer { return clearingWriter{p, w} }

type clearingWriter struct {
	p *progress
	w io.Writer
}

func (c clearingWriter) Write(b []byte) (int, error) {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	c.p.clearLocked()
	return c.w.Write(b)
}

// cmdExplain runs `e6 explain [-analyze] SQL`.
func (a *app) cmdExplain(ctx context.Context, args []string) error {
	var analyze bool
	pos, err := a.parseArgs("explain", args, 1, 1, "explain takes one SQL argument (quote it)", func(fs *flag.FlagSet) {
		fs.BoolVar(&analyze, "analyze", false, "run the query and show the executed plan with timings")
	})
	if err != nil {
		return err
	}
	s, err := a.connect(false)
	if err != nil {
		return err
	}
	defer s.Close()
	_, err = s.do(ctx, func(ctx context.Context) error {
		return a.explain(ctx, s.db, strings.TrimSuffix(strings.TrimSpace(pos[0]), ";"), analyze)
	})
	return err
}

func (a *app) explain(ctx context.Context, db *sql.DB, query string, analyze bool) error {
	return e6data.Raw(ctx, db, func(c e6data.Conn) error {
		if !analyze {
			plan, err := c.Explain(ctx, query)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, strings.TrimRight(plan, "\n"))
			return nil
		}
		an, err := c.ExplainAnalyze(ctx, query)
		if err != nil {
			return err
		}
		fmt.Fprintln(a.stdout, strings.TrimRight(an.Plan, "\n"))
		fmt.Fprintf(a.stdout, "\nparsing: %v, queueing: %v, total: %v, cached: %v\n",
			an.ParsingTime, an.QueueingTime, an.TotalTime, an.Cached)
		return nil
	})
}
