package e6data

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
)

const (
	testUser  = "alice@example.com"
	testToken = "s3cr3t-T0ken/@:?#%+&="
)

// baseEnv is a minimal valid environment.
func baseEnv(extra ...string) []string {
	return append([]string{"E6DATA_USERNAME=" + testUser, "E6DATA_PASSWORD=" + testToken}, extra...)
}

func field(c *Config, name string) any {
	return reflect.ValueOf(c).Elem().FieldByName(name).Interface()
}

func findDiag(c *Config, level slog.Level, key string) (Diagnostic, bool) {
	for _, d := range c.Diagnostics() {
		if d.Level == level && d.Key == key {
			return d, true
		}
	}
	return Diagnostic{}, false
}

func diagsAtLeast(c *Config, level slog.Level) []Diagnostic {
	var out []Diagnostic
	for _, d := range c.Diagnostics() {
		if d.Level >= level {
			out = append(out, d)
		}
	}
	return out
}

type clampCase struct {
	value string
	want  any
	bound string // the bound as the WARN names it
}

// envCase is one variable of docs/configuration.md (with the Go connector's additions).
type envCase struct {
	env     string
	field   string
	dsn     string // DSN query key ("" for URL parts)
	def     any
	valid   string
	want    any
	clamps  []clampCase
	bad     string   // unparsable value ("" when every text is valid)
	extra   []string // other variables the valid value needs
	noDiags bool     // the valid value yields no WARN/ERROR diagnostic
}

