package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/e6go/e6data/e6sim"
)

var resultLine = regexp.MustCompile(`^RESULT queries=(\d+) failed=0 wrong=0 interrupted=\d+ transitions=\d+ resumes=\d+ p50=\S+ p99=\S+ converge_p99=\S+$`)

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestRunInProcess(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-duration", "2500ms", "-workers", "8", "-flip-every", "500ms", "-mode", "mixed", "-seed", "7"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	last := lastLine(out.String())
	if m := resultLine.FindStringSubmatch(last); m == nil || m[1] == "0" {
		t.Fatalf("last line %q is not a RESULT line with queries:\n%s", last, out.String())
	}
	// stdout is not a terminal: progress comes as plain lines, no \r.
	if strings.Contains(out.String(), "\r") {
		t.Fatalf("carriage returns in non-terminal output:\n%q", out.String())
	}
	t.Logf("\n%s", out.String())
}

func TestRunAgainstRunningSimulator(t *testing.T) {
	sim, err := e6sim.Start(context.Background(), e6sim.Config{AdminAddr: "127.0.0.1:0", ResumeDuration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-addr", sim.Addr(), "-admin", "http://" + sim.AdminAddr(),
		"-duration", "2s", "-workers", "8", "-flip-every", "500ms", "-drain", "400ms", "-mode", "graceful"}, &out, &errOut)
	// Exit 0: no query failed or returned wrong rows, and every
	// interruption (a query that outlived its drain) is one the
	// simulator's record explains.
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	if last := lastLine(out.String()); !resultLine.MatchString(last) {
		t.Fatalf("last line %q:\n%s", last, out.String())
	}
	if st := sim.Stats(); st.Switches < 1 {
		t.Fatalf("the demo switched the simulator %d times through its admin endpoint", st.Switches)
	}
}

func TestBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"-mode", "sideways"},
		{"-workers", "0"},
		{"-no-such-flag"},
		{"extra"},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, code, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-addr", "127.0.0.1:1"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "-admin") {
		t.Errorf("-addr without -admin: exit %d, stderr %q", code, errOut.String())
	}
}

// Every example: -h exits 0, a bad flag exits 2.
func TestHelpAndBadFlagExitCodes(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &out, &errOut); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
	if code := run(context.Background(), []string{"-bogus"}, &out, &errOut); code != 2 {
		t.Errorf("-bogus: exit %d", code)
	}
}
