package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"

	"golang.org/x/term"

	"github.com/e6go/e6data"
)

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// app is one invocation of the command: its streams, environment and the
// options shared by the subcommands.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	environ        []string
	// signals starts delivering interrupts (Ctrl-C) on the returned
	// channel until stop is called.
	signals func() (ch <-chan os.Signal, stop func())

	dsn      string
	format   string
	expanded bool
	timing   bool
}

func notifyInterrupt() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	return ch, func() { signal.Stop(ch) }
}

// usageError is a problem with the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

const usageText = `usage: e6 [-dsn DSN] [-o FORMAT] [command] [arguments]

The e6data command-line client. It connects like the library: E6DATA_*
environment variables, overridden by -dsn (see docs/configuration.md).

Commands:
  (none), shell            interactive shell (\? for its commands)
  query [SQL]              run SQL (from stdin when not given); -o table|csv|json|jsonl,
                           or -o parquet|arrow --out FILE (one statement)
  explain [-analyze] SQL   show the plan; -analyze runs the query and adds timings
  status                   cluster status, strategy state and counters
  config check             validate the environment and DSN, show effective settings
  sim [e6sim flags]        run the e6sim simulator in this process (e6 sim -h)
  help                     this text

Flags (before or after the command):
  -dsn DSN      e6data://user:token@host:port/database?catalog=...&key=value
  -o FORMAT     output format: table (default), csv, json or jsonl
                (query also parquet or arrow, with --out FILE)

Exit status: 0 ok, 1 error, 2 usage.
`

// commonFlags registers the flags every command accepts.
func (a *app) commonFlags(fs *flag.FlagSet) {
	fs.StringVar(&a.dsn, "dsn", a.dsn, "connection `DSN` (overrides E6DATA_* variables)")
	fs.StringVar(&a.format, "o", a.format, "output `format`: table, csv, json or jsonl")
}

func (a *app) newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a.commonFlags(fs)
	return fs
}

// parseArgs parses the arguments of command name: the common flags, those
// define adds (may be nil), and between minPos and maxPos positional
// arguments; otherwise a usage error saying usage.
func (a *app) parseArgs(name string, args []string, minPos, maxPos int, usage string, define func(fs *flag.FlagSet)) ([]string, error) {
	fs := a.newFlagSet(name)
	if define != nil {
		define(fs)
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) < minPos || len(pos) > maxPos {
		return nil, usageError{usage}
	}
	return pos, nil
}

// parseInterleaved parses fs from args, letting flags and positional
// arguments mix ("query 'SELECT 1' -o csv"); "--" ends the flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse stops at the first non-flag or after "--".
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// run executes the command line and returns the exit status.
func (a *app) run(ctx context.Context, args []string) int {
	a.format = "table"
	err := a.dispatch(ctx, args)
	var ue usageError
	var ec exitCode
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(a.stdout, usageText)
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(a.stderr, "e6: %v\nrun 'e6 help' for usage\n", err)
		return exitUsage
	case errors.Is(err, errExit):
		return exitError
	case errors.As(err, &ec):
		return int(ec)
	}
	fmt.Fprintf(a.stderr, "e6: %s\n", cliText(err.Error()))
	return exitError
}

// errExit reports a failure whose message has already been printed.
var errExit = errors.New("failed")

func (a *app) dispatch(ctx context.Context, args []string) error {
	fs := a.newFlagSet("e6")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	args = fs.Args()
	if len(args) == 0 {
		return a.cmdShell(ctx, nil)
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "shell":
		return a.cmdShell(ctx, args)
	case "query":
		return a.cmdQuery(ctx, args)
	case "explain":
		return a.cmdExplain(ctx, args)
	case "status":
		return a.cmdStatus(ctx, args)
	case "config":
		return a.cmdConfig(args)
	case "sim":
		return a.cmdSim(ctx, args)
	case "help":
		return flag.ErrHelp
	}
	return usagef("unknown command %q", cmd)
}

// checkFormat validates -o.
func (a *app) checkFormat() error {
	switch a.format {
	case "table", "csv", "json", "jsonl":
		return nil
	}
	return usagef("-o %q: want table, csv, json or jsonl", a.format)
}

