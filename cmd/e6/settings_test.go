package main

import (
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// E6DATA_GRPC_LOG_LEVEL acts in the command: gRPC's own records appear at
// INFO, and not at the default WARNING.
func TestGRPCLogLevelApplied(t *testing.T) {
	r := e6(t, simEnv(t, "E6DATA_GRPC_LOG_LEVEL=INFO"), "", "query", "SELECT 1")
	if r.code != 0 || !strings.Contains(r.stderr, "component=grpc") {
		t.Fatalf("exit %d; no gRPC record at INFO in stderr %q", r.code, r.stderr)
	}
	r = e6(t, simEnv(t), "", "query", "SELECT 1")
	if r.code != 0 || strings.Contains(r.stderr, "component=grpc") {
		t.Fatalf("exit %d; gRPC records at the default level: %q", r.code, r.stderr)
	}
}

// config check fails for a CA file that does not exist, naming the
// variable.
func TestConfigCheckMissingCAFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-ca.pem")
	env := baseEnv(t, "E6DATA_USERNAME=alice@example.com", "E6DATA_PASSWORD=very-secret-token",
		"E6DATA_SECURE=true", "E6DATA_CA_FILE="+missing)
	r := e6(t, env, "", "config", "check")
	if r.code != 1 || !strings.Contains(r.stderr, "E6DATA_CA_FILE") || !strings.Contains(r.stderr, "no-such-ca.pem") ||
		strings.Contains(r.stdout, "configuration ok") {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// config check shows the levels the command uses (the development
// profile's DEBUG is lowered unless chosen), and error text speaks in
// variables and -dsn, not Go option names.
func TestConfigCheckEffectiveLevelsAndCLIWords(t *testing.T) {
	env := baseEnv(t, "E6DATA_USERNAME=alice@example.com", "E6DATA_PASSWORD=very-secret-token", "E6DATA_PROFILE=development")
	r := e6(t, env, "", "config", "check")
	if r.code != 0 || !regexp.MustCompile(`(?m)^LogLevel +\| E6DATA_LOG_LEVEL +\| WARNING +\| e6 command$`).MatchString(r.stdout) ||
		strings.Contains(r.stdout, "| DEBUG ") {
		t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
	}
	r = e6(t, append(env, "E6DATA_LOG_LEVEL=DEBUG"), "", "config", "check")
	if r.code != 0 || !regexp.MustCompile(`(?m)^LogLevel +\| E6DATA_LOG_LEVEL +\| DEBUG +\| env$`).MatchString(r.stdout) {
		t.Fatalf("explicit DEBUG: exit %d, stdout %q", r.code, r.stdout)
	}
	r = e6(t, baseEnv(t), "", "query", "SELECT 1")
	if r.code != 1 || strings.Contains(r.stderr, "WithCredentials") || strings.Contains(r.stderr, "WithTokenProvider") ||
		!strings.Contains(r.stderr, "E6DATA_USERNAME") || !strings.Contains(r.stderr, "-dsn") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// countingWriter counts what was written.
type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// The table format aligns on the first tableWindow rows and streams the
// rest: nothing more is held however many rows come (memory stays flat).
func TestTableStreamsAfterWindow(t *testing.T) {
	w := &countingWriter{}
	f := &tableFormatter{w: w, cols: []column{{name: "n", typ: "LONG"}, {name: "s", typ: "STRING"}}}
	for i := 0; i < 3*tableWindow; i++ {
		if err := f.row([]any{int64(i), "x"}); err != nil {
			t.Fatal(err)
		}
		if i == tableWindow-2 && w.n != 0 {
			t.Fatal("wrote before the window was full")
		}
		if i >= tableWindow && len(f.rows) != 0 {
			t.Fatalf("row %d: %d rows held after the window", i, len(f.rows))
		}
	}
	before := w.n
	if before == 0 {
		t.Fatal("nothing written before the end")
	}
	if err := f.end(); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	g := &tableFormatter{w: &b, cols: f.cols}
	for i := 0; i < tableWindow+2; i++ {
		g.row([]any{int64(i), "x"})
	}
	g.end()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if lines[0] != "n   | s" || lines[len(lines)-2] != "1001 | x" || lines[len(lines)-1] != "(1002 rows)" {
		t.Fatalf("table: first %q, last %q %q", lines[0], lines[len(lines)-2], lines[len(lines)-1])
	}
}

// `e6 sim` on a busy port: no library prefix, says what to do, and warns
// that an exported E6DATA_PORT points at whatever listens there.
func TestSimBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	r := e6(t, baseEnv(t, "E6DATA_PORT="+port), "", "sim", "-addr", ln.Addr().String(), "-admin", "127.0.0.1:0")
	if r.code != 1 || strings.Contains(r.stderr, "e6sim:") || !strings.Contains(r.stderr, "already in use") ||
		!strings.Contains(r.stderr, "-addr 127.0.0.1:0") || !strings.Contains(r.stderr, "E6DATA_PORT="+port) {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}
