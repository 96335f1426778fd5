package e6data

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
)

// Config is the complete configuration of a connector. Build one with
// DefaultConfig, LoadConfig, ConfigFromEnv or ParseDSN rather than with a
// struct literal: the zero value of several fields is not a valid setting.
//
// The merge order is fixed and lives in one function, LoadConfig:
// defaults < profile < environment (E6DATA_*) < DSN < options given in code.
// Every setting, its environment variable, DSN key, default and range is
// listed in docs/configuration.md.
//
// Config never prints its token: String, GoString and LogValue give a
// redacted form and FormatDSN leaves it out. Only FormatDSNWithSecrets,
// named for it, writes the token.
type Config struct {
	// Host is the engine host name or IP address (E6DATA_HOST).
	Host string
	// Port is the engine port (E6DATA_PORT).
	Port int
	// User is the user name, normally an e-mail address (E6DATA_USERNAME).
	User string
	// Token is the access token (E6DATA_PASSWORD). It is never printed.
	Token string
	// TokenProvider, when set, is called for every authentication,
	// including re-authentication after "Access denied", so that tokens can
	// rotate. It takes precedence over Token.
	TokenProvider func(ctx context.Context) (string, error)

	// Catalog selects the catalog; a non-empty catalog selects the V2 calls.
	Catalog string
	// Database is the database (schema).
	Database string
	// ClusterName is the cluster name or uuid (E6DATA_CLUSTER_UUID or
	// E6DATA_CLUSTER_NAME); it is lower-cased when sent.
	ClusterName string

	// Secure turns TLS on.
	Secure bool
	// CAFile is a PEM file of CA certificates that replaces the system roots.
	CAFile string
	// CAPEM holds PEM CA certificates (code only); combined with CAFile.
	CAPEM []byte
	// ClientCertFile and ClientKeyFile are a PEM client certificate and key
	// for mutual TLS; both or neither.
	ClientCertFile, ClientKeyFile string
	// ServerName overrides the name the server certificate is checked against.
	ServerName string
	// InsecureSkipVerify disables server certificate verification. Only for
	// tests: the connector logs a WARN when it starts with it.
	InsecureSkipVerify bool
	// TLSConfig, when set, is used as is (cloned) instead of the TLS
	// configuration built from the fields above (code only).
	TLSConfig *tls.Config

	// AutoResume resumes a suspended cluster before giving up.
	AutoResume bool
	// AutoResumeTimeout bounds the wait for a resume.
	AutoResumeTimeout time.Duration
	// ResumePollInterval is the pause between cluster status polls while
	// resuming.
	ResumePollInterval time.Duration

	// StrategyCacheTimeout is how long a cluster's strategy is trusted after
	// it was last confirmed (by any successful call on it). Past it, the
	// next new work confirms it first with one cheap call on it (a new
	// session's authenticate, or else a catalog listing); a 456 there
	// starts a detection.
	StrategyCacheTimeout time.Duration
	// MaxRetryAttempts is the number of attempts for a recoverable failure.
	MaxRetryAttempts int
	// RetryBackoff is the first backoff step; it grows exponentially, with
	// jitter (E6DATA_RETRY_BACKOFF_FACTOR, in seconds).
	RetryBackoff time.Duration
	// StrategyDetectionTimeout bounds one strategy detection.
	StrategyDetectionTimeout time.Duration
	// StrictValidation (E6DATA_STRATEGY_VALIDATION) makes unparsable
	// environment and DSN values errors; when false they are logged at ERROR
	// and the value from the lower layer (ultimately the default) is used.
	StrictValidation bool

	// KeepaliveTime is the gRPC keepalive ping interval.
	KeepaliveTime time.Duration
	// KeepaliveTimeout is how long to wait for a keepalive ping's answer.
	KeepaliveTimeout time.Duration
	// KeepalivePermitWithoutCalls sends keepalive pings with no call active.
	KeepalivePermitWithoutCalls bool
	// MaxRecvMsgSize and MaxSendMsgSize bound gRPC message sizes, in bytes.
	MaxRecvMsgSize, MaxSendMsgSize int

	// PrepareTimeout bounds the prepare call.
	PrepareTimeout time.Duration

	// LogLevel is the level of the connector component.
	LogLevel slog.Level
	// StrategyLogLevel is the level of the strategy component.
	StrategyLogLevel slog.Level
	// GRPCLogLevel is the level of gRPC's own logs; see InstallGRPCLogger.
	GRPCLogLevel slog.Level
	// LogFormat is "text" or "json".
	LogFormat string
	// LogOutput is "stderr" or "stdout".
	LogOutput string
	// Logger, when set, receives the connector's records instead of a
	// handler built from LogFormat and LogOutput (code only). The component
	// levels and the redaction of secrets still apply.
	Logger *slog.Logger

	// StrategyCacheSize is how many clusters' strategy states the process
	// keeps after the last Connector of a cluster closes (least recently
	// released first out), so that a Connector opened again skips
	// detection. States in use are never dropped.
	StrategyCacheSize int
	// QueryMappingCacheSize is the maximum number of in-flight query pins.
	QueryMappingCacheSize int
	// CacheCleanupInterval is the pause between sweeps of stale pins.
	CacheCleanupInterval time.Duration
	// CacheTTL is the age at which an unfinished pin is stale.
	CacheTTL time.Duration

	// MaxConnections is the maximum number of open connections.
	MaxConnections int
	// MinConnections is the number of connections kept warm (0..MaxConnections).
	MinConnections int
	// ConnectionTimeout bounds obtaining a connection.
	ConnectionTimeout time.Duration
	// IdleTimeout is how long an idle connection lives.
	IdleTimeout time.Duration
	// MaxLifetime is how long any connection lives.
	MaxLifetime time.Duration
	// GRPCConnections is the number of gRPC (HTTP/2) connections the
	// connector keeps to the cluster; calls are spread over them
	// round-robin. 0 chooses by MaxConnections (see grpcConnections).
	GRPCConnections int

	// Profile is the named profile whose values replaced the defaults
	// ("" for none): development, production or high-performance. It takes
	// effect through LoadConfig, ParseDSN, ConfigFromEnv and WithProfile;
	// setting the field on a Config by hand only records the name.
	Profile string

	// ServerSideParams sends ? parameters as executeStatementV2 parameters
	// instead of substituting client-side literals.
	ServerSideParams bool
	// PrefetchDepth is the number of batches requested ahead while the
	// application scans (0 = off).
	PrefetchDepth int
	// QueryTimeout is the default per-query timeout (0 = none).
	QueryTimeout time.Duration

	// DialOptions are extra gRPC dial options, appended last (code only).
	DialOptions []grpc.DialOption

	// MeterProvider, when set, receives the connector's metrics (code
	// only); unset, the metrics are a no-op. The global provider is never
	// used unless passed here (otel.GetMeterProvider()).
	MeterProvider metric.MeterProvider
	// TracerProvider, when set, receives the connector's spans (code
	// only); unset, no spans are made.
	TracerProvider trace.TracerProvider

	sources map[string]Source // field -> where its value came from
	keys    map[string]string // field -> the variable or DSN key that set it
	diags   []Diagnostic
}

