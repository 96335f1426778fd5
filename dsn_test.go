package e6data

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// dsnEqual compares every setting a DSN can express.
func dsnEqual(t testing.TB, a, b *Config) bool {
	t.Helper()
	ok := true
	for _, s := range settingSpecs {
		if s.ptr == nil {
			continue
		}
		if va, vb := s.get(a), s.get(b); va != vb {
			t.Errorf("%s: %#v != %#v", s.field, va, vb)
			ok = false
		}
	}
	return ok
}

func TestDSNParse(t *testing.T) {
	for _, tc := range []struct {
		dsn   string
		check func(*Config) bool
	}{
		{"e6data://alice@example.com:tok@db.example.com:443/sales?catalog=hive&cluster-name=Prod&secure=true",
			func(c *Config) bool {
				return c.User == "alice@example.com" && c.Token == "tok" && c.Host == "db.example.com" && c.Port == 443 &&
					c.Database == "sales" && c.Catalog == "hive" && c.ClusterName == "Prod" && c.Secure
			}},
		{"E6DATA://u:t@h", func(c *Config) bool { return c.Host == "h" && c.Port == 80 }},
		{"e6data://u:t@[::1]:9000/db", func(c *Config) bool { return c.Host == "::1" && c.Port == 9000 }},
		{"e6data://u:t@[fe80::1%25eth0]/db", func(c *Config) bool { return c.Host == "fe80::1%eth0" && c.Port == 80 }},
		{"e6data://u:t@/db", func(c *Config) bool { return c.Host == "localhost" && c.Database == "db" }},
		{"e6data://u:t@h/a%2Fb", func(c *Config) bool { return c.Database == "a/b" }},
		{"e6data://u%3Ax:p%40ss%2F%3F%23%25w@h", func(c *Config) bool { return c.User == "u:x" && c.Token == "p@ss/?#%w" }},
		{"e6data://u:p@ss@h", func(c *Config) bool { return c.Token == "p@ss" && c.Host == "h" }},
		{"e6data://u:t@h?catalog=a+b%26c", func(c *Config) bool { return c.Catalog == "a b&c" }},
		{"e6data://u:t@h?strategy-cache-timeout=5m&keepalive-time-ms=45s&retry-backoff=0.5&prepare-timeout=1h",
			func(c *Config) bool {
				return c.StrategyCacheTimeout == 5*time.Minute && c.KeepaliveTime == 45*time.Second &&
					c.RetryBackoff == 500*time.Millisecond && c.PrepareTimeout == time.Hour
			}},
		{"e6data://u:t@h?retry-backoff-factor=1", func(c *Config) bool { return c.RetryBackoff == time.Second }},
		{"e6data://u:t@h?ca-file=/etc/ssl/ca.pem&secure=1", func(c *Config) bool { return c.CAFile == "/etc/ssl/ca.pem" }},
		{"e6data://u:t@h?&&catalog=x&", func(c *Config) bool { return c.Catalog == "x" }},
		{"e6data://u:t@h:", func(c *Config) bool { return c.Port == 80 }},
		{"e6data://u:t@h?catalog=a@b", func(c *Config) bool { return c.Catalog == "a@b" }},
	} {
		c, err := ParseDSN(tc.dsn)
		if err != nil {
			t.Errorf("%s: %v", tc.dsn, err)
			continue
		}
		if !tc.check(c) {
			t.Errorf("%s: parsed as %s", tc.dsn, c)
		}
	}
}