var envCases = []envCase{
	{env: "E6DATA_HOST", field: "Host", def: "localhost", valid: "db.example.com", want: "db.example.com", bad: "http://x/", noDiags: true},
	{env: "E6DATA_PORT", field: "Port", def: 80, valid: "443", want: 443, bad: "abc", noDiags: true,
		clamps: []clampCase{{"0", 1, "minimum 1"}, {"70000", 65535, "maximum 65535"}}},
	{env: "E6DATA_USERNAME", field: "User", def: testUser, valid: "bob@example.com", want: "bob@example.com", noDiags: true},
	{env: "E6DATA_PASSWORD", field: "Token", def: testToken, valid: "other-token", want: "other-token", noDiags: true},
	{env: "E6DATA_CATALOG", field: "Catalog", dsn: "catalog", def: "", valid: "hive", want: "hive", noDiags: true},
	{env: "E6DATA_DATABASE", field: "Database", def: "", valid: "sales", want: "sales", noDiags: true},
	{env: "E6DATA_CLUSTER_UUID", field: "ClusterName", dsn: "cluster-name", def: "", valid: "My-Cluster", want: "My-Cluster", noDiags: true},
	{env: "E6DATA_CLUSTER_NAME", field: "ClusterName", dsn: "cluster-uuid", def: "", valid: "other", want: "other", noDiags: true},
	{env: "E6DATA_SECURE", field: "Secure", dsn: "secure", def: false, valid: "yes", want: true, bad: "maybe", noDiags: true},
	{env: "E6DATA_AUTO_RESUME", field: "AutoResume", dsn: "auto-resume", def: true, valid: "off", want: false, bad: "maybe", noDiags: true},
	{env: "E6DATA_STRATEGY_CACHE_TIMEOUT", field: "StrategyCacheTimeout", dsn: "strategy-cache-timeout", def: 300 * time.Second,
		valid: "120", want: 120 * time.Second, bad: "abc", noDiags: true,
		clamps: []clampCase{{"5", 60 * time.Second, "minimum 60 s"}, {"5000", 1800 * time.Second, "maximum 1800 s"}}},
	{env: "E6DATA_MAX_RETRY_ATTEMPTS", field: "MaxRetryAttempts", dsn: "max-retry-attempts", def: 5, valid: "7", want: 7, bad: "five", noDiags: true,
		clamps: []clampCase{{"0", 1, "minimum 1"}, {"11", 10, "maximum 10"}}},
	{env: "E6DATA_RETRY_BACKOFF_FACTOR", field: "RetryBackoff", dsn: "retry-backoff", def: 200 * time.Millisecond,
		valid: "0.5", want: 500 * time.Millisecond, bad: "fast", noDiags: true,
		clamps: []clampCase{{"0.01", 100 * time.Millisecond, "minimum 0.1 s"}, {"3", 2 * time.Second, "maximum 2 s"}}},
	{env: "E6DATA_STRATEGY_DETECTION_TIMEOUT", field: "StrategyDetectionTimeout", dsn: "strategy-detection-timeout", def: 30 * time.Second,
		valid: "45", want: 45 * time.Second, bad: "x", noDiags: true,
		clamps: []clampCase{{"1", 10 * time.Second, "minimum 10 s"}, {"500", 120 * time.Second, "maximum 120 s"}}},
	// Unparsable E6DATA_STRATEGY_VALIDATION cannot switch to lenient mode:
	// it is always an error (see TestConfigLenientSwitchItselfBad).
	{env: "E6DATA_STRATEGY_VALIDATION", field: "StrictValidation", dsn: "strategy-validation", def: true, valid: "false", want: false, noDiags: true},
	{env: "E6DATA_KEEPALIVE_TIMEOUT_MS", field: "KeepaliveTimeout", dsn: "keepalive-timeout-ms", def: 60 * time.Second,
		valid: "20000", want: 20 * time.Second, bad: "x", noDiags: true,
		clamps: []clampCase{{"10", time.Second, "minimum 1000 ms"}}},
	{env: "E6DATA_KEEPALIVE_TIME_MS", field: "KeepaliveTime", dsn: "keepalive-time-ms", def: 30 * time.Second,
		valid: "45000", want: 45 * time.Second, bad: "x", noDiags: true,
		clamps: []clampCase{{"5000", 10 * time.Second, "minimum 10000 ms"}}},
	{env: "E6DATA_MAX_RECEIVE_MSG_LENGTH", field: "MaxRecvMsgSize", dsn: "max-receive-msg-length", def: 104857600,
		valid: "209715200", want: 209715200, bad: "100MB", noDiags: true,
		clamps: []clampCase{{"1000", 1 << 20, "minimum 1048576"}, {"99999999999999999999999", 2147483647, "maximum 2147483647"}}},
	{env: "E6DATA_MAX_SEND_MSG_LENGTH", field: "MaxSendMsgSize", dsn: "max-send-msg-length", def: 104857600,
		valid: "52428800", want: 52428800, bad: "1.5", noDiags: true,
		clamps: []clampCase{{"1", 1 << 20, "minimum 1048576"}}},
	{env: "E6DATA_PREPARE_TIMEOUT", field: "PrepareTimeout", dsn: "prepare-timeout", def: 600 * time.Second,
		valid: "900", want: 900 * time.Second, bad: "soon", noDiags: true,
		clamps: []clampCase{{"0", time.Second, "minimum 1 s"}}},
	{env: "E6DATA_AUTO_RESUME_TIMEOUT", field: "AutoResumeTimeout", dsn: "auto-resume-timeout", def: 300 * time.Second,
		valid: "600", want: 600 * time.Second, bad: "later", noDiags: true,
		clamps: []clampCase{{"0", time.Second, "minimum 1 s"}}},
	{env: "E6DATA_LOG_LEVEL", field: "LogLevel", dsn: "log-level", def: slog.LevelInfo, valid: "debug", want: slog.LevelDebug, bad: "LOUD", noDiags: true},
	{env: "E6DATA_STRATEGY_LOG_LEVEL", field: "StrategyLogLevel", dsn: "strategy-log-level", def: slog.LevelInfo, valid: "WARNING", want: slog.LevelWarn, bad: "VERBOSE", noDiags: true},
	{env: "E6DATA_GRPC_LOG_LEVEL", field: "GRPCLogLevel", dsn: "grpc-log-level", def: slog.LevelWarn, valid: "CRITICAL", want: LevelCritical, bad: "TRACE", noDiags: true},
	{env: "E6DATA_LOG_FORMAT", field: "LogFormat", dsn: "log-format", def: "text", valid: "JSON", want: "json", bad: "xml", noDiags: true},
	{env: "E6DATA_LOG_OUTPUT", field: "LogOutput", dsn: "log-output", def: "stderr", valid: "stdout", want: "stdout", bad: "file", noDiags: true},
	{env: "E6DATA_STRATEGY_CACHE_SIZE", field: "StrategyCacheSize", dsn: "strategy-cache-size", def: 1, valid: "3", want: 3, bad: "one", noDiags: true,
		clamps: []clampCase{{"0", 1, "minimum 1"}}},
	{env: "E6DATA_QUERY_MAPPING_CACHE_SIZE", field: "QueryMappingCacheSize", dsn: "query-mapping-cache-size", def: 1000, valid: "50", want: 50, bad: "lots", noDiags: true,
		clamps: []clampCase{{"-3", 1, "minimum 1"}}},
	{env: "E6DATA_CACHE_CLEANUP_INTERVAL", field: "CacheCleanupInterval", dsn: "cache-cleanup-interval", def: 300 * time.Second,
		valid: "60", want: 60 * time.Second, bad: "hourly", noDiags: true, clamps: []clampCase{{"0", time.Second, "minimum 1 s"}}},
	{env: "E6DATA_CACHE_TTL", field: "CacheTTL", dsn: "cache-ttl", def: 300 * time.Second,
		valid: "30", want: 30 * time.Second, bad: "x", noDiags: true, clamps: []clampCase{{"-5", time.Second, "minimum 1 s"}}},
	{env: "E6DATA_MAX_CONNECTIONS", field: "MaxConnections", dsn: "max-connections", def: 10, valid: "20", want: 20, bad: "many", noDiags: true,
		clamps: []clampCase{{"0", 1, "minimum 1"}}},
	{env: "E6DATA_MIN_CONNECTIONS", field: "MinConnections", dsn: "min-connections", def: 1, valid: "5", want: 5, bad: "few", noDiags: true,
		clamps: []clampCase{{"-1", 0, "minimum 0"}, {"50", 10, "maximum 10"}}},
	{env: "E6DATA_CONNECTION_TIMEOUT", field: "ConnectionTimeout", dsn: "connection-timeout", def: 30 * time.Second,
		valid: "60", want: 60 * time.Second, bad: "x", noDiags: true, clamps: []clampCase{{"0", time.Second, "minimum 1 s"}}},
	{env: "E6DATA_IDLE_TIMEOUT", field: "IdleTimeout", dsn: "idle-timeout", def: 300 * time.Second,
		valid: "600", want: 600 * time.Second, bad: "x", noDiags: true, clamps: []clampCase{{"0", time.Second, "minimum 1 s"}}},
	{env: "E6DATA_MAX_LIFETIME", field: "MaxLifetime", dsn: "max-lifetime", def: 3600 * time.Second,
		valid: "7200", want: 7200 * time.Second, bad: "x", noDiags: true, clamps: []clampCase{{"0", time.Second, "minimum 1 s"}}},

	// The Go connector's additions.
	{env: "E6DATA_PROFILE", field: "Profile", dsn: "profile", def: "", valid: "high-performance", want: "high-performance", bad: "turbo", noDiags: true},
	{env: "E6DATA_CA_FILE", field: "CAFile", dsn: "ca-file", def: "", valid: "/etc/e6/ca.pem", want: "/etc/e6/ca.pem", extra: []string{"E6DATA_SECURE=true"}, noDiags: true},
	{env: "E6DATA_CLIENT_CERT", field: "ClientCertFile", dsn: "client-cert", def: "", valid: "/c.pem", want: "/c.pem",
		extra: []string{"E6DATA_SECURE=true", "E6DATA_CLIENT_KEY=/k.pem"}, noDiags: true},
	{env: "E6DATA_CLIENT_KEY", field: "ClientKeyFile", dsn: "client-key", def: "", valid: "/k.pem", want: "/k.pem",
		extra: []string{"E6DATA_SECURE=true", "E6DATA_CLIENT_CERT=/c.pem"}, noDiags: true},
	{env: "E6DATA_SERVER_NAME", field: "ServerName", dsn: "server-name", def: "", valid: "e6.example.com", want: "e6.example.com", extra: []string{"E6DATA_SECURE=1"}, noDiags: true},
	{env: "E6DATA_INSECURE_SKIP_VERIFY", field: "InsecureSkipVerify", dsn: "insecure-skip-verify", def: false, valid: "true", want: true, bad: "sure"},
	{env: "E6DATA_KEEPALIVE_PERMIT_WITHOUT_CALLS", field: "KeepalivePermitWithoutCalls", dsn: "keepalive-permit-without-calls", def: true, valid: "0", want: false, bad: "2", noDiags: true},
	{env: "E6DATA_RESUME_POLL_INTERVAL", field: "ResumePollInterval", dsn: "resume-poll-interval", def: 5 * time.Second,
		valid: "2", want: 2 * time.Second, bad: "x", noDiags: true,
		clamps: []clampCase{{"0", 100 * time.Millisecond, "minimum 0.1 s"}, {"1000", 300 * time.Second, "maximum 300 s"}}},
	{env: "E6DATA_GRPC_CONNECTIONS", field: "GRPCConnections", dsn: "grpc-connections", def: 0, valid: "3", want: 3, bad: "many", noDiags: true,
		clamps: []clampCase{{"-1", 0, "minimum 0"}, {"65", 64, "maximum 64"}}},
	{env: "E6DATA_SERVER_SIDE_PARAMS", field: "ServerSideParams", dsn: "server-side-params", def: false, valid: "ON", want: true, bad: "y", noDiags: true},
	{env: "E6DATA_PREFETCH", field: "PrefetchDepth", dsn: "prefetch", def: 1, valid: "4", want: 4, bad: "deep", noDiags: true,
		clamps: []clampCase{{"-1", 0, "minimum 0"}, {"100", 64, "maximum 64"}}},
	{env: "E6DATA_QUERY_TIMEOUT", field: "QueryTimeout", dsn: "query-timeout", def: time.Duration(0), valid: "1m30s", want: 90 * time.Second, bad: "x", noDiags: true,
		clamps: []clampCase{{"-1", time.Duration(0), "minimum 0 s"}}},
}

