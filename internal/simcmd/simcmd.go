package simcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/e6go/e6data/e6sim"
)

const shutdownGrace = 10 * time.Second

// usageError is a problem with the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// Options adapt Run to the command it serves.
type Options struct {
	// Name is the command as the user types it ("e6sim", "e6 sim").
	Name string
	// Started, when set, is called once the simulator serves, after the
	// banner, e.g. to tell how to connect to it; cfg is the configuration
	// the flags gave.
	Started func(w io.Writer, sim *e6sim.Server, cfg e6sim.Config)
	// Getenv reads the environment (nil: os.Getenv), to tell a user whose
	// E6DATA_PORT names a busy port what it points at.
	Getenv func(string) string
}

func (o Options) getenv() func(string) string {
	if o.Getenv != nil {
		return o.Getenv
	}
	return os.Getenv
}

// startError words a failure to start for the command line: without the
// library's "e6sim:" prefix and, for a port in use, with what to do.
func startError(err error, cfg e6sim.Config, getenv func(string) string) string {
	msg := strings.TrimPrefix(err.Error(), "e6sim: ")
	if !errors.Is(err, syscall.EADDRINUSE) {
		return msg
	}
	addr, flagName := cfg.Addr, "-addr"
	if strings.HasPrefix(msg, "admin listener") {
		addr, flagName = cfg.AdminAddr, "-admin"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s is already in use (another simulator or program listens there)", addr)
	fmt.Fprintf(&b, "\n  start on free ports with %s 127.0.0.1:0", flagName)
	if flagName == "-addr" {
		b.WriteString(" -admin 127.0.0.1:0, then export the E6DATA_PORT it prints")
		_, port, _ := net.SplitHostPort(addr)
		if p := getenv("E6DATA_PORT"); p != "" && p == port {
			fmt.Fprintf(&b, "\n  note: your E6DATA_PORT=%s points at whatever listens on %s now, not at a simulator of this command", p, addr)
		}
	}
	return b.String()
}

// Run runs the simulator with the command-line arguments args until ctx
// ends and returns the exit status: 0 after a graceful shutdown (and for
// -h), 1 when it cannot start or stop, 2 for bad flags.
func Run(ctx context.Context, o Options, args []string, stdout, stderr io.Writer) int {
	if o.Name == "" {
		o.Name = "e6sim"
	}
	cfg, err := ParseFlags(o.Name, args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", o.Name, err)
		if _, ok := err.(usageError); ok {
			fmt.Fprintf(stderr, "run '%s -h' for the flags\n", o.Name)
		}
		return 2
	}
	sim, err := e6sim.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", o.Name, startError(err, cfg, o.getenv()))
		return 1
	}
	admin := "admin disabled"
	if a := sim.AdminAddr(); a != "" {
		admin = "admin on http://" + a
	}
	tls := ""
	if cfg.TLSCertFile != "" {
		tls = " (TLS)"
		if cfg.TLSClientCAFile != "" {
			tls = " (mutual TLS)"
		}
	}
	fmt.Fprintf(stdout, "e6sim: e6data engine on %s%s, %s, live strategy %s\n", sim.Addr(), tls, admin, sim.Live())
	if o.Started != nil {
		o.Started(stdout, sim, cfg)
	}

	<-ctx.Done()
	cfg.Logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := sim.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "%s: shutdown: %v\n", o.Name, err)
		return 1
	}
	return 0
}

