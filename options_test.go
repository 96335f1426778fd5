package e6data

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc"
)

func TestOptionValid(t *testing.T) {
	provider := func(context.Context) (string, error) { return "rotated", nil }
	logger := slog.New(slog.DiscardHandler)
	own := &tls.Config{}
	ua := grpc.WithUserAgent("x")
	meters, tracers := metricnoop.NewMeterProvider(), tracenoop.NewTracerProvider()
	for _, tc := range []struct {
		name  string
		opt   Option
		check func(c *Config) bool
	}{
		{"WithCredentials", WithCredentials("bob", "tk"), func(c *Config) bool { return c.User == "bob" && c.Token == "tk" }},
		{"WithTokenProvider", WithTokenProvider(provider), func(c *Config) bool { return c.TokenProvider != nil }},
		{"WithTLSConfig", WithTLSConfig(own), func(c *Config) bool { return c.TLSConfig == own && c.Secure }},
		{"WithCAPEM", WithCAPEM([]byte("pem")), func(c *Config) bool { return string(c.CAPEM) == "pem" && c.Secure }},
		{"WithLogger", WithLogger(logger), func(c *Config) bool { return c.Logger == logger }},
		{"WithProfile", WithProfile("production"), func(c *Config) bool { return c.Profile == "production" && c.Secure }},
		{"WithDialOptions", WithDialOptions(ua, ua), func(c *Config) bool { return len(c.DialOptions) == 2 }},
		{"WithRetry", WithRetry(3, 500*time.Millisecond), func(c *Config) bool { return c.MaxRetryAttempts == 3 && c.RetryBackoff == 500*time.Millisecond }},
		{"WithAutoResume", WithAutoResume(false, time.Minute), func(c *Config) bool { return !c.AutoResume && c.AutoResumeTimeout == time.Minute }},
		{"WithAutoResume keeps timeout", WithAutoResume(true, 0), func(c *Config) bool { return c.AutoResume && c.AutoResumeTimeout == 300*time.Second }},
		{"WithPool", WithPool(20, 0, time.Minute, time.Hour), func(c *Config) bool {
			return c.MaxConnections == 20 && c.MinConnections == 0 && c.IdleTimeout == time.Minute && c.MaxLifetime == time.Hour
		}},
		{"WithPool keeps durations", WithPool(5, 5, 0, 0), func(c *Config) bool { return c.MinConnections == 5 && c.IdleTimeout == 300*time.Second }},
		{"WithMeterProvider", WithMeterProvider(meters), func(c *Config) bool { return c.MeterProvider == meters }},
		{"WithTracerProvider", WithTracerProvider(tracers), func(c *Config) bool { return c.TracerProvider == tracers }},
		{"WithSetting env name", WithSetting("E6DATA_STRATEGY_CACHE_TIMEOUT", "120"), func(c *Config) bool { return c.StrategyCacheTimeout == 2*time.Minute }},
		{"WithSetting DSN key", WithSetting("log-level", "debug"), func(c *Config) bool { return c.LogLevel == slog.LevelDebug }},
		{"WithSetting field", WithSetting("KeepaliveTime", "20s"), func(c *Config) bool { return c.KeepaliveTime == 20*time.Second }},
		{"WithSetting profile", WithSetting("profile", "development"), func(c *Config) bool { return c.MaxRetryAttempts == 3 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := LoadConfig("", baseEnv(), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("not applied: %s", c)
			}
		})
	}
}

func TestOptionInvalid(t *testing.T) {
	for _, tc := range []struct {
		opt  Option
		want string // in the error
	}{
		{WithCredentials("", "t"), "non-empty user"},
		{WithCredentials("u", ""), "non-empty token"},
		{WithTokenProvider(nil), "WithTokenProvider"},
		{WithTLSConfig(nil), "WithTLSConfig"},
		{WithCAPEM(nil), "WithCAPEM"},
		{WithLogger(nil), "WithLogger"},
		{WithMeterProvider(nil), "WithMeterProvider"},
		{WithTracerProvider(nil), "WithTracerProvider"},
		{WithProfile("turbo"), "development, production, high-performance"},
		{WithDialOptions(nil), "WithDialOptions"},
		{WithRetry(0, time.Second), "between 1 and 10"},
		{WithRetry(11, time.Second), "WithRetry"},
		{WithRetry(3, time.Millisecond), "between 0.1 and 2"},
		{WithRetry(3, 3*time.Second), "WithRetry"},
		{WithAutoResume(true, time.Millisecond), "WithAutoResume"},
		{WithPool(0, 0, 0, 0), "WithPool"},
		{WithPool(5, 6, 0, 0), "between 0 and max (5)"},
		{WithPool(5, -1, 0, 0), "WithPool"},
		{WithPool(5, 1, time.Millisecond, 0), "WithPool"},
		{WithPool(5, 1, 0, -time.Second), "WithPool"},
		{WithSetting("host", "h:80"), "WithSetting(host)"},
		{WithSetting("host", "http://h"), "without scheme"},
		{WithSetting("port", "65536"), "between 1 and 65535"},
		{WithSetting("query-timeout", "-1s"), "WithSetting(query-timeout)"},
		{WithSetting("prefetch", "65"), "between 0 and 64"},
		{WithSetting("grpc-connections", "-1"), "between 0 and 64"},
		{WithSetting("max_retry", "3"), "did you mean"},
		{WithSetting("TokenProvider", "x"), "WithSetting"},
		{WithSetting("port", "abc"), "WithSetting(port)"},
		{WithSetting("port", "0"), "WithSetting(port)"},
		{WithSetting("E6DATA_PASSWORD", ""), ""},
		{func(*Config) error { return errors.New("custom failure") }, "custom failure"},
	} {
		_, err := LoadConfig("", baseEnv(), tc.opt)
		if tc.want == "" {
			// WithSetting("E6DATA_PASSWORD", "") empties the token: a missing-token error.
			if err == nil || !strings.Contains(err.Error(), "access token") {
				t.Errorf("empty token accepted: %v", err)
			}
			continue
		}
		if err == nil {
			t.Errorf("option accepted, want an error with %q", tc.want)
			continue
		}
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%v is not ErrConfig", err)
		}
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%v is not a *ConfigError", err)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %q does not contain %q", err, tc.want)
		}
	}
}

