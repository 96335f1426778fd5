package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestQuickstartRuns(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), nil, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"Barbara Liskov", "DECIMAL128", "-9999999999999999999999999999.9999999999",
		"switched to green after 250000 rows", "1000000 rows, sum(id) = 499999500000"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// Every example: -h exits 0, a bad flag exits 2.
func TestHelpAndBadFlagExitCodes(t *testing.T) {
	var out bytes.Buffer
	if code := exitCode(run(context.Background(), []string{"-h"}, &out), &out); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
	if code := exitCode(run(context.Background(), []string{"-bogus"}, &out), &out); code != 2 {
		t.Errorf("-bogus: exit %d", code)
	}
}