// TestConfigEnvCasesCoverEverySetting keeps envCases complete.
func TestConfigEnvCasesCoverEverySetting(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range envCases {
		covered[c.env] = true
	}
	for _, name := range knownEnvNames() {
		if !covered[name] {
			t.Errorf("no test case for %s", name)
		}
	}
}

func TestConfigEnvDefault(t *testing.T) {
	for _, tc := range envCases {
		t.Run(tc.env, func(t *testing.T) {
			c, err := LoadConfig("", baseEnv())
			if err != nil {
				t.Fatal(err)
			}
			if got := field(c, tc.field); got != tc.def {
				t.Errorf("%s default = %v, want %v", tc.field, got, tc.def)
			}
		})
	}
}

func TestConfigEnvValid(t *testing.T) {
	for _, tc := range envCases {
		t.Run(tc.env, func(t *testing.T) {
			c, err := LoadConfig("", baseEnv(append([]string{tc.env + "=" + tc.valid}, tc.extra...)...))
			if err != nil {
				t.Fatal(err)
			}
			if got := field(c, tc.field); got != tc.want {
				t.Errorf("%s=%s: %s = %v, want %v", tc.env, tc.valid, tc.field, got, tc.want)
			}
			if got := c.Source(tc.env); got != SourceEnv {
				t.Errorf("Source(%s) = %s, want env", tc.env, got)
			}
			if tc.noDiags {
				if d := diagsAtLeast(c, slog.LevelWarn); len(d) > 0 {
					t.Errorf("unexpected diagnostics: %v", d)
				}
			}
		})
	}
}