func TestDSNParseErrors(t *testing.T) {
	for _, tc := range []struct {
		dsn, key string
	}{
		{"", "User"},
		{"u:" + testToken + "@h", "scheme"},
		{"postgres://u:t@h", "scheme"},
		{"e6data://u:t@h:abc", "port"},
		{"e6data://u:t@h:1:2", "host"},
		{"e6data://u:t@::1/db", "host"},
		{"e6data://u:t@[::1/db", "host"},
		{"e6data://u:t@[::1]x/db", "host"},
		{"e6data://u:t@h%zz/db", "host"},
		{"e6data://u:t@bad host", "host"},
		{"e6data://u:Qx9%zzZv7@h", "token"},
		{"e6data://u%zz:t@h", "user"},
		{"e6data://u:t@h/d%zz", "database"},
		{"e6data://u:t@h?max-retry-attempts=x", "max-retry-attempts"},
		{"e6data://u:t@h?catalog=%zz", "catalog"},
		{"e6data://u:t@h?%zz=1", "query"},
		{"e6data://u:Qx9#Zv7@h", "fragment"},
		{"e6data://u:Qx9/Zv7@h/db", "userinfo"},
		{"e6data://u:Qx9?Zv7@h/db", "userinfo"},
		{"e6data://me@x.com:Qx9/Zv7@h/db", "userinfo"},
		{"e6data://me@x.com:Qx9?Zv7@h", "userinfo"},
		{"e6data://u:t@h/d@b", "userinfo"},
		{"e6data://u:Qx9Zv7@h:Qx9Zv7", "port"},
		{"e6data://u:t@h?profile=turbo", "profile"},
	} {
		_, err := ParseDSN(tc.dsn)
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%q: error %v is not a *ConfigError", tc.dsn, err)
			continue
		}
		if ce.Key != tc.key {
			t.Errorf("%q: key %q, want %q (%v)", tc.dsn, ce.Key, tc.key, err)
		}
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%q: not ErrConfig", tc.dsn)
		}
		for _, secret := range []string{testToken, "Qx9", "Zv7"} {
			if strings.Contains(err.Error(), secret) && strings.Contains(tc.dsn, secret) && tc.key != "port" {
				t.Errorf("%q: error shows the token: %v", tc.dsn, err)
			}
		}
	}
	_, err := ParseDSN("e6data://u:t@h?profile=turbo")
	for _, p := range profileNames {
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("unknown profile error does not list %s: %v", p, err)
		}
	}
}

func TestDSNUnknownKeys(t *testing.T) {
	c, err := ParseDSN("e6data://u:t@h?max_retry_attempts=3&strategy-cache-timout=100&frobnicate=1&password=x")
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"max_retry_attempts":    "did you mean max-retry-attempts?",
		"strategy-cache-timout": "did you mean strategy-cache-timeout?",
		"frobnicate":            "unknown DSN key frobnicate is ignored",
		"password":              "belongs in the URL",
	} {
		d, ok := findDiag(c, slog.LevelWarn, key)
		if !ok || !strings.Contains(d.Message, want) {
			t.Errorf("%s: %v", key, c.Diagnostics())
		}
	}
	if d, _ := findDiag(c, slog.LevelWarn, "frobnicate"); strings.Contains(d.Message, "did you mean") {
		t.Errorf("suggestion for a far-off key: %s", d.Message)
	}
	if c.MaxRetryAttempts != 5 {
		t.Error("unknown key was applied")
	}
}

func TestDSNDuplicateKey(t *testing.T) {
	c, err := ParseDSN("e6data://u:t@h?retry-backoff=1&retry-backoff-factor=0.5")
	if err != nil {
		t.Fatal(err)
	}
	if c.RetryBackoff != 500*time.Millisecond {
		t.Errorf("RetryBackoff = %v, want the last value", c.RetryBackoff)
	}
	if _, ok := findDiag(c, slog.LevelWarn, "retry-backoff-factor"); !ok {
		t.Errorf("no WARN for a duplicate: %v", c.Diagnostics())
	}
}

