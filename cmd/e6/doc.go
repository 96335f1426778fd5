// Command e6 is the command-line client of the e6data connector. It is
// configured like the library: defaults < profile < E6DATA_* environment
// variables < the DSN given with -dsn (docs/configuration.md lists every
// setting).
//
// Usage:
//
//	e6 [-dsn DSN] [-o FORMAT] [command] [arguments]
//
//	e6                          interactive shell (also: e6 shell)
//	e6 query [SQL]              run SQL, or the statements read from stdin
//	e6 explain [-analyze] SQL   the plan; -analyze runs the query and adds its timings
//	e6 status                   cluster status, live/pending strategy, pool, counters, timeline
//	e6 config check             the effective settings, their source and the diagnostics
//	e6 sim [e6sim flags]        the e6sim simulator in this process (flags as cmd/e6sim)
//
// Flags may come before or after the command; -o selects the output format:
//
//   - table (default): aligned columns, numbers to the right, NULL as NULL,
//     control characters escaped, "(N rows)" at the end; \x in the shell
//     prints one "column | value" line per column instead.
//   - csv: RFC 4180 with a header row; NULL is an empty field.
//   - json: one array, one object per row (on its own line), the keys in
//     column order; jsonl: one object per line.
//
// In all formats dates are YYYY-MM-DD and timestamps RFC 3339 with their
// fractional seconds. In JSON, integers, floats and booleans are JSON
// numbers and booleans; DECIMAL128 values are strings holding the exact
// digits (readers that parse numbers as float64 would lose them); NaN and
// infinities are the strings "NaN", "+Inf", "-Inf"; binary values are
// base64 strings. In table and CSV output binary values are \x and hex.
//
// # The shell
//
// On a terminal the shell edits lines (golang.org/x/term) and keeps a
// history of 1000 lines in the user cache directory (e6/history). A
// statement may span lines and ends with ';' outside quotes and comments.
// Commands: \l catalogs, \dn [catalog] schemas, \dt [[catalog.]schema]
// tables, \d [[catalog.]schema.]table columns, \timing [on|off], \x [on|off],
// \? help, \q quit. Ctrl-C while a statement runs cancels it, on the server
// too, and returns to the prompt; at the prompt it clears the input; Ctrl-D
// quits. With stdin not a terminal the shell reads statements without
// prompts and exits 1 if one failed.
//
// While a query runs on a terminal (stdout and stderr), stderr shows its
// elapsed time and the rows received so far, refreshed up to ten times a
// second and erased before the result is printed; nothing is shown when the
// output is piped. Ctrl-C during `e6 query` cancels the query on the server
// and exits 1.
//
// Unless E6DATA_LOG_LEVEL or E6DATA_STRATEGY_LOG_LEVEL say otherwise, the
// connector's records below WARNING are not shown, so that they do not mix
// with results.
//
// # config check
//
// `e6 config check` prints every setting the environment or a DSN can set
// as a table (SETTING, ENV VAR, VALUE, SOURCE: default, profile, env or
// dsn), secrets as [REDACTED], then each diagnostic (clamped values,
// unknown variables with the nearest known name). A value that cannot be
// read is reported with the variable, the value and what is expected, and
// the exit status is 1, as it is for ERROR diagnostics in lenient mode
// (E6DATA_STRATEGY_VALIDATION=false).
//
// Exit status: 0 success, 1 error (the reason on stderr), 2 usage.
package main