func TestConfigEnvOutOfRangeClamped(t *testing.T) {
	for _, tc := range envCases {
		for _, cl := range tc.clamps {
			t.Run(tc.env+"="+cl.value, func(t *testing.T) {
				c, err := LoadConfig("", baseEnv(tc.env+"="+cl.value))
				if err != nil {
					t.Fatal(err)
				}
				if got := field(c, tc.field); got != cl.want {
					t.Errorf("%s = %v, want %v (clamped)", tc.field, got, cl.want)
				}
				d, ok := findDiag(c, slog.LevelWarn, tc.env)
				if !ok {
					t.Fatalf("no WARN diagnostic for %s; have %v", tc.env, c.Diagnostics())
				}
				for _, want := range []string{tc.env, cl.value, cl.bound} {
					if !strings.Contains(d.Message, want) {
						t.Errorf("WARN %q does not name %q", d.Message, want)
					}
				}
				if d.Value != cl.value {
					t.Errorf("diagnostic value = %q, want %q", d.Value, cl.value)
				}
			})
		}
	}
}

func TestConfigEnvUnparsable(t *testing.T) {
	for _, tc := range envCases {
		if tc.bad == "" {
			continue
		}
		t.Run(tc.env, func(t *testing.T) {
			_, err := LoadConfig("", baseEnv(tc.env+"="+tc.bad))
			if err == nil {
				t.Fatalf("%s=%s: no error", tc.env, tc.bad)
			}
			if !errors.Is(err, ErrConfig) {
				t.Errorf("error %v is not ErrConfig", err)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *ConfigError", err)
			}
			if ce.Key != tc.env || ce.Value != tc.bad || ce.Expected == "" || ce.Source != "env" {
				t.Errorf("ConfigError = %+v", *ce)
			}
			for _, want := range []string{tc.env, tc.bad, "expected " + ce.Expected} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
		t.Run(tc.env+"/lenient", func(t *testing.T) {
			c, err := LoadConfig("", baseEnv(tc.env+"="+tc.bad, "E6DATA_STRATEGY_VALIDATION=false"))
			if err != nil {
				t.Fatalf("lenient mode: %v", err)
			}
			if got := field(c, tc.field); got != tc.def {
				t.Errorf("%s = %v, want the default %v", tc.field, got, tc.def)
			}
			d, ok := findDiag(c, slog.LevelError, tc.env)
			if !ok {
				t.Fatalf("no ERROR diagnostic; have %v", c.Diagnostics())
			}
			if !strings.Contains(d.Message, tc.env) || !strings.Contains(d.Message, tc.bad) || !strings.Contains(d.Message, "expected") {
				t.Errorf("ERROR diagnostic %q lacks variable, value or expectation", d.Message)
			}
		})
	}
}

// The same rules hold for the DSN keys.
func TestConfigDSNKeysLikeEnv(t *testing.T) {
	for _, tc := range envCases {
		if tc.dsn == "" {
			continue
		}
		t.Run(tc.dsn, func(t *testing.T) {
			dsn := "e6data://u:t@h?" + tc.dsn + "=" + escapeDSN(tc.valid, "")
			c, err := LoadConfig(dsn, nil)
			if err != nil && tc.extra == nil {
				t.Fatal(err)
			}
			if err == nil {
				if got := field(c, tc.field); got != tc.want {
					t.Errorf("%s: %s = %v, want %v", dsn, tc.field, got, tc.want)
				}
				if c.Source(tc.field) != SourceDSN {
					t.Errorf("source = %s", c.Source(tc.field))
				}
			}
			for _, cl := range tc.clamps {
				c, err := ParseDSN("e6data://u:t@h?" + tc.dsn + "=" + cl.value)
				if err != nil {
					t.Fatal(err)
				}
				if got := field(c, tc.field); got != cl.want {
					t.Errorf("%s=%s: %v, want %v", tc.dsn, cl.value, got, cl.want)
				}
				if d, ok := findDiag(c, slog.LevelWarn, tc.dsn); !ok || !strings.Contains(d.Message, cl.bound) {
					t.Errorf("WARN for %s=%s: %v", tc.dsn, cl.value, c.Diagnostics())
				}
			}
			if tc.bad != "" {
				_, err := ParseDSN("e6data://u:t@h?" + tc.dsn + "=" + escapeDSN(tc.bad, ""))
				var ce *ConfigError
				if !errors.As(err, &ce) || ce.Key != tc.dsn || ce.Value != tc.bad || ce.Source != "dsn" {
					t.Errorf("bad %s: %v", tc.dsn, err)
				}
				c, err := ParseDSN("e6data://u:t@h?strategy-validation=false&" + tc.dsn + "=" + escapeDSN(tc.bad, ""))
				if err != nil {
					t.Fatalf("lenient: %v", err)
				}
				if _, ok := findDiag(c, slog.LevelError, tc.dsn); !ok {
					t.Errorf("lenient: no ERROR diagnostic: %v", c.Diagnostics())
				}
			}
		})
	}
}

func TestConfigLenientSwitchItselfBad(t *testing.T) {
	_, err := LoadConfig("", baseEnv("E6DATA_STRATEGY_VALIDATION=perhaps"))
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Key != "E6DATA_STRATEGY_VALIDATION" {
		t.Fatalf("err = %v", err)
	}
}

// In lenient mode a bad value keeps what the lower layer gave.
func TestConfigLenientKeepsLowerLayer(t *testing.T) {
	c, err := LoadConfig("e6data://u:t@h:abc?strategy-validation=false", baseEnv("E6DATA_PORT=8443"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 8443 || c.Source("Port") != SourceEnv {
		t.Errorf("port %d from %s, want 8443 from env", c.Port, c.Source("Port"))
	}
	d, ok := findDiag(c, slog.LevelError, "port")
	if !ok || !strings.Contains(d.Message, "8443") {
		t.Errorf("diagnostic: %v", c.Diagnostics())
	}
}

func TestConfigEnvBoolForms(t *testing.T) {
	for _, v := range []string{"true", "TRUE", "1", "yes", "Yes", "on", "ON"} {
		c, err := LoadConfig("", baseEnv("E6DATA_SECURE="+v))
		if err != nil || !c.Secure {
			t.Errorf("%q: secure=%v err=%v", v, c != nil && c.Secure, err)
		}
	}
	for _, v := range []string{"false", "False", "0", "no", "NO", "off", "Off"} {
		c, err := LoadConfig("", baseEnv("E6DATA_AUTO_RESUME="+v))
		if err != nil || c.AutoResume {
			t.Errorf("%q: auto-resume=%v err=%v", v, c != nil && c.AutoResume, err)
		}
	}
}

func TestConfigEnvLevelForms(t *testing.T) {
	for in, want := range map[string]slog.Level{
		"DEBUG": slog.LevelDebug, "info": slog.LevelInfo, "WARNING": slog.LevelWarn, "warn": slog.LevelWarn,
		"ERROR": slog.LevelError, "critical": LevelCritical, "INFO+2": slog.Level(2),
	} {
		c, err := LoadConfig("", baseEnv("E6DATA_LOG_LEVEL="+in))
		if err != nil || c.LogLevel != want {
			t.Errorf("%q: %v %v, want %v", in, c.LogLevel, err, want)
		}
	}
}

func TestConfigEnvDurationForms(t *testing.T) {
	for _, tc := range []struct {
		env, value string
		field      string
		want       time.Duration
	}{
		{"E6DATA_PREPARE_TIMEOUT", "90", "PrepareTimeout", 90 * time.Second},
		{"E6DATA_PREPARE_TIMEOUT", "1.5", "PrepareTimeout", 1500 * time.Millisecond},
		{"E6DATA_PREPARE_TIMEOUT", "10m", "PrepareTimeout", 10 * time.Minute},
		{"E6DATA_KEEPALIVE_TIME_MS", "45000", "KeepaliveTime", 45 * time.Second},
		{"E6DATA_KEEPALIVE_TIME_MS", "1m", "KeepaliveTime", time.Minute},
		{"E6DATA_RETRY_BACKOFF_FACTOR", "250ms", "RetryBackoff", 250 * time.Millisecond},
		{"E6DATA_RETRY_BACKOFF_FACTOR", " 0.3 ", "RetryBackoff", 300 * time.Millisecond},
	} {
		c, err := LoadConfig("", baseEnv(tc.env+"="+tc.value))
		if err != nil {
			t.Fatalf("%s=%s: %v", tc.env, tc.value, err)
		}
		if got := field(c, tc.field); got != tc.want {
			t.Errorf("%s=%s: %v, want %v", tc.env, tc.value, got, tc.want)
		}
	}
	for _, bad := range []string{"NaN", "inf", "-Inf", "1e", "5 minutes"} {
		if _, err := LoadConfig("", baseEnv("E6DATA_PREPARE_TIMEOUT="+bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// A number too large for a duration is out of range: clamped.
	c, err := LoadConfig("", baseEnv("E6DATA_STRATEGY_CACHE_TIMEOUT=1e300"))
	if err != nil || c.StrategyCacheTimeout != 1800*time.Second {
		t.Errorf("1e300: %v %v", c.StrategyCacheTimeout, err)
	}
}

func TestConfigEnvEmptyIsUnset(t *testing.T) {
	c, err := LoadConfig("", baseEnv("E6DATA_PORT=", "E6DATA_HOST="))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 80 || c.Host != "localhost" || c.Source("E6DATA_PORT") != SourceDefault {
		t.Errorf("empty variables were used: %s:%d", c.Host, c.Port)
	}
}

func TestConfigEnvClusterSynonym(t *testing.T) {
	c, err := LoadConfig("", baseEnv("E6DATA_CLUSTER_NAME=b", "E6DATA_CLUSTER_UUID=a"))
	if err != nil {
		t.Fatal(err)
	}
	if c.ClusterName != "a" {
		t.Errorf("ClusterName = %q, want the E6DATA_CLUSTER_UUID value", c.ClusterName)
	}
	if _, ok := findDiag(c, slog.LevelWarn, "E6DATA_CLUSTER_NAME"); !ok {
		t.Errorf("no WARN for conflicting synonyms: %v", c.Diagnostics())
	}
}

func TestConfigEnvUnknownVariable(t *testing.T) {
	c, err := LoadConfig("", baseEnv(
		"E6DATA_STRATEGY_CACHE_TIMOUT=100", // typo
		"E6DATA_MAX_RETRIES=3",
		"E6DATA_ZZZZZZZZZZZZZZZZZZ=secret-value",
		"OTHER_VAR=1",
	))
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"E6DATA_STRATEGY_CACHE_TIMOUT": "did you mean E6DATA_STRATEGY_CACHE_TIMEOUT?",
		"E6DATA_MAX_RETRIES":           "did you mean E6DATA_MAX_RETRY_ATTEMPTS?",
		"E6DATA_ZZZZZZZZZZZZZZZZZZ":    "unknown variable E6DATA_ZZZZZZZZZZZZZZZZZZ is ignored",
	} {
		d, ok := findDiag(c, slog.LevelWarn, key)
		if !ok || !strings.Contains(d.Message, want) {
			t.Errorf("%s: %v", key, c.Diagnostics())
		}
		if strings.Contains(d.Message, "secret-value") || d.Value != "" {
			t.Errorf("unknown variable's value shown: %+v", d)
		}
	}
	if d, _ := findDiag(c, slog.LevelWarn, "E6DATA_ZZZZZZZZZZZZZZZZZZ"); strings.Contains(d.Message, "did you mean") {
		t.Errorf("far-off name got a suggestion: %s", d.Message)
	}
	if len(c.Diagnostics()) != 3 {
		t.Errorf("diagnostics: %v", c.Diagnostics())
	}
}

func TestConfigMinConnectionsClampedToMax(t *testing.T) {
	c, err := LoadConfig("e6data://u:t@h?max-connections=3", baseEnv("E6DATA_MIN_CONNECTIONS=5"))
	if err != nil {
		t.Fatal(err)
	}
	if c.MinConnections != 3 {
		t.Errorf("MinConnections = %d, want 3", c.MinConnections)
	}
	d, ok := findDiag(c, slog.LevelWarn, "E6DATA_MIN_CONNECTIONS")
	if !ok || !strings.Contains(d.Message, "maximum 3") || !strings.Contains(d.Message, "max-connections") {
		t.Errorf("diagnostic: %v", c.Diagnostics())
	}
	// In code it is an error.
	_, err = LoadConfig("", baseEnv(), func(c *Config) error { c.MinConnections = 20; return nil })
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "MinConnections") {
		t.Errorf("code min > max: %v", err)
	}
}

// Precedence: defaults < profile < environment < DSN < options.
func TestConfigPrecedence(t *testing.T) {
	const dsnBase = "e6data://u:t@h"
	steps := []struct {
		name    string
		dsn     string
		env     []string
		opts    []Option
		want    int
		wantSrc Source
	}{
		{"default", dsnBase, nil, nil, 5, SourceDefault},
		{"profile", dsnBase, []string{"E6DATA_PROFILE=development"}, nil, 3, SourceProfile},
		{"env", dsnBase, []string{"E6DATA_PROFILE=development", "E6DATA_MAX_RETRY_ATTEMPTS=4"}, nil, 4, SourceEnv},
		{"dsn", dsnBase + "?max-retry-attempts=6", []string{"E6DATA_PROFILE=development", "E6DATA_MAX_RETRY_ATTEMPTS=4"}, nil, 6, SourceDSN},
		{"option", dsnBase + "?max-retry-attempts=6", []string{"E6DATA_PROFILE=development", "E6DATA_MAX_RETRY_ATTEMPTS=4"},
			[]Option{WithRetry(7, time.Second)}, 7, SourceCode},
		{"profile in DSN still below env", dsnBase + "?profile=high-performance", []string{"E6DATA_MAX_RETRY_ATTEMPTS=4"}, nil, 4, SourceEnv},
		{"WithProfile below explicit env", dsnBase, []string{"E6DATA_MAX_RETRY_ATTEMPTS=4"}, []Option{WithProfile("development")}, 4, SourceEnv},
		{"WithProfile re-bases defaults", dsnBase, nil, []Option{WithProfile("development")}, 3, SourceProfile},
		{"WithProfile after an option", dsnBase, nil, []Option{WithRetry(9, time.Second), WithProfile("development")}, 9, SourceCode},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			c, err := LoadConfig(s.dsn, s.env, s.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if c.MaxRetryAttempts != s.want || c.Source("MaxRetryAttempts") != s.wantSrc {
				t.Errorf("MaxRetryAttempts = %d from %s, want %d from %s", c.MaxRetryAttempts, c.Source("MaxRetryAttempts"), s.want, s.wantSrc)
			}
		})
	}
	// Source accepts the field, the variable and the DSN key.
	c, _ := LoadConfig(dsnBase+"?max-retry-attempts=6", nil)
	for _, name := range []string{"MaxRetryAttempts", "E6DATA_MAX_RETRY_ATTEMPTS", "max-retry-attempts", "maxretryattempts"} {
		if c.Source(name) != SourceDSN {
			t.Errorf("Source(%q) = %s", name, c.Source(name))
		}
	}
}

func TestConfigRequiredCredentials(t *testing.T) {
	_, err := LoadConfig("", nil)
	if err == nil || !strings.Contains(err.Error(), "E6DATA_USERNAME") || !strings.Contains(err.Error(), "E6DATA_PASSWORD") {
		t.Errorf("missing credentials: %v", err)
	}
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Errorf("not a ConfigError: %v", err)
	}
	// A token provider replaces the token.
	if _, err := LoadConfig("", []string{"E6DATA_USERNAME=u"}, WithTokenProvider(staticToken("x"))); err != nil {
		t.Error(err)
	}
}

// All problems are reported at once.
func TestConfigAllErrorsJoined(t *testing.T) {
	_, err := LoadConfig("", baseEnv("E6DATA_PORT=x", "E6DATA_SECURE=x", "E6DATA_CACHE_TTL=x"))
	for _, v := range []string{"E6DATA_PORT", "E6DATA_SECURE", "E6DATA_CACHE_TTL"} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("error %v does not name %s", err, v)
		}
	}
}

func TestConfigValidateHandBuilt(t *testing.T) {
	c := DefaultConfig()
	c.User, c.Token = "u", "t"
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults + credentials: %v", err)
	}
	c.MaxRetryAttempts = 50
	c.LogFormat = "yaml"
	c.Host = "h:1"
	err := c.Validate()
	for _, want := range []string{"MaxRetryAttempts", "LogFormat", "Host", "between 1 and 10"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v lacks %q", err, want)
		}
	}
	if c.Source("MaxRetryAttempts") != SourceCode || c.Source("Port") != SourceDefault {
		t.Errorf("hand-built sources: %s %s", c.Source("MaxRetryAttempts"), c.Source("Port"))
	}
	var zero Config
	if zero.Validate() == nil {
		t.Error("zero Config validated")
	}
}