func TestDSNFormatOmitsDefaults(t *testing.T) {
	c, err := LoadConfig("", baseEnv())
	if err != nil {
		t.Fatal(err)
	}
	want := "e6data://alice@example.com:s3cr3t-T0ken%2F%40%3A%3F%23%25%2B%26%3D@localhost"
	if got := c.FormatDSNWithSecrets(); got != want {
		t.Errorf("FormatDSNWithSecrets = %s\nwant %s", got, want)
	}
	if got, want := c.FormatDSN(), "e6data://alice@example.com@localhost"; got != want {
		t.Errorf("FormatDSN = %s\nwant %s", got, want)
	}
	// Under a profile, the profile's values are the defaults, and an
	// explicit value equal to the built-in default is written.
	c, err = ParseDSN("e6data://u:t@h?profile=production&secure=false&prepare-timeout=900")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.FormatDSNWithSecrets(), "e6data://u:t@h?profile=production&secure=false"; got != want {
		t.Errorf("FormatDSNWithSecrets = %s, want %s", got, want)
	}
	if got, want := c.FormatDSN(), "e6data://u@h?profile=production&secure=false"; got != want {
		t.Errorf("FormatDSN = %s, want %s", got, want)
	}
}

func TestDSNRoundTrip(t *testing.T) {
	tokens := []string{"plain", testToken, "a b+c", "ünïcödé", "%41", "tok:with:colons", "@@@", "/?#[]", "\x00\x7f\xff"}
	for _, tok := range tokens {
		c := DefaultConfig()
		c.User, c.Token = "first.last@example.com", tok
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		p, err := ParseDSN(c.FormatDSNWithSecrets())
		if err != nil {
			t.Errorf("token %q: %v", tok, err)
			continue
		}
		if p.Token != tok || p.User != c.User {
			t.Errorf("token %q came back as %q (user %q)", tok, p.Token, p.User)
		}
		checkFormatDSNOmitsToken(t, c)
	}
	full, err := LoadConfig("", nil,
		WithSetting("Host", "fe80::1%eth0"), WithSetting("Port", "8443"), WithCredentials("u:x@y", "t/o?k#e%n"),
		WithSetting("Catalog", "cat & dog"), WithSetting("Database", "d/b"), WithSetting("ClusterName", "C1"),
		WithSetting("CAFile", "/etc/ssl/ca file.pem"), WithSetting("Secure", "true"), WithSetting("ClientCertFile", "/c.pem"), WithSetting("ClientKeyFile", "/k.pem"), WithSetting("ServerName", "srv"),
		WithSetting("InsecureSkipVerify", "true"), WithSetting("Secure", "true"),
		WithRetry(7, 1500*time.Millisecond), WithAutoResume(false, 90*time.Second),
		WithPool(30, 4, 10*time.Minute, 2*time.Hour), WithSetting("QueryTimeout", (1234567*time.Microsecond).String()), WithSetting("PrefetchDepth", "0"), WithSetting("GRPCConnections", "3"),
		WithSetting("ServerSideParams", "true"), WithProfile("high-performance"),
		WithSetting("log-level", "critical"), WithSetting("E6DATA_STRATEGY_LOG_LEVEL", "INFO+1"),
		WithSetting("log-format", "json"), WithSetting("log-output", "stdout"),
		WithSetting("strategy-validation", "false"), WithSetting("keepalive-time-ms", "12345678us"),
		WithGRPCOptions(map[string]any{"keepalive_permit_without_calls": 0, "max_send_message_length": 3 << 20}),
	)
	if err != nil {
		t.Fatal(err)
	}
	dsn := full.FormatDSNWithSecrets()
	p, err := ParseDSN(dsn)
	if err != nil {
		t.Fatalf("%s: %v", dsn, err)
	}
	dsnEqual(t, full, p)
	if p.FormatDSNWithSecrets() != dsn {
		t.Errorf("FormatDSNWithSecrets not stable:\n%s\n%s", dsn, p.FormatDSNWithSecrets())
	}
	checkFormatDSNOmitsToken(t, full)
	t.Log(full.String())
}

