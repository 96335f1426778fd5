package e6data

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
)

// Option changes a Config in code. Options are the highest layer of the
// merge (see LoadConfig). An option given a bad value returns a
// *ConfigError naming the option; options never clamp.
//
// The options carry what a DSN or an environment variable cannot (Go
// values: loggers, telemetry providers, TLS and dial options, a token
// function, CA certificates in memory) and the groups of settings checked
// together (credentials, retry, resume, pool). Every other setting (host,
// port, catalog, timeouts, prefetch, TLS files ...) is set by WithSetting
// with its Config field, DSN key or environment variable name, or on the
// Config itself before NewConnector; an Option is any func(*Config) error,
// so an application may write its own.
type Option func(*Config) error

func optErr(option, value, expected string) error {
	return &ConfigError{Key: option, Value: value, Expected: expected, Source: string(SourceCode)}
}

// setChecked stores v in the field of the named setting after checking its
// range, or returns an error naming option.
func setChecked(c *Config, option, field string, v any) error {
	s := settingByField[field]
	if exp := s.check(v); exp != "" {
		return optErr(option, s.displayValue(v), exp)
	}
	s.set(c, v)
	return nil
}

func durOpt(c *Config, option, field string, d time.Duration) error {
	return setChecked(c, option, field, int64(d))
}

// WithCredentials sets the user and the static access token.
func WithCredentials(user, token string) Option {
	return func(c *Config) error {
		if user == "" {
			return optErr("WithCredentials", "", "a non-empty user")
		}
		if token == "" {
			return optErr("WithCredentials", "", "a non-empty token (or use WithTokenProvider)")
		}
		c.User, c.Token = user, token
		return nil
	}
}

// WithTokenProvider sets a function returning the current token. It is
// called for every authentication, including re-authentication after
// "Access denied", so tokens can rotate; it takes precedence over a static
// token.
func WithTokenProvider(provider func(ctx context.Context) (string, error)) Option {
	return func(c *Config) error {
		if provider == nil {
			return optErr("WithTokenProvider", "", "a non-nil function")
		}
		c.TokenProvider = provider
		return nil
	}
}

// WithTLSConfig uses cfg (cloned when the connection is made) instead of
// the TLS configuration built from the other TLS settings, and turns TLS
// on: asking for TLS material in code means TLS.
func WithTLSConfig(cfg *tls.Config) Option {
	return func(c *Config) error {
		if cfg == nil {
			return optErr("WithTLSConfig", "", "a non-nil *tls.Config")
		}
		c.TLSConfig, c.Secure = cfg, true
		return nil
	}
}

// WithCAPEM trusts the PEM CA certificates given (with those of CAFile, if
// any) instead of the system roots, and turns TLS on.
func WithCAPEM(pem []byte) Option {
	return func(c *Config) error {
		if len(pem) == 0 {
			return optErr("WithCAPEM", "", "PEM-encoded certificates")
		}
		c.CAPEM, c.Secure = append([]byte(nil), pem...), true
		return nil
	}
}

// WithLogger sends the connector's records to logger instead of a handler
// built from LogFormat and LogOutput. Component levels and redaction still
// apply.
func WithLogger(logger *slog.Logger) Option {
	return func(c *Config) error {
		if logger == nil {
			return optErr("WithLogger", "", "a non-nil *slog.Logger")
		}
		c.Logger = logger
		return nil
	}
}

// WithProfile makes the named profile's values the defaults: settings not
// set explicitly (in the environment, the DSN or an earlier option) take
// the profile's values. "" removes the profile.
func WithProfile(name string) Option {
	return func(c *Config) error {
		if _, ok := profileValues[name]; !ok && name != "" {
			return optErr("WithProfile", name, "one of "+strings.Join(profileNames, ", "))
		}
		c.Profile = name
		return nil
	}
}

// WithDialOptions appends raw gRPC dial options; they are applied after the
// ones built from the configuration, so they win.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(c *Config) error {
		for i, o := range opts {
			if o == nil {
				return optErr("WithDialOptions", "nil at "+strconv.Itoa(i), "non-nil grpc.DialOptions")
			}
		}
		c.DialOptions = append(append([]grpc.DialOption(nil), c.DialOptions...), opts...)
		return nil
	}
}

