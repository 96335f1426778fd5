package main

import (
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
