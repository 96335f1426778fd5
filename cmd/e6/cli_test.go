package main

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/e6go/e6data/e6sim"
)

var formats = []string{"table", "csv", "json", "jsonl"}

// `e6 query` in each output format, against golden files.
func TestQueryGolden(t *testing.T) {
	for _, q := range []struct{ name, sql string }{
		{"customers", "SELECT * FROM sample.main.customers ORDER BY id"},
		{"all_types", "SELECT * FROM sample.main.all_types ORDER BY id"},
	} {
		for _, f := range formats {
			t.Run(q.name+"/"+f, func(t *testing.T) {
				r := e6(t, simEnv(t), "", "query", "-o", f, q.sql)
				if r.code != 0 || r.stderr != "" {
					t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
				}
				golden(t, "query_"+q.name+"."+f+".golden", r.stdout)
			})
		}
	}
}

// SQL comes from stdin when none is given; statements split at ';'
// outside quotes and comments; flags may follow the command.
func TestQueryFromStdin(t *testing.T) {
	in := "SELECT 1 AS one; -- a comment; with a semicolon\nSELECT 'a;b' AS \"x;y\"\n"
	r := e6(t, simEnv(t), in, "query", "-o", "csv")
	if r.code != 0 || r.stdout != "one\n1\nx;y\na;b\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = e6(t, simEnv(t), "", "query", "SELECT 7 AS n", "-o", "jsonl")
	if r.code != 0 || r.stdout != "{\"n\":7}\n" {
		t.Fatalf("flag after SQL: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// The DSN flag overrides the environment.
func TestQueryDSN(t *testing.T) {
	env := simEnv(t, "E6DATA_PORT=1") // nothing listens there
	r := e6(t, env, "", "-dsn", "e6data://dsn%40example.com:tok@"+sim.Addr()+"/main?catalog=sample", "query", "-o", "csv", "SELECT 42 AS answer")
	if r.code != 0 || r.stdout != "answer\n42\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestQueryErrors(t *testing.T) {
	r := e6(t, simEnv(t), "", "query", "SELECT nope FROM sample.main.customers")
	if r.code != 1 || !strings.Contains(r.stderr, `"nope"`) || r.stdout != "" {
		t.Fatalf("bad SQL: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = e6(t, baseEnv(t), "", "query", "SELECT 1")
	if r.code != 1 || !strings.Contains(r.stderr, "E6DATA_USERNAME") {
		t.Fatalf("no credentials: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"-o", "xml", "query", "SELECT 1"}, `-o "xml": want table, csv, json or jsonl`},
		{[]string{"query", "-nope"}, "flag provided but not defined: -nope"},
		{[]string{"query", "SELECT 1", "SELECT 2"}, "query takes one SQL argument"},
		{[]string{"explain"}, "explain takes one SQL argument"},
		{[]string{"config"}, "e6 config check"},
		{[]string{"status", "now"}, "status takes no arguments"},
		{[]string{"sim", "-strategy", "purple"}, `-strategy "purple": want blue or green`},
	} {
		r := e6(t, simEnv(t), "", tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 mentioning %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	r := e6(t, baseEnv(t), "", "help")
	if r.code != 0 || !strings.Contains(r.stdout, "config check") {
		t.Errorf("help: exit %d, stdout %q", r.code, r.stdout)
	}
}

func TestExplain(t *testing.T) {
	r := e6(t, simEnv(t), "", "explain", "SELECT count(*) FROM sample.main.customers WHERE vip")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	golden(t, "explain.golden", r.stdout)

	r = e6(t, simEnv(t), "", "explain", "--analyze", "SELECT count(*) FROM sample.main.customers WHERE vip")
	if r.code != 0 || !strings.Contains(r.stdout, "Total Time:") || !regexp.MustCompile(`(?m)^parsing: \S+, queueing: \S+, total: \S+, cached: (true|false)$`).MatchString(r.stdout) {
		t.Fatalf("explain --analyze: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// config check: the settings table with sources, diagnostics, redaction.
func TestConfigCheck(t *testing.T) {
	env := baseEnv(t,
		"E6DATA_HOST=e6.example.com", "E6DATA_PORT=443", "E6DATA_SECURE=true",
		"E6DATA_USERNAME=alice@example.com", "E6DATA_PASSWORD=very-secret-token",
		"E6DATA_STRATEGY_CACHE_TIMEOUT=5", // clamped: WARN
		"E6DATA_STRATEGY_CACHE_TIMOUT=60", // typo: WARN with the nearest name
	)
	r := e6(t, env, "", "config", "check", "-dsn", "e6data://bob%40example.com:dsn-secret@e6.example.com:443/sales?catalog=hive&max-retry-attempts=7&secure=true")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "secret") {
		t.Fatalf("a secret is printed:\n%s", r.stdout)
	}
	golden(t, "config_check_ok.golden", r.stdout)
}

// A bad variable: its name, value and what is expected; exit 1.
func TestConfigCheckBad(t *testing.T) {
	env := baseEnv(t, "E6DATA_USERNAME=alice@example.com", "E6DATA_PASSWORD=very-secret-token",
		"E6DATA_MAX_RETRY_ATTEMPTS=abc", "E6DATA_SECURE=maybe")
	r := e6(t, env, "", "config", "check")
	if r.code != 1 || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
	}
	for _, want := range []string{"E6DATA_MAX_RETRY_ATTEMPTS", `"abc"`, "expected an integer between 1 and 10", "E6DATA_SECURE", `"maybe"`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not mention %q:\n%s", want, r.stderr)
		}
	}
	golden(t, "config_check_bad.golden", r.stderr)

	// Lenient mode: the bad value is an ERROR diagnostic; still exit 1.
	env = baseEnv(t, "E6DATA_USERNAME=alice@example.com", "E6DATA_PASSWORD=very-secret-token",
		"E6DATA_MAX_RETRY_ATTEMPTS=abc", "E6DATA_STRATEGY_VALIDATION=false")
	r = e6(t, env, "", "config", "check")
	if r.code != 1 || !strings.Contains(r.stdout, "E6DATA_MAX_RETRY_ATTEMPTS") || !strings.Contains(r.stderr, "configuration has errors") {
		t.Fatalf("lenient: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestStatus(t *testing.T) {
	setup(t)
	r := e6(t, simEnv(t), "", "status")
	if r.code != 0 {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, re := range []string{
		`(?m)^cluster:\s+` + regexp.QuoteMeta(sim.Addr()) + `$`,
		`(?m)^cluster status:\s+active \(`,
		`(?m)^live strategy:\s+blue$`,
		`(?m)^pool:\s+open=\d+`,
		`(?m)^\s+detections\s+1$`,
		`(?m)^\s+\S+ detected\s+- -> blue$`,
	} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("status output does not match %s:\n%s", re, r.stdout)
		}
	}
}

// A suspended cluster: status reports it and exits 1 without resuming it.
func TestStatusSuspended(t *testing.T) {
	s2, err := e6sim.Start(context.Background(), e6sim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	s2.Suspend()
	// Auto-resume is on (the default): status must not resume all the same.
	env := simEnv(t, "E6DATA_PORT="+s2.Addr()[strings.LastIndexByte(s2.Addr(), ':')+1:])
	r := e6(t, env, "", "status")
	if r.code != 1 || !regexp.MustCompile(`(?m)^cluster status:\s+suspended`).MatchString(r.stdout) ||
		!strings.Contains(r.stdout, "never resumes") {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if got := s2.ClusterStatus(); got != e6sim.StatusSuspended || s2.Stats().Resumes != 0 {
		t.Fatalf("status changed the cluster to %s (%d resumes)", got, s2.Stats().Resumes)
	}
}

// The piped shell: statements over lines, backslash commands, exit status.
func TestShellPiped(t *testing.T) {
	in := "SELECT name\n  FROM sample.main.customers\n  WHERE id = 3;\n\\dt\n\\d customers\n\\x\nSELECT 1 AS a, 'b' AS b;\n\\l\n\\dn\n\\q\nSELECT 'not run';\n"
	r := e6(t, simEnv(t), in)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	golden(t, "shell_piped.golden", r.stdout)

	r = e6(t, simEnv(t), "\\timing on\nSELECT 1 AS one;\n\\timing off\nSELECT 2 AS two;\n")
	if r.code != 0 || !regexp.MustCompile(`^Timing is on\.\none\n---\n  1\n\(1 row\)\nTime: \d+\.\d{3} ms\nTiming is off\.\ntwo\n---\n  2\n\(1 row\)\n$`).MatchString(r.stdout) {
		t.Fatalf("\\timing: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	r = e6(t, simEnv(t), "SELECT nope;\nSELECT 1 AS ok")
	if r.code != 1 || !strings.Contains(r.stderr, "ERROR:") || !strings.Contains(r.stdout, "ok\n--\n 1\n(1 row)") {
		t.Fatalf("failing statement: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// `e6 sim` runs the simulator in-process and tells how to connect; the
// client works with what it prints; SIGINT stops it with exit 0.
func TestSimCommand(t *testing.T) {
	setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e6bin, "sim", "-addr", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-log-level", "warn")
	cmd.Env = baseEnv(t)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// The banner names the variables to export and a DSN.
	dsnRE := regexp.MustCompile(`-dsn '([^']+)'`)
	banner := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		var export string
		for sc.Scan() {
			l := strings.TrimSpace(sc.Text())
			if v, ok := strings.CutPrefix(l, "export "); ok {
				export = v
			}
			if m := dsnRE.FindStringSubmatch(l); m != nil {
				banner <- [2]string{export, m[1]}
				break
			}
		}
		close(banner)
		io.Copy(io.Discard, stdout)
	}()
	var got [2]string
	select {
	case b, ok := <-banner:
		if !ok || b[0] == "" {
			t.Fatal("e6 sim printed no export line and DSN")
		}
		got = b
	case <-ctx.Done():
		t.Fatal("e6 sim did not start")
	}
	r := e6(t, baseEnv(t, strings.Fields(got[0])...), "", "query", "-o", "csv", "SELECT count(*) AS n FROM customers")
	if r.code != 0 || r.stdout != "n\n10\n" {
		t.Fatalf("query with the printed environment %q: exit %d, stdout %q, stderr %q", got[0], r.code, r.stdout, r.stderr)
	}
	r = e6(t, baseEnv(t), "", "-dsn", got[1], "query", "-o", "csv", "SELECT count(*) AS n FROM orders")
	if r.code != 0 || !regexp.MustCompile(`^n\n[1-9]\d*\n$`).MatchString(r.stdout) {
		t.Fatalf("query with the printed DSN %q: exit %d, stdout %q, stderr %q", got[1], r.code, r.stdout, r.stderr)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGINT: %v (want exit 0)", err)
	}
}

// Ctrl-C (SIGINT) during `e6 query`: the query is cancelled on the server
// and the command exits 1.
func TestQueryInterrupt(t *testing.T) {
	setup(t)
	before, executes := sim.Stats().Cancels, executeCalls()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e6bin, "query", longQuery)
	cmd.Env = simEnv(t)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitFor(t, "the query to run on the server", func() bool { return executeCalls() > executes })
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "query cancelled") {
		t.Fatalf("after SIGINT: %v, stderr %q", err, stderr.String())
	}
	waitFor(t, "the server-side cancel", func() bool { return sim.Stats().Cancels > before })
	waitFor(t, "the query to close on the server", func() bool { return openQueries() == 0 })
}

// longQuery runs until cancelled (10^12 rows to count).
const longQuery = "SELECT count(*) FROM sample.main.numbers a, sample.main.numbers b WHERE a.x + b.x >= 0"

// executeCalls counts the executeStatement calls the simulator received.
// Tests interrupt a query only once it is executing: a prepare call cut
// short by the client leaves the client without the query's ID, so that it
// cannot cancel what the server prepared (the server reclaims it when idle).
func executeCalls() int64 {
	rpcs := sim.Stats().RPCs
	return rpcs["QueryEngineService/executeStatement"] + rpcs["QueryEngineService/executeStatementV2"]
}

func openQueries() int {
	n := 0
	for _, s := range sim.Stats().Stacks {
		n += s.OpenQueries
	}
	return n
}
