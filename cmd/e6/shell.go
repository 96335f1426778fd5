package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/e6go/e6data"
)

const shellHelp = `Statements end with ';' and may span lines. Commands:
  \l                         list catalogs
  \dn [catalog]              list schemas
  \dt [[catalog.]schema]     list tables (default: the configured catalog and database)
  \d [[catalog.]schema.]table  describe a table's columns
  \timing [on|off]           show how long each statement takes
  \x [on|off]                expanded output (one line per column)
  \? | \h                    this help
  \q                         quit (or Ctrl-D)
Ctrl-C cancels the running query (on the server too) or clears the input.
`

// errInterrupt is what a line reader returns for Ctrl-C at the prompt.
var errInterrupt = errors.New("interrupted")

// lineReader reads the shell's input lines.
type lineReader interface {
	readLine(prompt string) (string, error)
	Close() error
}

// cmdShell runs the interactive shell. On a terminal it has line editing
// and a history kept in the user cache directory (e6/history); otherwise it
// reads statements from stdin without prompts.
func (a *app) cmdShell(ctx context.Context, args []string) error {
	if _, err := a.parseArgs("shell", args, 0, 0, "shell takes no arguments (did you mean e6 query?)", nil); err != nil {
		return err
	}
	if err := a.checkFormat(); err != nil {
		return err
	}
	s, err := a.connect(true)
	if err != nil {
		return err
	}
	defer s.Close()

	var rd lineReader
	in, ok := a.stdin.(*os.File)
	if ok && term.IsTerminal(int(in.Fd())) && isTerminal(a.stdout) {
		rd = newTTYReader(in, a.stdout, openHistory(a.stderr))
		fmt.Fprintf(a.stdout, "e6 shell on %s; \\? for help, \\q to quit.\n", s.cfg.Host)
	} else {
		sc := bufio.NewScanner(a.stdin)
		sc.Buffer(nil, 16<<20)
		rd = plainReader{sc}
	}
	defer rd.Close()
	_, tty := rd.(*ttyReader)
	sh := &shell{app: a, s: s, rd: rd, interactive: tty}
	return sh.loop(ctx)
}

type shell struct {
	*app
	s     *session
	rd    lineReader
	buf   string
	fails int
	// interactive is true on a terminal; otherwise the exit status says
	// whether a statement failed.
	interactive bool
}

