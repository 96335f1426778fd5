package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
	"github.com/e6go/e6data/internal/simcmd"
)

// cmdSim runs `e6 sim [flags]`: the e6sim simulator in this process, with
// e6sim's own flags, until Ctrl-C or SIGTERM. It prints how to point the
// client at it.
func (a *app) cmdSim(ctx context.Context, args []string) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := simcmd.Run(ctx, simcmd.Options{Name: "e6 sim", Started: simBanner}, args, a.stdout, a.stderr)
	switch code {
	case 0:
		return nil
	case 2:
		return exitCode(2)
	}
	return errExit
}

// exitCode is a status whose message has already been printed.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// simBanner tells how to connect to the simulator.
func simBanner(w io.Writer, sim *e6sim.Server, cfg e6sim.Config) {
	host, port, err := net.SplitHostPort(sim.Addr())
	if err != nil {
		return
	}
	user, token := "demo@example.com", "demo"
	creds := "any non-empty user and token are accepted"
	if cfg.UsersFile != "" {
		user, token = "USER", "TOKEN"
		creds = "use a user and token of " + cfg.UsersFile
	}
	secure := cfg.TLSCertFile != ""
	fmt.Fprintf(w, "\nConnect with the environment (%s):\n\n", creds)
	fmt.Fprintf(w, "  export E6DATA_HOST=%s E6DATA_PORT=%s E6DATA_USERNAME=%s E6DATA_PASSWORD=%s E6DATA_CATALOG=sample E6DATA_DATABASE=main", host, port, user, token)
	if secure {
		fmt.Fprint(w, " E6DATA_SECURE=true")
	}
	fmt.Fprint(w, "\n  e6\n\nor with a DSN:\n\n")
	c := e6data.DefaultConfig()
	c.Host, c.User, c.Token, c.Catalog, c.Database, c.Secure = host, user, token, "sample", "main", secure
	fmt.Sscan(port, &c.Port)
	fmt.Fprintf(w, "  e6 -dsn '%s' query 'SELECT * FROM sample.main.customers'\n\n", c.FormatDSNWithSecrets()) // a placeholder or the demo token, not a secret
}
