package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
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
			fmt.Fprintf(a.stderr, "error: %s\n", cliText(e.Error()))
		}
		fmt.Fprintln(a.stderr, "configuration invalid")
		return errExit
	}
	// Show the levels the command itself uses: it lowers those nobody
	// chose to WARNING.
	var lowered []string
	for _, f := range []string{"LogLevel", "StrategyLogLevel"} {
		if s := cfg.Source(f); s == e6data.SourceDefault || s == e6data.SourceProfile {
			lowered = append(lowered, f)
		}
	}
	if err := cfg.Apply(commandLevels(cfg)...); err != nil {
		return err
	}
	settings := cfg.Settings()
	for i, s := range settings {
		if slices.Contains(lowered, s.Name) {
			settings[i].Source = "e6 command"
		}
	}
	writeSettings(a.stdout, settings)
	if len(lowered) > 0 {
		fmt.Fprintln(a.stdout, "\nsource \"e6 command\": a log level nobody set is WARNING in this command, so that logs do not mix with results; set E6DATA_LOG_LEVEL / E6DATA_STRATEGY_LOG_LEVEL to change it")
	}
	failed := false
	diags := cfg.Diagnostics()
	if len(diags) > 0 {
		fmt.Fprintln(a.stdout)
	}
	for _, d := range diags {
		fmt.Fprintln(a.stdout, d.String())
		failed = failed || d.Level >= slog.LevelError
	}
	for _, e := range checkFiles(cfg) {
		fmt.Fprintf(a.stderr, "error: %v\n", e)
		failed = true
	}
	if failed {
		fmt.Fprintln(a.stderr, "configuration has errors")
		return errExit
	}
	fmt.Fprintln(a.stdout, "\nconfiguration ok")
	return nil
}

// checkFiles reads what the configuration names on disk (CA, client
// certificate and key) the way a connection would, so that a missing or
// unreadable file is reported now rather than at the first connection.
func checkFiles(cfg *e6data.Config) []error {
	var errs []error
	for _, f := range []struct{ setting, path string }{
		{"CAFile", cfg.CAFile}, {"ClientCertFile", cfg.ClientCertFile}, {"ClientKeyFile", cfg.ClientKeyFile},
	} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", settingLabel(cfg, f.setting), err))
		}
	}
	if len(errs) == 0 && cfg.Secure {
		if _, err := cfg.BuildTLS(); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// settingLabel names a setting as the user can set it: its variable and
// DSN key.
func settingLabel(cfg *e6data.Config, field string) string {
	for _, s := range cfg.Settings() {
		if s.Name == field {
			switch {
			case s.Env != "" && s.DSNKey != "":
				return s.Env + " / " + s.DSNKey
			case s.Env != "":
				return s.Env
			case s.DSNKey != "":
				return s.DSNKey
			}
		}
	}
	return field
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
