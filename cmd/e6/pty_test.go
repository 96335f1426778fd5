package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// ptyTerm drives the binary through a pseudo-terminal.
type ptyTerm struct {
	t    *testing.T
	ptmx *os.File
	out  syncBuffer
	seen int // output before this offset has been matched
	done chan struct{}
}

// expect waits until the output after the last match contains s.
func (p *ptyTerm) expect(s string) {
	p.t.Helper()
	waitFor(p.t, "terminal output "+strings.TrimSpace(s), func() bool {
		out := p.out.String()
		i := strings.Index(out[p.seen:], s)
		if i < 0 {
			return false
		}
		p.seen += i + len(s)
		return true
	})
}

func (p *ptyTerm) send(s string) {
	p.t.Helper()
	if _, err := p.ptmx.WriteString(s); err != nil {
		p.t.Fatal(err)
	}
}

// The interactive shell on a terminal: a query, a multi-line statement,
// \dt, Ctrl-C cancelling a long query on the server and returning to the
// prompt, Ctrl-C clearing the input, history and Ctrl-D.
func TestShellPTY(t *testing.T) {
	setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e6bin)
	env := simEnv(t)
	cmd.Env = env
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	p := &ptyTerm{t: t, ptmx: ptmx, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		io.Copy(&p.out, ptmx) // ends with EIO when the child exits
	}()
	defer func() {
		cmd.Process.Kill()
		ptmx.Close()
		<-p.done
		if t.Failed() {
			t.Logf("terminal output:\n%q", p.out.String())
		}
	}()

	p.expect("e6> ")
	p.send("SELECT name FROM sample.main.customers WHERE id = 2;\r")
	p.expect("Grace Hopper")
	p.expect("(1 row)")
	p.expect("e6> ")

	p.send("SELECT 40 +\r")
	p.expect("e6*> ")
	p.send("  2 AS answer;\r")
	p.expect("42")
	p.expect("e6> ")

	p.send("\\dt\r")
	for _, table := range []string{"all_types", "customers", "numbers", "orders", "(4 rows)", "e6> "} {
		p.expect(table)
	}

	// Ctrl-C while a query runs: cancelled on the server, back to the prompt.
	before, executes := sim.Stats().Cancels, executeCalls()
	p.send(longQuery + ";\r")
	waitFor(t, "the query to run on the server", func() bool { return executeCalls() > executes })
	p.expect("elapsed") // the progress line of a long query on a terminal
	p.send("\x03")
	p.expect("query cancelled")
	p.expect("e6> ")
	waitFor(t, "the server-side cancel", func() bool { return sim.Stats().Cancels > before })
	waitFor(t, "the query to close on the server", func() bool { return openQueries() == 0 })

	// Ctrl-C at the prompt drops the typed text.
	p.send("SELECT 'dropped'\x03")
	p.expect("^C")
	p.expect("e6> ")
	p.send("SELECT 'kept' AS k;\r")
	p.expect("kept")
	p.expect("e6> ")

	p.send("\x04") // Ctrl-D
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after Ctrl-D: %v (want exit 0)", err)
	}
	if strings.Contains(p.out.String(), "'dropped'\r\n") || strings.Contains(p.out.String(), "dropped\r\n") {
		t.Error("the statement cleared with Ctrl-C ran")
	}

	var cache string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "XDG_CACHE_HOME="); ok {
			cache = v
		}
	}
	hist, err := os.ReadFile(filepath.Join(cache, "e6", "history"))
	if err != nil || !strings.Contains(string(hist), "SELECT name FROM sample.main.customers WHERE id = 2;\n") || !strings.Contains(string(hist), "\\dt\n") {
		t.Fatalf("history file: %q, %v", hist, err)
	}
}