func TestConfigErrorUnwrap(t *testing.T) {
	e := &ConfigError{Key: "E6DATA_PORT", Value: "x", Expected: "an integer", Source: "env"}
	if !errors.Is(e, ErrConfig) || errors.Unwrap(e) != ErrConfig {
		t.Error("ConfigError does not unwrap to ErrConfig")
	}
	if got := e.Error(); got != `e6data: invalid configuration: env E6DATA_PORT="x": expected an integer` {
		t.Errorf("Error() = %s", got)
	}
}

func TestConfigClone(t *testing.T) {
	c, err := LoadConfig("e6data://u:t@h?profile=production", nil, WithCAPEM([]byte("pem")), WithDialOptions())
	if err != nil {
		t.Fatal(err)
	}
	n := c.Clone()
	n.CAPEM[0] = 'X'
	n.sources["Host"] = SourceCode
	n.Port = 1
	if c.CAPEM[0] != 'p' || c.Source("Host") != SourceDSN || c.Port != 443 {
		t.Error("Clone shares state with the original")
	}
	if !reflect.DeepEqual(c.Settings(), c.Clone().Settings()) {
		t.Error("Clone differs")
	}
	if (*Config)(nil).Clone() != nil {
		t.Error("nil Clone")
	}
}

func TestConfigSettings(t *testing.T) {
	c, err := LoadConfig("e6data://u:t@h?profile=production&max-retry-attempts=7", nil)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Setting{}
	for _, s := range c.Settings() {
		byName[s.Name] = s
		if s.Option == "" || s.Description == "" {
			t.Errorf("%s: no option or description", s.Name)
		}
	}
	if len(byName) != len(settingSpecs) {
		t.Errorf("%d settings, want %d", len(byName), len(settingSpecs))
	}
	if s := byName["MaxRetryAttempts"]; s.Value != "7" || s.Default != "5" || s.Source != SourceDSN || s.Range != "1–10" ||
		s.Env != "E6DATA_MAX_RETRY_ATTEMPTS" || s.DSNKey != "max-retry-attempts" {
		t.Errorf("MaxRetryAttempts: %+v", s)
	}
	if s := byName["PrepareTimeout"]; s.Value != "900" || s.Default != "900" || s.Source != SourceProfile {
		t.Errorf("PrepareTimeout: %+v", s)
	}
	if s := byName["Token"]; s.Value != redactedValue {
		t.Errorf("Token shown: %+v", s)
	}
}

