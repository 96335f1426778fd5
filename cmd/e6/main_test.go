package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/e6go/e6data/e6sim"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// The binary under test and the simulator it talks to, shared by the
// tests and set up by the first test that needs them (unit tests and fuzzing
// do not pay for the build).
var (
	setupOnce sync.Once
	setupErr  error
	binDir    string
	e6bin     string
	sim       *e6sim.Server
)

// setup builds the binary and starts the simulator, once.
func setup(t *testing.T) {
	t.Helper()
	setupOnce.Do(func() {
		if binDir, setupErr = os.MkdirTemp("", "e6test"); setupErr != nil {
			return
		}
		e6bin = filepath.Join(binDir, "e6")
		build := exec.Command("go", "build", "-o", e6bin, ".")
		if out, err := build.CombinedOutput(); err != nil {
			setupErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		sim, setupErr = e6sim.Start(context.Background(), e6sim.Config{})
	})
	if setupErr != nil {
		t.Fatal(setupErr)
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	if sim != nil {
		if err := sim.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "closing the simulator:", err)
			code = 1
		}
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	return code
}

// baseEnv is a clean environment for the binary: no E6DATA_* variables of
// the developer, HOME and the cache directory in a temporary directory.
// It sets up the binary and the simulator.
func baseEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	setup(t)
	home := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
		"TERM=xterm",
	}
	return append(env, extra...)
}

// simEnv points the binary at the shared simulator.
func simEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	setup(t)
	host, port, err := net.SplitHostPort(sim.Addr())
	if err != nil {
		t.Fatal(err)
	}
	return baseEnv(t, append([]string{
		"E6DATA_HOST=" + host, "E6DATA_PORT=" + port,
		"E6DATA_USERNAME=tester@example.com", "E6DATA_PASSWORD=secret-token",
		"E6DATA_CATALOG=sample", "E6DATA_DATABASE=main",
	}, extra...)...)
}

type result struct {
	stdout, stderr string
	code           int
}

// e6 runs the binary to completion (bounded by a minute).
func e6(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e6bin, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("e6 %q: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("e6 %q did not finish within a minute", args)
	}
	return r
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it)\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