// Source tells which layer of the merge gave a setting its value.
type Source string

// The layers of the merge, from lowest to highest precedence.
const (
	SourceDefault Source = "default"
	SourceProfile Source = "profile"
	SourceEnv     Source = "env"
	SourceDSN     Source = "dsn"
	SourceCode    Source = "code"
)

// Diagnostic is one finding of loading a configuration: a clamped value, an
// unknown key (with the nearest known name), a lenient fallback, an option
// that has no effect in Go. The connector logs each once; `e6 config check`
// prints them.
type Diagnostic struct {
	Level   slog.Level
	Key     string // the variable, DSN key or option concerned
	Value   string // the value as given; redacted for secrets
	Message string // a complete sentence naming key, value and outcome
	Source  Source // the layer the value came from
}

// String returns "LEVEL message".
func (d Diagnostic) String() string {
	return levelName(d.Level) + " " + d.Message
}

// Setting describes one setting of a Config and its current value, for
// documentation and `e6 config check`.
type Setting struct {
	Name        string // the Config field
	Env         string // the environment variable ("" when code only)
	EnvAliases  []string
	DSNKey      string // the DSN key, or the URL part (user, token, host, port, database); "" when code only
	Option      string // the Option that sets it
	Value       string // the current value, in DSN/env form; redacted for secrets
	Default     string // the default under the current profile
	Range       string // the accepted values
	Source      Source
	Description string
}