func TestConfigApply(t *testing.T) {
	c, err := LoadConfig("e6data://u:t@h?max-retry-attempts=7", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(WithProfile("development"), WithSetting("Port", "9000")); err != nil {
		t.Fatal(err)
	}
	if c.MaxRetryAttempts != 7 || c.StrategyCacheTimeout != 60*time.Second || c.Port != 9000 || c.Source("Port") != SourceCode {
		t.Errorf("Apply: %s", c)
	}
	hand := DefaultConfig()
	hand.User, hand.Token, hand.MaxRetryAttempts = "u", "t", 8
	if err := hand.Apply(WithProfile("development")); err != nil {
		t.Fatal(err)
	}
	if hand.MaxRetryAttempts != 8 || hand.LogLevel != slog.LevelDebug {
		t.Errorf("hand-built Apply: retries %d level %v", hand.MaxRetryAttempts, hand.LogLevel)
	}
	if err := hand.Apply(WithSetting("Port", "0")); err == nil {
		t.Error(`Apply(WithSetting("Port", "0")) accepted`)
	}
}

func TestConfigDiagnosticString(t *testing.T) {
	d := Diagnostic{Level: slog.LevelWarn, Message: "m"}
	if d.String() != "WARN m" {
		t.Error(d.String())
	}
	if (Diagnostic{Level: LevelCritical, Message: "m"}).String() != "CRITICAL m" {
		t.Error("CRITICAL")
	}
}

func TestConfigTLSDiagnostics(t *testing.T) {
	c, err := LoadConfig("e6data://u:t@h?ca-file=/ca.pem", nil)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := findDiag(c, slog.LevelWarn, "ca-file"); !ok || !strings.Contains(d.Message, "secure is false") {
		t.Errorf("no WARN for TLS settings without secure: %v", c.Diagnostics())
	}
	c, err = LoadConfig("e6data://u:t@h?secure=true&insecure-skip-verify=true", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := findDiag(c, slog.LevelWarn, "insecure-skip-verify"); !ok {
		t.Errorf("no WARN for insecure-skip-verify: %v", c.Diagnostics())
	}
}

func staticToken(tok string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return tok, nil }
}

// A DSN value wins over an unreadable variable for the same setting (then
// a WARN); an unreadable variable nothing else sets stays an error.
func TestDSNWinsOverUnreadableEnv(t *testing.T) {
	env := []string{"E6DATA_USERNAME=u", "E6DATA_PASSWORD=p", "E6DATA_PORT=abc"}
	c, err := LoadConfig("e6data://h:4000/", env)
	if err != nil {
		t.Fatalf("DSN port with E6DATA_PORT=abc: %v", err)
	}
	if c.Port != 4000 || c.Source("Port") != SourceDSN {
		t.Fatalf("port %d from %s", c.Port, c.Source("Port"))
	}
	found := false
	for _, d := range c.Diagnostics() {
		found = found || d.Level == slog.LevelWarn && d.Key == "E6DATA_PORT" && strings.Contains(d.Message, "DSN")
	}
	if !found {
		t.Fatalf("no WARN for E6DATA_PORT: %v", c.Diagnostics())
	}
	if _, err := LoadConfig("e6data://h/", env); err == nil || !strings.Contains(err.Error(), "E6DATA_PORT") {
		t.Fatalf("no DSN port: want the E6DATA_PORT error, got %v", err)
	}
}

// secure=true with no port given means 443; a port given is kept.
func TestSecureWithoutPortIs443(t *testing.T) {
	env := []string{"E6DATA_USERNAME=u", "E6DATA_PASSWORD=p"}
	for dsn, want := range map[string]int{
		"e6data://h/?secure=true":      443,
		"e6data://h:8443/?secure=true": 8443,
		"e6data://h/":                  80,
	} {
		c, err := LoadConfig(dsn, env)
		if err != nil {
			t.Fatal(err)
		}
		if c.Port != want {
			t.Errorf("%s: port %d, want %d", dsn, c.Port, want)
		}
	}
	c, err := LoadConfig("", append(env, "E6DATA_SECURE=true"))
	if err != nil || c.Port != 443 {
		t.Fatalf("E6DATA_SECURE=true: port %v, %v", c, err)
	}
}

// Names from other tools and lower-case names get a hint.
func TestEnvTypoHints(t *testing.T) {
	for name, want := range map[string]string{
		"E6DATA_TOKEN":    "did you mean E6DATA_PASSWORD?",
		"E6DATA_HOSTNAME": "did you mean E6DATA_HOST?",
		"E6DATA_USER":     "did you mean E6DATA_USERNAME?",
		"e6data_port":     "did you mean E6DATA_PORT?",
		"E6data_Host":     "did you mean E6DATA_HOST?",
	} {
		c, err := LoadConfig("", []string{"E6DATA_USERNAME=u", "E6DATA_PASSWORD=p", name + "=x"})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, d := range c.Diagnostics() {
			found = found || d.Level == slog.LevelWarn && d.Key == name && strings.Contains(d.Message, want)
		}
		if !found {
			t.Errorf("%s: no WARN %q in %v", name, want, c.Diagnostics())
		}
	}
}

// A provider whose value cannot be compared with == is accepted (the
// configuration compares code-only settings), and String says it is set.
func TestTelemetryConfigProviders(t *testing.T) {
	type odd struct {
		metricnoop.MeterProvider
		tags []string
	}
	c, err := LoadConfig("", baseEnv(), WithMeterProvider(odd{tags: []string{"x"}}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Source("MeterProvider") != SourceCode || c.Clone().MeterProvider == nil {
		t.Fatalf("source %s", c.Source("MeterProvider"))
	}
	if s := c.String(); !strings.Contains(s, "meter-provider=set") || strings.Contains(s, "tracer-provider") {
		t.Fatalf("String() = %s", s)
	}
}