func (sh *shell) loop(ctx context.Context) error {
	for {
		prompt := "e6> "
		if sh.buf != "" {
			prompt = "e6*> "
		}
		line, err := sh.rd.readLine(prompt)
		switch {
		case errors.Is(err, errInterrupt):
			sh.buf = ""
			continue
		case errors.Is(err, io.EOF):
			if rest := strings.TrimSpace(sh.buf); rest != "" && !sh.interactive {
				sh.exec(ctx, rest) // the last statement of piped input needs no ';'
			}
			if sh.fails > 0 && !sh.interactive {
				return errExit // piped input: say that a statement failed
			}
			return nil
		case err != nil:
			return err
		}
		if sh.buf == "" && strings.HasPrefix(strings.TrimSpace(line), `\`) {
			if sh.meta(ctx, strings.TrimSpace(line)) {
				return nil
			}
			continue
		}
		sh.buf += line + "\n"
		stmts, rest := splitStatements(sh.buf)
		sh.buf = rest
		for _, q := range stmts {
			if !sh.exec(ctx, q) {
				sh.buf = "" // a cancelled statement drops the rest of the input
				break
			}
		}
	}
}

// exec runs one statement; false when it was cancelled.
func (sh *shell) exec(ctx context.Context, q string) bool {
	start := time.Now()
	interrupted, err := sh.s.do(ctx, func(ctx context.Context) error {
		_, err := sh.runQuery(ctx, sh.s.db, q)
		return err
	})
	if err != nil {
		sh.fail(err)
	}
	if sh.timing {
		fmt.Fprintf(sh.stdout, "Time: %.3f ms\n", float64(time.Since(start).Microseconds())/1000)
	}
	return !interrupted
}

func (sh *shell) fail(err error) {
	sh.fails++
	fmt.Fprintf(sh.stderr, "ERROR: %v\n", err)
}

// meta runs a backslash command; true means quit.
func (sh *shell) meta(ctx context.Context, line string) bool {
	fields := strings.Fields(line)
	cmd, args := fields[0], fields[1:]
	onOff := func(cur *bool, what string) {
		switch {
		case len(args) == 0:
			*cur = !*cur
		case args[0] == "on":
			*cur = true
		case args[0] == "off":
			*cur = false
		default:
			fmt.Fprintf(sh.stderr, "%s: want on or off\n", cmd)
			return
		}
		state := "off"
		if *cur {
			state = "on"
		}
		fmt.Fprintf(sh.stdout, "%s is %s.\n", what, state)
	}
	cfg := sh.s.cfg
	switch cmd {
	case `\q`:
		return true
	case `\?`, `\h`:
		fmt.Fprint(sh.stdout, shellHelp)
	case `\timing`:
		onOff(&sh.timing, "Timing")
	case `\x`:
		onOff(&sh.expanded, "Expanded display")
	case `\l`:
		sh.listing(ctx, []column{{name: "catalog"}, {name: "default"}}, func(c e6data.Conn, qctx context.Context) ([][]any, error) {
			cats, err := c.Catalogs(qctx)
			var rows [][]any
			for _, ct := range cats {
				rows = append(rows, []any{ct.Name, ct.IsDefault})
			}
			return rows, err
		})
	case `\dn`:
		catalog := cfg.Catalog
		if len(args) > 0 {
			catalog = args[0]
		}
		sh.listing(ctx, []column{{name: "schema"}}, func(c e6data.Conn, qctx context.Context) ([][]any, error) {
			names, err := c.Schemas(qctx, catalog)
			return oneColumn(names), err
		})
	case `\dt`:
		catalog, schema := cfg.Catalog, cfg.Database
		if len(args) > 0 {
			parts := strings.Split(args[0], ".")
			switch len(parts) {
			case 1:
				schema = parts[0]
			case 2:
				catalog, schema = parts[0], parts[1]
			default:
				fmt.Fprintln(sh.stderr, `\dt: want [catalog.]schema`)
				return false
			}
		}
		sh.listing(ctx, []column{{name: "table"}}, func(c e6data.Conn, qctx context.Context) ([][]any, error) {
			names, err := c.Tables(qctx, catalog, schema)
			return oneColumn(names), err
		})
	case `\d`:
		if len(args) != 1 {
			fmt.Fprintln(sh.stderr, `\d: want [[catalog.]schema.]table`)
			return false
		}
		catalog, schema := cfg.Catalog, cfg.Database
		parts := strings.Split(args[0], ".")
		table := parts[len(parts)-1]
		switch len(parts) {
		case 1:
		case 2:
			schema = parts[0]
		case 3:
			catalog, schema = parts[0], parts[1]
		default:
			fmt.Fprintln(sh.stderr, `\d: want [[catalog.]schema.]table`)
			return false
		}
		sh.listing(ctx, []column{{name: "column"}, {name: "type"}}, func(c e6data.Conn, qctx context.Context) ([][]any, error) {
			cols, err := c.Columns(qctx, catalog, schema, table)
			var rows [][]any
			for _, ci := range cols {
				rows = append(rows, []any{ci.Name, ci.Type})
			}
			return rows, err
		})
	default:
		fmt.Fprintf(sh.stderr, "unknown command %s (\\? lists them)\n", cmd)
	}
	return false
}

func oneColumn(names []string) [][]any {
	rows := make([][]any, len(names))
	for i, n := range names {
		rows[i] = []any{n}
	}
	return rows
}

// listing runs a catalog call and prints its result in the output format.
func (sh *shell) listing(ctx context.Context, cols []column, get func(c e6data.Conn, ctx context.Context) ([][]any, error)) {
	var rows [][]any
	_, err := sh.s.do(ctx, func(ctx context.Context) error {
		return e6data.Raw(ctx, sh.s.db, func(c e6data.Conn) error {
			var err error
			rows, err = get(c, ctx)
			return err
		})
	})
	if err == nil {
		var f formatter
		if f, err = newFormatter(sh.format, sh.stdout, cols, sh.expanded); err == nil {
			for _, r := range rows {
				if err = f.row(r); err != nil {
					break
				}
			}
			if err == nil {
				err = f.end()
			}
		}
	}
	if err != nil {
		sh.fail(err)
	}
}

// plainReader reads lines from a non-terminal, without prompts.
type plainReader struct{ sc *bufio.Scanner }

func (r plainReader) readLine(string) (string, error) {
	if r.sc.Scan() {
		return r.sc.Text(), nil
	}
	if err := r.sc.Err(); err != nil {
		return "", err
	}
	return "", io.EOF
}

func (plainReader) Close() error { return nil }

// ttyReader reads lines with golang.org/x/term's line editor, in raw mode
// only while a line is being read: while a statement runs the terminal is
// in its normal mode, so that Ctrl-C raises SIGINT, which cancels it.
type ttyReader struct {
	in   *os.File
	out  io.Writer
	w    *ctrlCWatcher
	t    *term.Terminal
	hist *history
}

// ctrlCWatcher passes input through and notes whether it held a Ctrl-C,
// which term.Terminal reports like Ctrl-D (io.EOF).
type ctrlCWatcher struct {
	r   io.Reader
	saw bool
}

func (c *ctrlCWatcher) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for _, b := range p[:n] {
		if b == 3 {
			c.saw = true
		}
	}
	return n, err
}

func newTTYReader(in *os.File, out io.Writer, h *history) *ttyReader {
	r := &ttyReader{in: in, out: out, w: &ctrlCWatcher{r: in}, hist: h}
	r.reset()
	return r
}

// reset starts a fresh line editor (after Ctrl-C, to drop the typed line).
func (r *ttyReader) reset() {
	r.t = term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{r.w, r.out}, "")
	r.t.History = r.hist
}

func (r *ttyReader) readLine(prompt string) (string, error) {
	fd := int(r.in.Fd())
	old, err := term.MakeRaw(fd)
	if err != nil {
		return "", err
	}
	defer term.Restore(fd, old)
	if f, ok := r.out.(*os.File); ok {
		if w, h, err := term.GetSize(int(f.Fd())); err == nil {
			r.t.SetSize(w, h)
		}
	}
	r.t.SetPrompt(prompt)
	r.w.saw = false
	line, err := r.t.ReadLine()
	if errors.Is(err, io.EOF) && r.w.saw {
		io.WriteString(r.out, "^C\r\n")
		r.reset()
		return "", errInterrupt
	}
	if errors.Is(err, term.ErrPasteIndicator) {
		err = nil
	}
	if errors.Is(err, io.EOF) {
		io.WriteString(r.out, "\r\n")
	}
	return line, err
}

func (r *ttyReader) Close() error { return nil }

// history is the shell's bounded line history, kept in a file.
type history struct {
	lines []string // oldest first
	path  string   // "" when not persisted
	warn  io.Writer
}

const historyMax = 1000

// openHistory loads the history from the user cache directory.
func openHistory(warn io.Writer) *history {
	h := &history{warn: warn}
	dir, err := os.UserCacheDir()
	if err != nil {
		return h
	}
	h.path = filepath.Join(dir, "e6", "history")
	b, err := os.ReadFile(h.path)
	if err != nil {
		return h
	}
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" {
			h.lines = append(h.lines, l)
		}
	}
	if len(h.lines) > historyMax {
		h.lines = h.lines[len(h.lines)-historyMax:]
		h.rewrite()
	}
	return h
}

func (h *history) rewrite() {
	if err := os.WriteFile(h.path, []byte(strings.Join(h.lines, "\n")+"\n"), 0o600); err != nil {
		h.disable(err)
	}
}

func (h *history) disable(err error) {
	fmt.Fprintf(h.warn, "e6: history not saved: %v\r\n", err)
	h.path = ""
}

// Add implements term.History.
func (h *history) Add(entry string) {
	if strings.TrimSpace(entry) == "" || len(h.lines) > 0 && h.lines[len(h.lines)-1] == entry {
		return
	}
	h.lines = append(h.lines, entry)
	if h.path == "" {
		return
	}
	if len(h.lines) > 2*historyMax {
		h.lines = h.lines[len(h.lines)-historyMax:]
		h.rewrite()
		return
	}
	if err := os.MkdirAll(filepath.Dir(h.path), 0o700); err != nil {
		h.disable(err)
		return
	}
	f, err := os.OpenFile(h.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		h.disable(err)
		return
	}
	_, err = fmt.Fprintln(f, entry)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		h.disable(err)
	}
}

// Len implements term.History.
func (h *history) Len() int { return min(len(h.lines), historyMax) }

// At implements term.History: 0 is the most recent entry.
func (h *history) At(i int) string { return h.lines[len(h.lines)-1-i] }
