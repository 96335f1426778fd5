package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/e6go/e6data/internal/enginepb"
	"github.com/e6go/e6data/internal/simcmd"
)

func TestBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-strategy", "purple"}, `-strategy "purple": want blue or green`},
		{[]string{"-signal", "smoke"}, `-signal "smoke": want http or grpc`},
		{[]string{"-log-level", "loud"}, `-log-level "loud"`},
		{[]string{"-session-ttl", "-1s"}, "-session-ttl -1s: must not be negative"},
		{[]string{"-resume-time", "soon"}, `invalid value "soon" for flag -resume-time`},
		{[]string{"-chunk-rows", "-5"}, "-chunk-rows -5"},
		{[]string{"-no-such-flag"}, "flag provided but not defined: -no-such-flag"},
		{[]string{"serve"}, `unexpected argument "serve"`},
		{[]string{"-tls-cert", "c.pem"}, "-tls-cert and -tls-key go together"},
		{[]string{"-tls-client-ca", "ca.pem"}, "-tls-client-ca needs -tls-cert and -tls-key"},
		{[]string{"-addr", "50051"}, `-addr "50051": want host:port`},
		{[]string{"-admin", "0.0.0.0:50052"}, "not a loopback address: set -admin-token"},
	} {
		var stdout, stderr strings.Builder
		code := run(context.Background(), tc.args, &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tc.want) || stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 mentioning %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

func TestHelp(t *testing.T) {
	var stdout, stderr strings.Builder
	if code := run(context.Background(), []string{"-h"}, &stdout, &stderr); code != 0 {
		t.Fatalf("-h: exit %d", code)
	}
	for _, f := range []string{"-addr", "-admin-token", "-signal", "-auto-suspend", "-tls-key", "-tls-client-ca", "-log-level"} {
		if !strings.Contains(stderr.String(), f) {
			t.Errorf("usage does not mention %s", f)
		}
	}
}

// syncBuffer is a goroutine-safe writer whose lines can be awaited.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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

var lineRE = regexp.MustCompile(`^e6sim: e6data engine on (\S+), admin on http://(\S+), live strategy (blue|green)\n$`)

func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-strategy", "green",
			"-signal", "grpc", "-log-level", "debug", "-chunk-rows", "7"}, &stdout, &stderr)
	}()
	deadline := time.Now().Add(time.Minute)
	for !strings.HasSuffix(stdout.String(), "\n") {
		select {
		case code := <-done:
			t.Fatalf("run exited %d: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no start line")
		}
		time.Sleep(5 * time.Millisecond)
	}
	m := lineRE.FindStringSubmatch(stdout.String())
	if m == nil || m[3] != "green" {
		t.Fatalf("start line %q", stdout.String())
	}
	engineAddr, adminAddr := m[1], m[2]

	st := getStats(t, adminAddr)
	if st["live"] != "green" || st["signal"] != "grpc" {
		t.Fatalf("stats: %v", st)
	}
	// The engine answers, with the configured signal mode.
	cc, err := grpc.NewClient(engineAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	qe := enginepb.NewQueryEngineServiceClient(cc)
	actx := metadata.AppendToOutgoingContext(ctx, "strategy", "blue")
	if _, err := qe.Authenticate(actx, &enginepb.AuthenticateRequest{User: "u", Password: "p"}); err == nil || !strings.Contains(err.Error(), "status: 456") {
		t.Fatalf("blue on a green simulator: %v", err)
	}

	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d after cancel: %s", code, stderr.String())
	}
	if strings.Count(stdout.String(), "\n") != 1 {
		t.Fatalf("stdout has more than the start line: %q", stdout.String())
	}
	if !strings.Contains(stderr.String(), "shutting down") {
		t.Fatalf("no shutdown log: %s", stderr.String())
	}
}

func TestRunCannotListen(t *testing.T) {
	var stdout, stderr strings.Builder
	code := run(context.Background(), []string{"-addr", "192.0.2.1:1", "-admin", ""}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "engine listener") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

func getStats(t *testing.T, adminAddr string) map[string]any {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://" + adminAddr + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /stats: %d %s %v", resp.StatusCode, b, err)
	}
	return st
}

// The real binary: built, started on free ports, stopped with SIGTERM.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	bin := filepath.Join(t.TempDir(), "e6sim")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-log-level", "warn")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(time.Minute):
		t.Fatal("no start line within a minute")
	}
	m := lineRE.FindStringSubmatch(line)
	if m == nil || m[3] != "blue" {
		t.Fatalf("start line %q", line)
	}
	if st := getStats(t, m[2]); st["live"] != "blue" || st["cluster_status"] != "active" {
		t.Fatalf("stats: %v", st)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("after SIGTERM: %v (want exit 0)", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("did not exit within 30s of SIGTERM")
	}
}

// TestAdminDefaultIsLoopback: without -admin the admin endpoint listens on
// loopback only, so it needs no token.
func TestAdminDefaultIsLoopback(t *testing.T) {
	cfg, err := simcmd.ParseFlags("e6sim", nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AdminAddr == "" || !isLoopback(cfg.AdminAddr) || cfg.AdminToken != "" {
		t.Fatalf("default admin %q (token set: %v)", cfg.AdminAddr, cfg.AdminToken != "")
	}
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}