// loadConfig reads the configuration the way the library does: defaults <
// profile < E6DATA_* environment < -dsn. Unless the user chose log levels,
// the command keeps the connector quiet below WARNING so that its records
// do not mix with results.
func (a *app) loadConfig() (*e6data.Config, error) {
	cfg, err := e6data.LoadConfig(a.dsn, a.environ)
	if err != nil {
		return nil, err
	}
	if err := cfg.Apply(commandLevels(cfg)...); err != nil {
		return nil, err
	}
	return cfg, nil
}

// commandLevels lowers the log levels the user did not choose (default or
// profile) to WARNING, so that the connector's records do not mix with
// results.
func commandLevels(cfg *e6data.Config) []e6data.Option {
	var opts []e6data.Option
	for _, f := range []string{"LogLevel", "StrategyLogLevel"} {
		if cfg.Source(f) == e6data.SourceDefault || cfg.Source(f) == e6data.SourceProfile {
			opts = append(opts, e6data.WithSetting(f, "WARNING"))
		}
	}
	return opts
}

// session is an open connection to the cluster, and the interrupts
// (Ctrl-C) that cancel its operations.
type session struct {
	cfg     *e6data.Config
	conn    *e6data.Connector
	db      *sql.DB
	sig     <-chan os.Signal
	stopSig func()
}

// connect opens the connector and its pool. With warm (the shell, status)
// the pool follows the configuration, keeping MinConnections sessions
// ready and reporting to Health; one-shot commands open only the session
// they use.
func (a *app) connect(warm bool, opts ...e6data.Option) (*session, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	if err := cfg.Apply(opts...); err != nil {
		return nil, err
	}
	// gRPC's own logs follow E6DATA_GRPC_LOG_LEVEL: a command owns its
	// process, so it installs gRPC's (process-wide) logger itself.
	e6data.InstallGRPCLogger(cfg)
	c, err := e6data.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(c)
	if warm {
		c.ConfigurePool(db)
	}
	ch, stop := a.signals()
	return &session{cfg: cfg, conn: c, db: db, sig: ch, stopSig: stop}, nil
}

func (s *session) Close() error {
	s.stopSig()
	err := s.db.Close()
	return errors.Join(err, s.conn.Close())
}

// do runs f with a context that an interrupt cancels; a cancelled
// operation's error says so.
func (s *session) do(ctx context.Context, f func(ctx context.Context) error) (interrupted bool, err error) {
	qctx, done := interruptible(ctx, s.sig)
	err = f(qctx)
	interrupted = done()
	if err != nil {
		err = errors.New(describeErr(err, interrupted))
	}
	return interrupted, err
}

// isTerminal reports whether w is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// interruptible returns a context that an interrupt (Ctrl-C) arriving on
// ch cancels, and a function that stops watching and reports whether one
// came. Interrupts that arrived before are dropped.
func interruptible(ctx context.Context, ch <-chan os.Signal) (context.Context, func() bool) {
	for drained := false; !drained; {
		select {
		case <-ch:
		default:
			drained = true
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	got := make(chan bool, 1)
	go func() {
		select {
		case <-ch:
			cancel()
			got <- true
		case <-done:
			got <- false
		}
	}()
	return ctx, func() bool {
		close(done)
		interrupted := <-got
		cancel()
		return interrupted
	}
}

// describeErr gives the text for a failed operation.
func describeErr(err error, interrupted bool) string {
	if interrupted && errors.Is(err, context.Canceled) {
		return "query cancelled"
	}
	return cliText(strings.TrimSpace(err.Error()))
}

// goOption matches the library's Go option names (", WithCredentials",
// " or WithTokenProvider") in its messages: a command-line user sets
// variables and -dsn, not options.
var goOption = regexp.MustCompile(`(,\s*|\s+or\s+)With[A-Z][A-Za-z]*`)

// cliText words a library message for the command line: Go option names
// are dropped and "the DSN" is -dsn.
func cliText(msg string) string {
	msg = goOption.ReplaceAllString(msg, "")
	msg = strings.ReplaceAll(msg, "(set With", "(set ") // an option left first
	return strings.ReplaceAll(msg, "the DSN ", "-dsn's ")
}