// ConfigError reports one invalid setting. It names the variable, DSN key,
// option or field, the value (redacted when secret) and what was expected.
type ConfigError struct {
	Key      string // E6DATA_PORT, port, WithSetting(port), Port, scheme, ...
	Value    string // as given; "[REDACTED]" for secrets
	Expected string // what would have been accepted
	Source   string // env, dsn, code or file
	Err      error  // an underlying cause (a file error), or nil
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("e6data: invalid configuration: ")
	if e.Source != "" {
		b.WriteString(e.Source)
		b.WriteByte(' ')
	}
	b.WriteString(e.Key)
	if e.Value != "" {
		b.WriteString("=")
		b.WriteString(strconv.Quote(e.Value))
	}
	if e.Expected != "" {
		b.WriteString(": expected ")
		b.WriteString(e.Expected)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns ErrConfig.
func (e *ConfigError) Unwrap() error { return ErrConfig }

// redactedValue replaces secrets in messages, errors and String output.
const redactedValue = "[REDACTED]"

// DefaultConfig returns the built-in defaults (no profile, no environment).
// It has no user or token, so it does not validate until they are set.
func DefaultConfig() *Config {
	return &Config{
		Host:                        "localhost",
		Port:                        80,
		AutoResume:                  true,
		AutoResumeTimeout:           300 * time.Second,
		ResumePollInterval:          5 * time.Second,
		StrategyCacheTimeout:        300 * time.Second,
		MaxRetryAttempts:            5,
		RetryBackoff:                200 * time.Millisecond,
		StrategyDetectionTimeout:    30 * time.Second,
		StrictValidation:            true,
		KeepaliveTime:               30000 * time.Millisecond,
		KeepaliveTimeout:            60000 * time.Millisecond,
		KeepalivePermitWithoutCalls: true,
		MaxRecvMsgSize:              100 << 20,
		MaxSendMsgSize:              100 << 20,
		PrepareTimeout:              600 * time.Second,
		LogLevel:                    slog.LevelInfo,
		StrategyLogLevel:            slog.LevelInfo,
		GRPCLogLevel:                slog.LevelWarn,
		LogFormat:                   "text",
		LogOutput:                   "stderr",
		StrategyCacheSize:           1,
		QueryMappingCacheSize:       1000,
		CacheCleanupInterval:        300 * time.Second,
		CacheTTL:                    300 * time.Second,
		MaxConnections:              10,
		MinConnections:              1,
		ConnectionTimeout:           30 * time.Second,
		IdleTimeout:                 300 * time.Second,
		MaxLifetime:                 3600 * time.Second,
		PrefetchDepth:               1,
	}
}

// ConfigFromEnv is LoadConfig("", os.Environ(), opts...).
func ConfigFromEnv(opts ...Option) (*Config, error) {
	return LoadConfig("", osEnviron(), opts...)
}

// ParseDSN is LoadConfig(dsn, nil): the DSN over the defaults (and over
// the profile the DSN names), ignoring the environment.
func ParseDSN(dsn string) (*Config, error) {
	return LoadConfig(dsn, nil)
}

// Clone returns a deep copy (the Logger, TokenProvider, DialOptions,
// MeterProvider and TracerProvider values themselves are shared; TLSConfig
// is cloned).
func (c *Config) Clone() *Config {
	if c == nil {
		return nil
	}
	n := *c
	if c.CAPEM != nil {
		n.CAPEM = bytes.Clone(c.CAPEM)
	}
	if c.TLSConfig != nil {
		n.TLSConfig = c.TLSConfig.Clone()
	}
	if c.DialOptions != nil {
		n.DialOptions = append([]grpc.DialOption(nil), c.DialOptions...)
	}
	if c.sources != nil {
		n.sources = make(map[string]Source, len(c.sources))
		for k, v := range c.sources {
			n.sources[k] = v
		}
	}
	if c.keys != nil {
		n.keys = make(map[string]string, len(c.keys))
		for k, v := range c.keys {
			n.keys[k] = v
		}
	}
	n.diags = append([]Diagnostic(nil), c.diags...)
	return &n
}

// Diagnostics returns the findings of loading, in the order they were made.
func (c *Config) Diagnostics() []Diagnostic {
	return append([]Diagnostic(nil), c.diags...)
}

// logDiagnostics writes each diagnostic to logger at its level, with the
// attributes key, value and source. (newConnector logs the diagnostics
// itself, without the source; only the secret-masking tests call this.)
func (c *Config) logDiagnostics(ctx context.Context, logger *slog.Logger) {
	if logger == nil {
		return
	}
	for _, d := range c.diags {
		logger.Log(ctx, d.Level, d.Message,
			slog.String("key", d.Key), slog.String("value", d.Value), slog.String("source", string(d.Source)))
	}
}

// Source tells where the setting named field got its value. field may be
// the Config field name, the environment variable or the DSN key
// (case-insensitive). An unknown name reports SourceDefault. On a Config
// not made by LoadConfig, a value different from the default reports
// SourceCode.
func (c *Config) Source(field string) Source {
	s := lookupSetting(field)
	if s == nil {
		return SourceDefault
	}
	return c.sourceOf(s.field)
}

func (c *Config) sourceOf(field string) Source {
	if c.sources != nil {
		if src, ok := c.sources[field]; ok {
			return src
		}
		return SourceDefault
	}
	s := settingByField[field]
	if s == nil || s.same(c, DefaultConfig()) {
		return SourceDefault
	}
	return SourceCode
}

// keyFor is the name the user gave a field's value under (E6DATA_PORT,
// port, WithSetting(port)), or the field name.
func (c *Config) keyFor(field string) string {
	if k := c.keys[field]; k != "" {
		return k
	}
	return field
}

// Settings lists every setting with its current (redacted) value, default,
// range and source, in the order of docs/configuration.md.
func (c *Config) Settings() []Setting {
	def := defaultsForProfile(c.Profile)
	out := make([]Setting, 0, len(settingSpecs))
	for _, s := range settingSpecs {
		st := Setting{
			Name:        s.field,
			Env:         s.env,
			EnvAliases:  append([]string(nil), s.envAlt...),
			DSNKey:      s.dsn,
			Option:      s.option,
			Range:       s.rangeText(),
			Source:      c.sourceOf(s.field),
			Description: s.desc,
		}
		st.Value = s.display(c)
		st.Default = s.display(def)
		out = append(out, st)
	}
	return out
}

// String returns a DSN-like text of the configuration with the token
// redacted, followed by the code-only settings that are set. It never
// contains the token. FormatDSN gives a DSN that can be parsed back (with
// the token from another layer), FormatDSNWithSecrets one with the token.
// (String, GoString and LogValue have value receivers so that a Config
// printed by value is redacted too.)
func (c Config) String() string {
	s := c.formatDSN(dsnRedact)
	var extra []string
	if c.TokenProvider != nil {
		extra = append(extra, "token-provider=set")
	}
	if len(c.CAPEM) > 0 {
		extra = append(extra, "ca-pem=set")
	}
	if c.TLSConfig != nil {
		extra = append(extra, "tls-config=set")
	}
	if c.Logger != nil {
		extra = append(extra, "logger=set")
	}
	if len(c.DialOptions) > 0 {
		extra = append(extra, "dial-options="+strconv.Itoa(len(c.DialOptions)))
	}
	if c.MeterProvider != nil {
		extra = append(extra, "meter-provider=set")
	}
	if c.TracerProvider != nil {
		extra = append(extra, "tracer-provider=set")
	}
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, " ") + ")"
	}
	return s
}