// checkFormatDSNOmitsToken: FormatDSN leaves the token out, ParseDSN of it
// says the token is missing (without showing anything secret), and with
// the token from the environment it is c again.
func checkFormatDSNOmitsToken(t testing.TB, c *Config) bool {
	t.Helper()
	out := c.FormatDSN()
	parts, err := splitDSN(out)
	if err != nil || parts.token != "" || strings.Contains(out, ":REDACTED@") {
		t.Errorf("FormatDSN %q has a token (%v)", out, err)
		return false
	}
	if c.Token == testToken && strings.Contains(out, escapeDSN(testToken, "")) {
		t.Errorf("FormatDSN %q contains the token", out)
		return false
	}
	if c.Token == "" {
		return true
	}
	if _, err := ParseDSN(out); err == nil || !strings.Contains(err.Error(), "Token") || !errors.Is(err, ErrConfig) {
		t.Errorf("ParseDSN(%q) without a token: %v", out, err)
		return false
	}
	p, err := LoadConfig(out, []string{"E6DATA_PASSWORD=" + c.Token})
	if err != nil {
		t.Errorf("%q with the token in the environment: %v", out, err)
		return false
	}
	return dsnEqual(t, c, p)
}

func TestDSNStringRedacted(t *testing.T) {
	c, err := LoadConfig("", baseEnv(), WithTokenProvider(staticToken("x")), WithLogger(slog.Default()))
	if err != nil {
		t.Fatal(err)
	}
	s := c.String()
	if strings.Contains(s, testToken) || strings.Contains(s, escapeDSN(testToken, "")) {
		t.Errorf("String shows the token: %s", s)
	}
	if !strings.Contains(s, "REDACTED") || !strings.Contains(s, "token-provider=set") || !strings.Contains(s, "logger=set") {
		t.Errorf("String = %s", s)
	}
}

func FuzzParseDSN(f *testing.F) {
	for _, seed := range []string{
		"e6data://u:t@h",
		"e6data://alice@example.com:tok@db.example.com:443/sales?catalog=hive&cluster-name=Prod&secure=true",
		"e6data://u:t@[::1]:9000/db?profile=production&secure=false",
		"e6data://u:t@[fe80::1%25eth0]/d%2Fb",
		"e6data://u%3Ax:p%40ss%2F%3F%23%25w@h?strategy-validation=false&max-retry-attempts=x",
		"e6data://u:t@h?strategy-cache-timeout=5m&keepalive-time-ms=45s&retry-backoff=0.5&prepare-timeout=1h",
		"e6data://u:t@h?log-level=INFO%2B2&grpc-log-level=critical&log-format=json&log-output=stdout",
		"e6data://u:t@h?min-connections=50&max-connections=3&prefetch=100&query-timeout=1.5",
		"e6data://u:t@h?ca-file=/a/b&client-cert=c&client-key=k&server-name=s&insecure-skip-verify=1&secure=on",
		"e6data://u:t@h?profile=high-performance&retry-backoff-factor=2&resume-poll-interval=250ms",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		c, err := ParseDSN(dsn)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("%q: error %v has no *ConfigError", dsn, err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("%q parsed but does not validate: %v", dsn, err)
		}
		out := c.FormatDSNWithSecrets()
		p, err := ParseDSN(out)
		if err != nil {
			t.Fatalf("%q -> %q does not parse: %v", dsn, out, err)
		}
		if !dsnEqual(t, c, p) {
			t.Fatalf("%q -> %q does not round-trip", dsn, out)
		}
		if !checkFormatDSNOmitsToken(t, c) {
			t.Fatalf("%q: FormatDSN %q", dsn, c.FormatDSN())
		}
		// The token does not reach String: another token prints the same.
		if c.Token != "" {
			d := c.Clone()
			d.Token += "x"
			if c.String() != d.String() || c.FormatDSN() != d.FormatDSN() {
				t.Fatalf("String or FormatDSN depends on the token %q: %s", c.Token, c.String())
			}
		}
	})
}