// Options are strict even in lenient mode.
func TestOptionStrictInLenientMode(t *testing.T) {
	if _, err := LoadConfig("", baseEnv("E6DATA_STRATEGY_VALIDATION=false"), WithSetting("Port", "0")); err == nil {
		t.Error("bad option accepted in lenient mode")
	}
}

func TestOptionGRPCOptions(t *testing.T) {
	c, err := LoadConfig("", baseEnv(), WithGRPCOptions(map[string]any{
		"keepalive_timeout_ms":                         90000,
		"grpc.keepalive_time_ms":                       int64(45000),
		"keepalive_permit_without_calls":               0,
		"max_receive_message_length":                   200 * 1024 * 1024,
		"max_send_message_length":                      "52428800",
		"grpc_prepare_timeout":                         900.0,
		"grpc_auto_resume_timeout_seconds":             10 * time.Minute,
		"http2.max_pings_without_data":                 0,
		"http2.min_time_between_pings_ms":              10000,
		"grpc.http2.min_ping_interval_without_data_ms": 10000,
		"keepalive_tme_ms":                             1,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.KeepaliveTimeout != 90*time.Second || c.KeepaliveTime != 45*time.Second || c.KeepalivePermitWithoutCalls ||
		c.MaxRecvMsgSize != 200<<20 || c.MaxSendMsgSize != 50<<20 || c.PrepareTimeout != 900*time.Second ||
		c.AutoResumeTimeout != 10*time.Minute {
		t.Errorf("grpc options not applied: %s", c)
	}
	if c.Source("KeepaliveTime") != SourceCode {
		t.Errorf("source %s", c.Source("KeepaliveTime"))
	}
	for _, key := range []string{"http2.max_pings_without_data", "http2.min_time_between_pings_ms", "grpc.http2.min_ping_interval_without_data_ms"} {
		d, ok := findDiag(c, slog.LevelDebug, key)
		if !ok || !strings.Contains(d.Message, "no effect") {
			t.Errorf("%s: no DEBUG diagnostic: %v", key, c.Diagnostics())
		}
	}
	if d, ok := findDiag(c, slog.LevelWarn, "keepalive_tme_ms"); !ok || !strings.Contains(d.Message, "did you mean keepalive_time_ms") {
		t.Errorf("unknown key: %v", c.Diagnostics())
	}
	for _, bad := range []map[string]any{
		{"keepalive_time_ms": 5000},                // below 10000 ms
		{"keepalive_permit_without_calls": 2},      // not a bool
		{"max_send_message_length": "lots"},        // not a number
		{"max_receive_message_length": 1.5e6 + .5}, // not an integer
		{"grpc_prepare_timeout": []int{1}},         // wrong type
	} {
		if _, err := LoadConfig("", baseEnv(), WithGRPCOptions(bad)); !errors.Is(err, ErrConfig) {
			t.Errorf("%v accepted: %v", bad, err)
		}
	}
}

func TestOptionNilIgnored(t *testing.T) {
	if _, err := LoadConfig("", baseEnv(), nil); err != nil {
		t.Error(err)
	}
}

func TestOptionCustomFuncTrackedAsCode(t *testing.T) {
	c, err := LoadConfig("", baseEnv(), func(c *Config) error { c.PrepareTimeout = time.Minute; return nil }, WithProfile("production"))
	if err != nil {
		t.Fatal(err)
	}
	if c.PrepareTimeout != time.Minute || c.Source("PrepareTimeout") != SourceCode {
		t.Errorf("a later profile overrode a custom option: %v from %s", c.PrepareTimeout, c.Source("PrepareTimeout"))
	}
	// Removing the profile restores the built-in defaults it had replaced.
	c, err = LoadConfig("e6data://u:t@h?profile=production", nil, WithProfile(""))
	if err != nil {
		t.Fatal(err)
	}
	if c.Secure || c.AutoResumeTimeout != 300*time.Second || c.Source("Secure") != SourceDefault {
		t.Errorf("profile not removed: %s", c)
	}
}

// A Config changed field by field (instead of through options) is checked
// when the connector is built, as README says.
func TestConfigFieldsCheckedByNewConnector(t *testing.T) {
	cfg, err := LoadConfig("", baseEnv())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Port = 0
	if _, err := NewConnector(cfg); !errors.Is(err, ErrConfig) {
		t.Fatalf("NewConnector with Port 0: %v, want ErrConfig", err)
	}
	cfg.Port, cfg.PrefetchDepth = 443, 65
	if _, err := NewConnector(cfg); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "PrefetchDepth") {
		t.Fatalf("NewConnector with PrefetchDepth 65: %v, want ErrConfig naming it", err)
	}
	cfg.PrefetchDepth, cfg.Catalog = 2, "hive"
	c, err := NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.cfg.Catalog; got != "hive" {
		t.Errorf("catalog %q, want hive", got)
	}
}