// ParseFlags parses the simulator's flags into a Config (with a logger on
// stderr). Problems with the command line are errors whose text names the
// flag; -h gives flag.ErrHelp after printing the usage.
func ParseFlags(name string, args []string, stderr io.Writer) (e6sim.Config, error) {
	var cfg e6sim.Config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s [flags]\n\nRuns a local e6data-compatible cluster (blue/green gateway, two engine stacks, admin endpoint).\n\nFlags:\n", name)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:50051", "engine (gRPC) listen `address`")
	fs.StringVar(&cfg.AdminAddr, "admin", "127.0.0.1:50052", "admin HTTP/JSON listen `address` (\"\" disables the admin endpoint)")
	fs.StringVar(&cfg.AdminToken, "admin-token", "", "admin bearer `token` (required when -admin is not a loopback address)")
	fs.StringVar(&cfg.Strategy, "strategy", e6sim.Blue, "initially live stack: blue or green")
	fs.StringVar(&cfg.ClusterName, "cluster-name", "", "cluster `name`: requests naming another cluster get NOT_FOUND")
	fs.StringVar(&cfg.DataDir, "data", "", "`dir`ectory of *.parquet / *.csv files served as sample.data.<name>")
	fs.StringVar(&cfg.UsersFile, "users", "", "users `file` (\"user token\" per line; default: any non-empty user and token)")
	fs.DurationVar(&cfg.SessionTTL, "session-ttl", 0, "sessions expire (\"Access denied\") after this `duration` (0 = never)")
	fs.DurationVar(&cfg.QueryIdleTimeout, "query-idle-timeout", 0, "reclaim queries untouched for this `duration` (0 = engine default, 5m)")
	fs.DurationVar(&cfg.ResumeDuration, "resume-time", e6sim.DefaultResumeDuration, "how long a resume stays \"resuming\"")
	fs.DurationVar(&cfg.AutoSuspendAfter, "auto-suspend", 0, "suspend after this idle `duration` (0 = never)")
	fs.IntVar(&cfg.ChunkRows, "chunk-rows", 0, "`rows` per result batch (0 = engine default, 10000)")
	signal := fs.String("signal", "http", "how 456/503 are sent: http (HTTP/2 status, like the real gateway) or grpc (gRPC status)")
	fs.StringVar(&cfg.TLSCertFile, "tls-cert", "", "TLS certificate `file` (PEM); with -tls-key serves TLS")
	fs.StringVar(&cfg.TLSKeyFile, "tls-key", "", "TLS key `file` (PEM)")
	fs.StringVar(&cfg.TLSClientCAFile, "tls-client-ca", "", "CA certificates `file` (PEM): require client certificates signed by them (mutual TLS)")
	level := fs.String("log-level", "info", "log `level`: debug, info, warn or error (logs go to stderr)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return cfg, usagef("unexpected argument %q (%s takes only flags)", fs.Arg(0), name)
	}
	if cfg.Strategy != e6sim.Blue && cfg.Strategy != e6sim.Green {
		return cfg, usagef("-strategy %q: want blue or green", cfg.Strategy)
	}
	var err error
	if cfg.Signal, err = e6sim.ParseSignal(*signal); err != nil {
		return cfg, usagef("-signal %q: want http or grpc", *signal)
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return cfg, usagef("-log-level %q: want debug, info, warn or error", *level)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"session-ttl", cfg.SessionTTL}, {"query-idle-timeout", cfg.QueryIdleTimeout},
		{"resume-time", cfg.ResumeDuration}, {"auto-suspend", cfg.AutoSuspendAfter},
	} {
		if d.v < 0 {
			return cfg, usagef("-%s %v: must not be negative", d.name, d.v)
		}
	}
	if cfg.ChunkRows < 0 {
		return cfg, usagef("-chunk-rows %d: must not be negative", cfg.ChunkRows)
	}
	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		return cfg, usagef("-tls-cert and -tls-key go together")
	}
	if cfg.TLSClientCAFile != "" && cfg.TLSCertFile == "" {
		return cfg, usagef("-tls-client-ca needs -tls-cert and -tls-key")
	}
	for _, a := range []struct{ name, v string }{{"addr", cfg.Addr}, {"admin", cfg.AdminAddr}} {
		if a.v == "" && a.name == "admin" {
			continue
		}
		if _, _, err := net.SplitHostPort(a.v); err != nil {
			return cfg, usagef("-%s %q: want host:port", a.name, a.v)
		}
	}
	if cfg.AdminAddr != "" && cfg.AdminToken == "" && !loopback(cfg.AdminAddr) {
		return cfg, usagef("-admin %q is not a loopback address: set -admin-token too", cfg.AdminAddr)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	return cfg, nil
}

func loopback(addr string) bool {
	host, _, _ := net.SplitHostPort(addr)
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