// GoString makes %#v print the redacted form too.
func (c Config) GoString() string { return "e6data.Config(" + c.String() + ")" }

// LogValue makes a Config logged through slog print its redacted form.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Validate checks every field: ranges, enumerations, required user and
// token, and combinations. It returns every problem found, joined; each is
// a *ConfigError naming the field (or the variable / DSN key that set it).
// Values out of range are errors here: LoadConfig has already clamped the
// ones that came from the environment or a DSN, so what remains was set in
// code.
func (c *Config) Validate() error {
	return errors.Join(c.validate()...)
}

// codeOnlySnapshot is what LoadConfig compares before and after an option
// to see which code-only fields it changed.
func codeOnlySnapshot(c *Config) [7]any {
	fn := uintptr(0)
	if c.TokenProvider != nil {
		fn = reflect.ValueOf(c.TokenProvider).Pointer()
	}
	dial := ""
	if len(c.DialOptions) > 0 {
		dial = fmt.Sprintf("%p/%d", &c.DialOptions[0], len(c.DialOptions))
	}
	return [7]any{fn, string(c.CAPEM), c.TLSConfig, c.Logger, dial, identity(c.MeterProvider), identity(c.TracerProvider)}
}

var codeOnlyFields = [7]string{"TokenProvider", "CAPEM", "TLSConfig", "Logger", "DialOptions", "MeterProvider", "TracerProvider"}

