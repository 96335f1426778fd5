package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/e6go/e6data"
)

// cmdConfig runs `e6 config check`: it loads the configuration from the
// environment and -dsn as the library does, prints every setting the
// environment or a DSN can set with its value (secrets redacted) and where
// the value came from, then the diagnostics. Exit 1 when the configuration
// is invalid or a diagnostic is an error.
func (a *app) cmdConfig(args []string) error {
	const usage = "usage: e6 config check [-dsn DSN]"
	pos, err := a.parseArgs("config", args, 1, 1, usage, nil)
	if err != nil {
		return err
	}
	if pos[0] != "check" {
		return usageError{usage}
	}
	cfg, err := e6data.LoadConfig(a.dsn, a.environ)
	if err != nil {
		for _, e := range flatten(err) {
			fmt.Fprintf(a.stderr, "error: %v\n", e)
		}
		fmt.Fprintln(a.stderr, "configuration invalid")
		return errExit
	}
	writeSettings(a.stdout, cfg.Settings())
	failed := false
	diags := cfg.Diagnostics()
	if len(diags) > 0 {
		fmt.Fprintln(a.stdout)
	}
	for _, d := range diags {
		fmt.Fprintln(a.stdout, d.String())
		failed = failed || d.Level >= slog.LevelError
	}
	if failed {
		fmt.Fprintln(a.stderr, "configuration has errors")
		return errExit
	}
	fmt.Fprintln(a.stdout, "\nconfiguration ok")
	return nil
}

// flatten lists the errors errors.Join put together.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// writeSettings prints the settings reachable from the environment or a
// DSN as a table: SETTING, ENV VAR, VALUE, SOURCE.
func writeSettings(w io.Writer, settings []e6data.Setting) {
	cols := []column{{name: "SETTING"}, {name: "ENV VAR"}, {name: "VALUE"}, {name: "SOURCE"}}
	t := &tableFormatter{w: io.Discard, cols: cols}
	for _, s := range settings {
		if s.Env == "" && s.DSNKey == "" {
			continue // code only: not something the command can set
		}
		env := s.Env
		if env == "" {
			env = "-"
		}
		t.row([]any{s.Name, env, s.Value, string(s.Source)})
	}
	var b strings.Builder
	t.writeTable(&b)
	io.WriteString(w, b.String())
}
