package e6data

import (
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

// profileWant is the Profiles section of docs/configuration.md, written out
// independently of profiles.go.
var profileWant = map[string]map[string]any{
	"development": {
		"StrategyCacheTimeout": 60 * time.Second, "MaxRetryAttempts": 3,
		"LogLevel": slog.LevelDebug, "StrategyLogLevel": slog.LevelDebug,
		"KeepaliveTimeout": 30 * time.Second, "KeepaliveTime": 15 * time.Second,
		"MaxRecvMsgSize": 50 << 20, "MaxSendMsgSize": 50 << 20, "PrepareTimeout": 300 * time.Second,
	},
	"production": {
		"StrategyCacheTimeout": 300 * time.Second, "MaxRetryAttempts": 5,
		"LogLevel": slog.LevelInfo, "StrategyLogLevel": slog.LevelInfo, "GRPCLogLevel": slog.LevelWarn,
		"KeepaliveTimeout": 90 * time.Second, "KeepaliveTime": 45 * time.Second,
		"MaxRecvMsgSize": 200 << 20, "MaxSendMsgSize": 200 << 20, "PrepareTimeout": 900 * time.Second,
		"AutoResumeTimeout": 600 * time.Second, "Secure": true,
	},
	"high-performance": {
		"StrategyCacheTimeout": 600 * time.Second, "MaxRetryAttempts": 3, "RetryBackoff": 100 * time.Millisecond,
		"KeepaliveTimeout": 120 * time.Second, "KeepaliveTime": 60 * time.Second,
		"MaxRecvMsgSize": 500 << 20, "MaxSendMsgSize": 500 << 20, "PrepareTimeout": 1800 * time.Second,
		"MaxConnections": 20, "ConnectionTimeout": 60 * time.Second,
	},
}

func TestProfileSettings(t *testing.T) {
	if got := profileList(); !reflect.DeepEqual(got, []string{"development", "production", "high-performance"}) {
		t.Errorf("profileList() = %v", got)
	}
	def := DefaultConfig()
	for name, want := range profileWant {
		for _, how := range []string{"env", "dsn", "option"} {
			t.Run(name+"/"+how, func(t *testing.T) {
				var c *Config
				var err error
				switch how {
				case "env":
					c, err = LoadConfig("", baseEnv("E6DATA_PROFILE="+name))
				case "dsn":
					c, err = LoadConfig("e6data://u:t@h?profile="+name, nil)
				default:
					c, err = LoadConfig("", baseEnv(), WithProfile(name))
				}
				if err != nil {
					t.Fatal(err)
				}
				if c.Profile != name {
					t.Errorf("Profile = %q", c.Profile)
				}
				for _, s := range settingSpecs {
					if s.ptr == nil || s.field == "Profile" || s.field == "User" || s.field == "Token" || s.field == "Host" {
						continue
					}
					got := field(c, s.field)
					if w, ok := want[s.field]; ok {
						if got != w {
							t.Errorf("%s = %v, want %v", s.field, got, w)
						}
						if c.Source(s.field) != SourceProfile && got != field(def, s.field) {
							t.Errorf("%s source %s, want profile", s.field, c.Source(s.field))
						}
					} else if s.field == "Port" && c.Secure {
						if got != 443 { // TLS with no port given: 443
							t.Errorf("Port = %v with TLS on, want 443", got)
						}
					} else if got != field(def, s.field) {
						t.Errorf("%s = %v changed by the profile (default %v)", s.field, got, field(def, s.field))
					}
				}
				if d := diagsAtLeast(c, slog.LevelWarn); len(d) > 0 {
					t.Errorf("diagnostics: %v", d)
				}
			})
		}
		pv, ok := profileSettings(name)
		if !ok || len(pv) != len(want) {
			t.Errorf("profileSettings(%s) = %v", name, pv)
		}
	}
	if _, ok := profileSettings("turbo"); ok {
		t.Error("profileSettings(turbo) ok")
	}
}

func TestProfileExplicitSettingsWin(t *testing.T) {
	c, err := LoadConfig("e6data://u:t@h?profile=production&secure=false&prepare-timeout=60",
		[]string{"E6DATA_MAX_RETRY_ATTEMPTS=9", "E6DATA_LOG_LEVEL=ERROR"}, WithPool(50, 2, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if c.Secure || c.PrepareTimeout != time.Minute || c.MaxRetryAttempts != 9 || c.LogLevel != slog.LevelError || c.MaxConnections != 50 {
		t.Errorf("explicit values lost: %s", c)
	}
	// Unset values still come from the profile.
	if c.AutoResumeTimeout != 600*time.Second || c.KeepaliveTime != 45*time.Second {
		t.Errorf("profile values missing: %s", c)
	}
}

func TestProfileDSNOverridesEnvProfile(t *testing.T) {
	c, err := LoadConfig("e6data://u:t@h?profile=development", []string{"E6DATA_PROFILE=production"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Profile != "development" || c.Secure || c.MaxRetryAttempts != 3 {
		t.Errorf("profile %s secure %v retries %d", c.Profile, c.Secure, c.MaxRetryAttempts)
	}
	// A later WithProfile replaces the earlier profile's values entirely.
	c, err = LoadConfig("e6data://u:t@h?profile=production", nil, WithProfile("high-performance"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Secure || c.AutoResumeTimeout != 300*time.Second || c.MaxConnections != 20 {
		t.Errorf("WithProfile did not re-base: %s", c)
	}
}

func TestProfileUnknown(t *testing.T) {
	for _, load := range []func() error{
		func() error { _, err := LoadConfig("", baseEnv("E6DATA_PROFILE=turbo")); return err },
		func() error { _, err := ParseDSN("e6data://u:t@h?profile=turbo"); return err },
		func() error { _, err := LoadConfig("", baseEnv(), WithProfile("turbo")); return err },
	} {
		err := load()
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "turbo") {
			t.Errorf("err = %v", err)
			continue
		}
		for _, name := range profileNames {
			if !strings.Contains(err.Error(), name) {
				t.Errorf("error %q does not list %s", err, name)
			}
		}
	}
	// Lenient mode: ERROR diagnostic, no profile.
	c, err := LoadConfig("", baseEnv("E6DATA_PROFILE=turbo", "E6DATA_STRATEGY_VALIDATION=false"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Profile != "" {
		t.Errorf("Profile = %q", c.Profile)
	}
	if _, ok := findDiag(c, slog.LevelError, "E6DATA_PROFILE"); !ok {
		t.Errorf("diagnostics %v", c.Diagnostics())
	}
}

// Every profile value parses and is within its setting's range.
func TestProfileSettingsValid(t *testing.T) {
	for name, values := range profileValues {
		for _, pv := range values {
			s := settingByEnv[pv.env]
			if s == nil {
				t.Errorf("%s: unknown variable %s", name, pv.env)
				continue
			}
			v, over, ok := s.parse(pv.value)
			if !ok || over != 0 || s.check(v) != "" {
				t.Errorf("%s: %s=%s invalid", name, pv.env, pv.value)
			}
		}
	}
}