// WithMeterProvider sends the connector's metrics to provider (see the
// README's "Metrics and tracing"). Without it the metrics are a no-op; the
// global provider is used only if passed here (otel.GetMeterProvider()).
func WithMeterProvider(provider metric.MeterProvider) Option {
	return func(c *Config) error {
		if provider == nil {
			return optErr("WithMeterProvider", "", "a non-nil metric.MeterProvider")
		}
		c.MeterProvider = provider
		return nil
	}
}

// WithTracerProvider makes the connector trace its queries with provider:
// a span per query, with child spans for prepare, execute, fetch and clear,
// continuing the trace of the caller's context. Without it no spans are
// made.
func WithTracerProvider(provider trace.TracerProvider) Option {
	return func(c *Config) error {
		if provider == nil {
			return optErr("WithTracerProvider", "", "a non-nil trace.TracerProvider")
		}
		c.TracerProvider = provider
		return nil
	}
}

// WithRetry sets the attempts for a recoverable failure (1..10) and the
// first backoff step (100ms..2s).
func WithRetry(maxAttempts int, backoff time.Duration) Option {
	return func(c *Config) error {
		if err := setChecked(c, "WithRetry", "MaxRetryAttempts", int64(maxAttempts)); err != nil {
			return err
		}
		return durOpt(c, "WithRetry", "RetryBackoff", backoff)
	}
}

// WithAutoResume turns the resume of a suspended cluster on or off and, when
// timeout is not 0, sets how long to wait for it (>= 1s).
func WithAutoResume(enabled bool, timeout time.Duration) Option {
	return func(c *Config) error {
		if timeout != 0 {
			if err := durOpt(c, "WithAutoResume", "AutoResumeTimeout", timeout); err != nil {
				return err
			}
		}
		c.AutoResume = enabled
		return nil
	}
}

// WithPool sets the pool sizes (max >= 1, 0 <= min <= max) and, when not 0,
// the idle timeout and the maximum lifetime of a connection (>= 1s).
func WithPool(maxConns, minConns int, idle, lifetime time.Duration) Option {
	return func(c *Config) error {
		if err := setChecked(c, "WithPool", "MaxConnections", int64(maxConns)); err != nil {
			return err
		}
		if minConns < 0 || minConns > maxConns {
			return optErr("WithPool", strconv.Itoa(minConns), fmt.Sprintf("min connections between 0 and max (%d)", maxConns))
		}
		c.MinConnections = minConns
		if idle != 0 {
			if err := durOpt(c, "WithPool", "IdleTimeout", idle); err != nil {
				return err
			}
		}
		if lifetime != 0 {
			if err := durOpt(c, "WithPool", "MaxLifetime", lifetime); err != nil {
				return err
			}
		}
		return nil
	}
}

// WithSetting sets any setting of docs/configuration.md by its environment
// variable, DSN key or Config field name, from text in the environment/DSN
// form ("300", "5m", "DEBUG", "true"). As an option it is strict: text that
// cannot be read or is out of range is an error.
func WithSetting(name, value string) Option {
	return func(c *Config) error {
		s := lookupSetting(name)
		if s == nil || s.ptr == nil {
			exp := "the name of a setting"
			var all []string
			for _, sp := range settingSpecs {
				if sp.ptr != nil {
					all = append(all, sp.field)
				}
			}
			all = append(all, knownEnvNames()...)
			all = append(all, knownDSNKeys()...)
			if near := nearestName(name, all); near != "" {
				exp += " (did you mean " + near + "?)"
			}
			return optErr("WithSetting", name, exp)
		}
		v, over, ok := s.parse(value)
		if !ok || over != 0 {
			return optErr("WithSetting("+name+")", s.redactRaw(value), s.expect())
		}
		if s.field == "Profile" {
			return WithProfile(v.(string))(c)
		}
		return setChecked(c, "WithSetting("+name+")", s.field, v)
	}
}
