package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The example serves the connector's instruments in the Prometheus format.
func TestMetricsExampleServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan string, 1)
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-every", "20ms"}, &out, func(a string) { addrs <- a })
	}()
	var addr string
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("run returned before serving: %v\n%s", err, out.String())
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, err %v", resp.StatusCode, err)
	}
	text := string(body)
	for _, want := range []string{
		`e6data_strategy_transitions_total{`,
		`transition_type="detected"`,
		`e6data_query_duration_seconds_bucket{`,
		`outcome="ok"`,
		`e6data_rows_fetched_total{`,
		`e6data_bytes_fetched_total{`,
		`e6data_queries_in_flight{`,
		`e6data_pool_connections{`,
		`cluster="127.0.0.1:`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", text)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// -duration ends the run by itself.
func TestMetricsExampleDuration(t *testing.T) {
	var out bytes.Buffer
	start := time.Now()
	if err := run(context.Background(), []string{"-listen", "127.0.0.1:0", "-duration", "300ms", "-every", "50ms"}, &out, nil); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "stopped") || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("output:\n%s", out.String())
	}
}

// Every example: -h exits 0, a bad flag exits 2.
func TestHelpAndBadFlagExitCodes(t *testing.T) {
	var out bytes.Buffer
	if code := exitCode(run(context.Background(), []string{"-h"}, &out, nil), &out); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
	if code := exitCode(run(context.Background(), []string{"-bogus"}, &out, nil), &out); code != 2 {
		t.Errorf("-bogus: exit %d", code)
	}
}