// identity is v in a form == can compare without panicking: a value that
// cannot be compared (a struct holding a slice, say) becomes its type name.
func identity(v any) any {
	if v == nil {
		return nil
	}
	if reflect.ValueOf(v).Comparable() {
		return v
	}
	return reflect.TypeOf(v).String()
}

// validate is Validate's list of problems.
func (c *Config) validate() []error {
	var errs []error
	for _, s := range settingSpecs {
		if s.ptr == nil {
			continue
		}
		v := s.get(c)
		if exp := s.check(v); exp != "" {
			errs = append(errs, &ConfigError{Key: c.keyFor(s.field), Value: s.displayValue(v), Expected: exp, Source: string(c.sourceOf(s.field))})
		}
	}
	if c.User == "" {
		errs = append(errs, &ConfigError{Key: "User", Source: "missing",
			Expected: "a user name (set E6DATA_USERNAME, the DSN user or WithCredentials)"})
	}
	if c.Token == "" && c.TokenProvider == nil {
		errs = append(errs, &ConfigError{Key: "Token", Source: "missing",
			Expected: "an access token (set E6DATA_PASSWORD, the DSN token, WithCredentials or WithTokenProvider)"})
	}
	if c.MinConnections > c.MaxConnections && c.MinConnections >= 0 && c.MaxConnections >= 1 {
		errs = append(errs, &ConfigError{Key: c.keyFor("MinConnections"), Value: strconv.Itoa(c.MinConnections),
			Expected: fmt.Sprintf("at most MaxConnections (%d)", c.MaxConnections), Source: string(c.sourceOf("MinConnections"))})
	}
	if (c.ClientCertFile == "") != (c.ClientKeyFile == "") {
		errs = append(errs, &ConfigError{Key: "ClientCertFile/ClientKeyFile", Value: c.ClientCertFile + " " + c.ClientKeyFile,
			Expected: "both a client certificate and its key, or neither", Source: string(c.sourceOf("ClientCertFile"))})
	}
	return errs
}
