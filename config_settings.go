package e6data

import (
	"fmt"
	"log/slog"
	"math"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// cfgKind is how a setting's text is parsed, checked and formatted.
type cfgKind int

const (
	kindString  cfgKind = iota // any text
	kindSecret                 // any text, never shown
	kindHost                   // host name or IP address
	kindInt                    // integer with bounds
	kindBool                   // true/false 1/0 yes/no on/off
	kindSeconds                // time.Duration; a plain number is seconds
	kindMillis                 // time.Duration; a plain number is milliseconds
	kindLevel                  // slog.Level by name
	kindEnum                   // one of enum (case-insensitive)
	kindCode                   // settable only in code
)

// Implementation limits for settings bounded only below (docs/configuration.md).
const (
	maxIntSetting = math.MaxInt32
	maxDuration   = math.MaxInt64
	// LevelCritical is the CRITICAL level of the Python connector: a level
	// above slog.LevelError.
	LevelCritical = slog.Level(12)
	minLevel      = int64(slog.LevelDebug) - 1000
	maxLevel      = int64(LevelCritical) + 1000
)

// settingSpec describes one setting: its names in every layer, its type,
// its range, and how to reach the Config field.
type settingSpec struct {
	field  string   // Config field
	env    string   // environment variable
	envAlt []string // synonyms, lower priority than env
	dsn    string   // DSN key (or URL part: user token host port database)
	dsnAlt []string // DSN synonyms
	kind   cfgKind
	min    int64 // bounds: value for ints and levels, nanoseconds for durations
	max    int64
	enum   []string
	option string // the Option that sets it
	desc   string
	ptr    func(c *Config) any    // pointer to the field; nil for kindCode
	show   func(c *Config) string // display of a kindCode setting
}

// urlPart reports whether the setting lives in the DSN's URL rather than
// its query.
func (s *settingSpec) urlPart() bool {
	switch s.dsn {
	case "user", "token", "host", "port", "database":
		return true
	}
	return false
}

func sec(n float64) int64 { return int64(n * float64(time.Second)) }
func ms(n int64) int64    { return n * int64(time.Millisecond) }

// settingSpecs is every setting in documentation order.
var settingSpecs = []*settingSpec{
	{field: "Host", env: "E6DATA_HOST", dsn: "host", kind: kindHost, option: "WithHost",
		desc: "engine host", ptr: func(c *Config) any { return &c.Host }},
	{field: "Port", env: "E6DATA_PORT", dsn: "port", kind: kindInt, min: 1, max: 65535, option: "WithPort",
		desc: "engine port", ptr: func(c *Config) any { return &c.Port }},
	{field: "User", env: "E6DATA_USERNAME", dsn: "user", kind: kindString, option: "WithCredentials",
		desc: "user (e-mail); required", ptr: func(c *Config) any { return &c.User }},
	{field: "Token", env: "E6DATA_PASSWORD", dsn: "token", kind: kindSecret, option: "WithCredentials",
		desc: "access token; required unless a token provider is set; never printed", ptr: func(c *Config) any { return &c.Token }},
	{field: "TokenProvider", kind: kindCode, option: "WithTokenProvider",
		desc: "function returning the current token, called for every authentication",
		show: func(c *Config) string { return setOrEmpty(c.TokenProvider != nil) }},
	{field: "Catalog", env: "E6DATA_CATALOG", dsn: "catalog", kind: kindString, option: "WithCatalog",
		desc: "catalog (selects the V2 calls)", ptr: func(c *Config) any { return &c.Catalog }},
	{field: "Database", env: "E6DATA_DATABASE", dsn: "database", kind: kindString, option: "WithDatabase",
		desc: "database (schema)", ptr: func(c *Config) any { return &c.Database }},
	{field: "ClusterName", env: "E6DATA_CLUSTER_UUID", envAlt: []string{"E6DATA_CLUSTER_NAME"}, dsn: "cluster-name", dsnAlt: []string{"cluster-uuid"},
		kind: kindString, option: "WithClusterName",
		desc: "cluster name/uuid, sent lower-cased as cluster-name", ptr: func(c *Config) any { return &c.ClusterName }},
	{field: "Profile", env: "E6DATA_PROFILE", dsn: "profile", kind: kindEnum, enum: []string{"", profileDevelopment, profileProduction, profileHighPerformance},
		option: "WithProfile", desc: "named profile whose values become the defaults", ptr: func(c *Config) any { return &c.Profile }},
	{field: "StrictValidation", env: "E6DATA_STRATEGY_VALIDATION", dsn: "strategy-validation", kind: kindBool, option: "WithSetting",
		desc: "strict validation: unparsable values are errors (false: ERROR log + fallback)", ptr: func(c *Config) any { return &c.StrictValidation }},
	{field: "Secure", env: "E6DATA_SECURE", dsn: "secure", kind: kindBool, option: "WithSecure",
		desc: "TLS", ptr: func(c *Config) any { return &c.Secure }},
	{field: "CAFile", env: "E6DATA_CA_FILE", dsn: "ca-file", kind: kindString, option: "WithCAFile",
		desc: "PEM CA certificates replacing the system roots", ptr: func(c *Config) any { return &c.CAFile }},
	{field: "CAPEM", kind: kindCode, option: "WithCAPEM", desc: "PEM CA certificates given in code",
		show: func(c *Config) string { return setOrEmpty(len(c.CAPEM) > 0) }},
	{field: "ClientCertFile", env: "E6DATA_CLIENT_CERT", dsn: "client-cert", kind: kindString, option: "WithClientCert",
		desc: "PEM client certificate (mutual TLS)", ptr: func(c *Config) any { return &c.ClientCertFile }},
	{field: "ClientKeyFile", env: "E6DATA_CLIENT_KEY", dsn: "client-key", kind: kindString, option: "WithClientCert",
		desc: "PEM client key (mutual TLS)", ptr: func(c *Config) any { return &c.ClientKeyFile }},
	{field: "ServerName", env: "E6DATA_SERVER_NAME", dsn: "server-name", kind: kindString, option: "WithServerName",
		desc: "name the server certificate is checked against (default: the host)", ptr: func(c *Config) any { return &c.ServerName }},
	{field: "InsecureSkipVerify", env: "E6DATA_INSECURE_SKIP_VERIFY", dsn: "insecure-skip-verify", kind: kindBool, option: "WithInsecureSkipVerify",
		desc: "skip server certificate verification (tests only; logged at WARN)", ptr: func(c *Config) any { return &c.InsecureSkipVerify }},
	{field: "TLSConfig", kind: kindCode, option: "WithTLSConfig", desc: "complete `*tls.Config`, used instead of the TLS settings above",
		show: func(c *Config) string { return setOrEmpty(c.TLSConfig != nil) }},
	{field: "AutoResume", env: "E6DATA_AUTO_RESUME", dsn: "auto-resume", kind: kindBool, option: "WithAutoResume",
		desc: "resume a suspended cluster", ptr: func(c *Config) any { return &c.AutoResume }},
	{field: "AutoResumeTimeout", env: "E6DATA_AUTO_RESUME_TIMEOUT", dsn: "auto-resume-timeout", kind: kindSeconds, min: sec(1), max: maxDuration,
		option: "WithAutoResume", desc: "wait for a resume (grpc_auto_resume_timeout_seconds)", ptr: func(c *Config) any { return &c.AutoResumeTimeout }},
	{field: "ResumePollInterval", env: "E6DATA_RESUME_POLL_INTERVAL", dsn: "resume-poll-interval", kind: kindSeconds, min: sec(0.1), max: sec(300),
		option: "WithSetting", desc: "pause between cluster status polls while resuming", ptr: func(c *Config) any { return &c.ResumePollInterval }},
	{field: "StrategyCacheTimeout", env: "E6DATA_STRATEGY_CACHE_TIMEOUT", dsn: "strategy-cache-timeout", kind: kindSeconds, min: sec(60), max: sec(1800),
		option: "WithSetting", desc: "how long a confirmed strategy is trusted before new work confirms it again", ptr: func(c *Config) any { return &c.StrategyCacheTimeout }},
	{field: "MaxRetryAttempts", env: "E6DATA_MAX_RETRY_ATTEMPTS", dsn: "max-retry-attempts", kind: kindInt, min: 1, max: 10,
		option: "WithRetry", desc: "attempts for a recoverable failure", ptr: func(c *Config) any { return &c.MaxRetryAttempts }},
	{field: "RetryBackoff", env: "E6DATA_RETRY_BACKOFF_FACTOR", dsn: "retry-backoff", dsnAlt: []string{"retry-backoff-factor"}, kind: kindSeconds,
		min: sec(0.1), max: sec(2), option: "WithRetry", desc: "first backoff step; grows exponentially, jittered",
		ptr: func(c *Config) any { return &c.RetryBackoff }},
	{field: "StrategyDetectionTimeout", env: "E6DATA_STRATEGY_DETECTION_TIMEOUT", dsn: "strategy-detection-timeout", kind: kindSeconds, min: sec(10), max: sec(120),
		option: "WithSetting", desc: "bound on one strategy detection", ptr: func(c *Config) any { return &c.StrategyDetectionTimeout }},
	{field: "KeepaliveTimeout", env: "E6DATA_KEEPALIVE_TIMEOUT_MS", dsn: "keepalive-timeout-ms", kind: kindMillis, min: ms(1000), max: maxDuration,
		option: "WithGRPCOptions", desc: "gRPC keepalive timeout (keepalive_timeout_ms)", ptr: func(c *Config) any { return &c.KeepaliveTimeout }},
	{field: "KeepaliveTime", env: "E6DATA_KEEPALIVE_TIME_MS", dsn: "keepalive-time-ms", kind: kindMillis, min: ms(10000), max: maxDuration,
		option: "WithGRPCOptions", desc: "gRPC keepalive interval (keepalive_time_ms)", ptr: func(c *Config) any { return &c.KeepaliveTime }},
	{field: "KeepalivePermitWithoutCalls", env: "E6DATA_KEEPALIVE_PERMIT_WITHOUT_CALLS", dsn: "keepalive-permit-without-calls", kind: kindBool,
		option: "WithGRPCOptions", desc: "keepalive pings with no active call (keepalive_permit_without_calls)",
		ptr: func(c *Config) any { return &c.KeepalivePermitWithoutCalls }},
	{field: "MaxRecvMsgSize", env: "E6DATA_MAX_RECEIVE_MSG_LENGTH", dsn: "max-receive-msg-length", kind: kindInt, min: 1 << 20, max: maxIntSetting,
		option: "WithGRPCOptions", desc: "largest gRPC message received, bytes (max_receive_message_length)",
		ptr: func(c *Config) any { return &c.MaxRecvMsgSize }},
	{field: "MaxSendMsgSize", env: "E6DATA_MAX_SEND_MSG_LENGTH", dsn: "max-send-msg-length", kind: kindInt, min: 1 << 20, max: maxIntSetting,
		option: "WithGRPCOptions", desc: "largest gRPC message sent, bytes (max_send_message_length)",
		ptr: func(c *Config) any { return &c.MaxSendMsgSize }},
	{field: "PrepareTimeout", env: "E6DATA_PREPARE_TIMEOUT", dsn: "prepare-timeout", kind: kindSeconds, min: sec(1), max: maxDuration,
		option: "WithGRPCOptions", desc: "bound on prepare (grpc_prepare_timeout)", ptr: func(c *Config) any { return &c.PrepareTimeout }},
	{field: "LogLevel", env: "E6DATA_LOG_LEVEL", dsn: "log-level", kind: kindLevel, min: minLevel, max: maxLevel,
		option: "WithSetting", desc: "level of the connector component", ptr: func(c *Config) any { return &c.LogLevel }},
	{field: "StrategyLogLevel", env: "E6DATA_STRATEGY_LOG_LEVEL", dsn: "strategy-log-level", kind: kindLevel, min: minLevel, max: maxLevel,
		option: "WithSetting", desc: "level of the strategy component", ptr: func(c *Config) any { return &c.StrategyLogLevel }},
	{field: "GRPCLogLevel", env: "E6DATA_GRPC_LOG_LEVEL", dsn: "grpc-log-level", kind: kindLevel, min: minLevel, max: maxLevel,
		option: "WithSetting", desc: "level of gRPC's own logs (see InstallGRPCLogger)", ptr: func(c *Config) any { return &c.GRPCLogLevel }},
	{field: "LogFormat", env: "E6DATA_LOG_FORMAT", dsn: "log-format", kind: kindEnum, enum: []string{"text", "json"},
		option: "WithSetting", desc: "log record format", ptr: func(c *Config) any { return &c.LogFormat }},
	{field: "LogOutput", env: "E6DATA_LOG_OUTPUT", dsn: "log-output", kind: kindEnum, enum: []string{"stderr", "stdout"},
		option: "WithSetting", desc: "log destination", ptr: func(c *Config) any { return &c.LogOutput }},
	{field: "Logger", kind: kindCode, option: "WithLogger", desc: "`*slog.Logger` receiving the records instead of format/output",
		show: func(c *Config) string { return setOrEmpty(c.Logger != nil) }},
	{field: "StrategyCacheSize", env: "E6DATA_STRATEGY_CACHE_SIZE", dsn: "strategy-cache-size", kind: kindInt, min: 1, max: maxIntSetting,
		option: "WithSetting", desc: "clusters whose strategy is kept after their last Connector closes", ptr: func(c *Config) any { return &c.StrategyCacheSize }},
	{field: "QueryMappingCacheSize", env: "E6DATA_QUERY_MAPPING_CACHE_SIZE", dsn: "query-mapping-cache-size", kind: kindInt, min: 1, max: maxIntSetting,
		option: "WithSetting", desc: "max in-flight query pins", ptr: func(c *Config) any { return &c.QueryMappingCacheSize }},
	{field: "CacheCleanupInterval", env: "E6DATA_CACHE_CLEANUP_INTERVAL", dsn: "cache-cleanup-interval", kind: kindSeconds, min: sec(1), max: maxDuration,
		option: "WithSetting", desc: "pause between sweeps of stale pins", ptr: func(c *Config) any { return &c.CacheCleanupInterval }},
	{field: "CacheTTL", env: "E6DATA_CACHE_TTL", dsn: "cache-ttl", kind: kindSeconds, min: sec(1), max: maxDuration,
		option: "WithSetting", desc: "age at which an unfinished pin is stale", ptr: func(c *Config) any { return &c.CacheTTL }},
	{field: "MaxConnections", env: "E6DATA_MAX_CONNECTIONS", dsn: "max-connections", kind: kindInt, min: 1, max: maxIntSetting,
		option: "WithPool", desc: "pool: max open connections", ptr: func(c *Config) any { return &c.MaxConnections }},
	{field: "MinConnections", env: "E6DATA_MIN_CONNECTIONS", dsn: "min-connections", kind: kindInt, min: 0, max: maxIntSetting,
		option: "WithPool", desc: "pool: connections kept warm (at most max-connections)", ptr: func(c *Config) any { return &c.MinConnections }},
	{field: "ConnectionTimeout", env: "E6DATA_CONNECTION_TIMEOUT", dsn: "connection-timeout", kind: kindSeconds, min: sec(1), max: maxDuration,
		option: "WithSetting", desc: "bound on obtaining a connection", ptr: func(c *Config) any { return &c.ConnectionTimeout }},
	{field: "IdleTimeout", env: "E6DATA_IDLE_TIMEOUT", dsn: "idle-timeout", kind: kindSeconds, min: sec(1), max: maxDuration,
		option: "WithPool", desc: "how long an idle connection lives", ptr: func(c *Config) any { return &c.IdleTimeout }},
	{field: "MaxLifetime", env: "E6DATA_MAX_LIFETIME", dsn: "max-lifetime", kind: kindSeconds, min: sec(1), max: maxDuration,
		option: "WithPool", desc: "how long any connection lives", ptr: func(c *Config) any { return &c.MaxLifetime }},
	{field: "GRPCConnections", env: "E6DATA_GRPC_CONNECTIONS", dsn: "grpc-connections", kind: kindInt, min: 0, max: maxGRPCConnections,
		option: "WithGRPCConnections", desc: "gRPC (HTTP/2) connections to the cluster, calls spread round-robin (0 = one per 64 max-connections, at most 4)",
		ptr: func(c *Config) any { return &c.GRPCConnections }},
	{field: "ServerSideParams", env: "E6DATA_SERVER_SIDE_PARAMS", dsn: "server-side-params", kind: kindBool, option: "WithServerSideParams",
		desc: "send ? parameters to the server instead of client-side literals", ptr: func(c *Config) any { return &c.ServerSideParams }},
	{field: "PrefetchDepth", env: "E6DATA_PREFETCH", dsn: "prefetch", kind: kindInt, min: 0, max: 64, option: "WithPrefetch",
		desc: "batches requested ahead while scanning (0 = off)", ptr: func(c *Config) any { return &c.PrefetchDepth }},
	{field: "QueryTimeout", env: "E6DATA_QUERY_TIMEOUT", dsn: "query-timeout", kind: kindSeconds, min: 0, max: maxDuration, option: "WithQueryTimeout",
		desc: "default per-query timeout (0 = none)", ptr: func(c *Config) any { return &c.QueryTimeout }},
	{field: "DialOptions", kind: kindCode, option: "WithDialOptions", desc: "extra `grpc.DialOption`s, appended last",
		show: func(c *Config) string {
			if len(c.DialOptions) == 0 {
				return ""
			}
			return strconv.Itoa(len(c.DialOptions)) + " set"
		}},
	{field: "MeterProvider", kind: kindCode, option: "WithMeterProvider", desc: "OpenTelemetry `metric.MeterProvider` for the connector's metrics (unset = no-op)",
		show: func(c *Config) string { return setOrEmpty(c.MeterProvider != nil) }},
	{field: "TracerProvider", kind: kindCode, option: "WithTracerProvider", desc: "OpenTelemetry `trace.TracerProvider` for the connector's spans (unset = none)",
		show: func(c *Config) string { return setOrEmpty(c.TracerProvider != nil) }},
}

func setOrEmpty(b bool) string {
	if b {
		return "set"
	}
	return ""
}

// Lookups over settingSpecs: computed from the static table when the
// package is loaded, without side effects, and never written afterwards.
var (
	settingByField = indexSettings(func(s *settingSpec) []string { return []string{s.field} })
	// settingByEnv includes the synonyms.
	settingByEnv = indexSettings(func(s *settingSpec) []string {
		if s.env == "" {
			return nil
		}
		return append([]string{s.env}, s.envAlt...)
	})
	// settingByDSN has the query keys and their synonyms.
	settingByDSN = indexSettings(func(s *settingSpec) []string {
		var keys []string
		if s.dsn != "" && !s.urlPart() {
			keys = append(keys, s.dsn)
		}
		return append(keys, s.dsnAlt...)
	})
	// settingByName has every name, lower-cased: field, variables, DSN keys
	// and URL parts.
	settingByName = indexSettings(func(s *settingSpec) []string {
		names := []string{strings.ToLower(s.field)}
		if s.env != "" {
			names = append(names, strings.ToLower(s.env))
		}
		for _, e := range s.envAlt {
			names = append(names, strings.ToLower(e))
		}
		if s.dsn != "" {
			names = append(names, s.dsn)
		}
		return append(names, s.dsnAlt...)
	})
)

func indexSettings(names func(*settingSpec) []string) map[string]*settingSpec {
	m := map[string]*settingSpec{}
	for _, s := range settingSpecs {
		for _, n := range names(s) {
			m[n] = s
		}
	}
	return m
}

func lookupSetting(name string) *settingSpec {
	return settingByName[strings.ToLower(strings.TrimSpace(name))]
}

// get returns the field's value normalized: int64 for numbers, durations
// and levels; bool; string.
func (s *settingSpec) get(c *Config) any {
	switch p := s.ptr(c).(type) {
	case *int:
		return int64(*p)
	case *time.Duration:
		return int64(*p)
	case *slog.Level:
		return int64(*p)
	case *bool:
		return *p
	case *string:
		return *p
	}
	panic("e6data: setting " + s.field + " has an unsupported field type")
}

// set stores a normalized value (as get returns it).
func (s *settingSpec) set(c *Config, v any) {
	switch p := s.ptr(c).(type) {
	case *int:
		*p = int(v.(int64))
	case *time.Duration:
		*p = time.Duration(v.(int64))
	case *slog.Level:
		*p = slog.Level(v.(int64))
	case *bool:
		*p = v.(bool)
	case *string:
		*p = v.(string)
	}
}

// same reports whether c and d hold the same value for this setting.
func (s *settingSpec) same(c, d *Config) bool {
	if s.kind == kindCode {
		a, b := codeOnlySnapshot(c), codeOnlySnapshot(d)
		for i, f := range codeOnlyFields {
			if f == s.field {
				return a[i] == b[i]
			}
		}
		return true
	}
	return s.get(c) == s.get(d)
}

// parse converts text to the normalized value. over is +1 or -1 when the
// text is a number too large or too small for the type (the caller clamps
// it). ok is false when the text cannot be read at all.
func (s *settingSpec) parse(raw string) (v any, over int, ok bool) {
	switch s.kind {
	case kindString, kindSecret:
		return raw, 0, true
	case kindHost:
		h := strings.TrimSpace(raw)
		if checkHost(h) != nil {
			return nil, 0, false
		}
		return h, 0, true
	case kindEnum:
		t := strings.ToLower(strings.TrimSpace(raw))
		for _, e := range s.enum {
			if t == e {
				return e, 0, true
			}
		}
		return nil, 0, false
	case kindBool:
		b, ok := parseBoolText(raw)
		return b, 0, ok
	case kindInt:
		t := strings.TrimSpace(raw)
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			if ne, isNum := err.(*strconv.NumError); isNum && ne.Err == strconv.ErrRange {
				if strings.HasPrefix(t, "-") {
					return int64(math.MinInt64), -1, true
				}
				return int64(math.MaxInt64), 1, true
			}
			return nil, 0, false
		}
		return n, 0, true
	case kindSeconds, kindMillis:
		unit := time.Second
		if s.kind == kindMillis {
			unit = time.Millisecond
		}
		return parseDurationText(raw, unit)
	case kindLevel:
		l, ok := parseLevelText(raw)
		if !ok {
			return nil, 0, false
		}
		return l, 0, true
	}
	return nil, 0, false
}

// clamp brings a parsed value into [min, max]. It reports the bound used
// and whether the value was below it.
func (s *settingSpec) clamp(v any, over int) (out any, clamped, below bool, bound int64) {
	switch s.kind {
	case kindInt, kindSeconds, kindMillis, kindLevel:
	default:
		return v, false, false, 0
	}
	n := v.(int64)
	switch {
	case over < 0 || n < s.min:
		return s.min, true, true, s.min
	case over > 0 || n > s.max:
		return s.max, true, false, s.max
	}
	return n, false, false, 0
}

// check returns "" when v is acceptable for the field, else what is expected.
func (s *settingSpec) check(v any) string {
	switch s.kind {
	case kindInt, kindSeconds, kindMillis, kindLevel:
		n := v.(int64)
		if n < s.min || n > s.max {
			return s.expect()
		}
	case kindEnum:
		t := v.(string)
		for _, e := range s.enum {
			if t == e {
				return ""
			}
		}
		return s.expect()
	case kindHost:
		if checkHost(v.(string)) != nil {
			return s.expect()
		}
	}
	return ""
}

// format writes a normalized value in the form the environment and the DSN
// read back to the same value.
func (s *settingSpec) format(v any) string {
	switch s.kind {
	case kindInt:
		return strconv.FormatInt(v.(int64), 10)
	case kindSeconds:
		return formatDurationText(time.Duration(v.(int64)), time.Second)
	case kindMillis:
		return formatDurationText(time.Duration(v.(int64)), time.Millisecond)
	case kindLevel:
		return levelText(slog.Level(v.(int64)))
	case kindBool:
		return strconv.FormatBool(v.(bool))
	case kindCode:
		return ""
	}
	return v.(string)
}

// display is the value shown by Settings and String: secrets redacted.
func (s *settingSpec) display(c *Config) string {
	if s.kind == kindCode {
		return s.show(c)
	}
	return s.displayValue(s.get(c))
}

func (s *settingSpec) displayValue(v any) string {
	if s.kind == kindSecret {
		if v.(string) == "" {
			return ""
		}
		return redactedValue
	}
	return s.format(v)
}

// redactRaw is the text of a raw value safe to put in an error or diagnostic.
func (s *settingSpec) redactRaw(raw string) string {
	if s.kind == kindSecret && raw != "" {
		return redactedValue
	}
	return raw
}

func (s *settingSpec) unitWord() string {
	switch s.kind {
	case kindSeconds:
		return "s"
	case kindMillis:
		return "ms"
	}
	return ""
}

// boundText writes a bound in the setting's unit.
func (s *settingSpec) boundText(n int64) string {
	switch s.kind {
	case kindSeconds:
		return formatDurationText(time.Duration(n), time.Second) + " s"
	case kindMillis:
		return formatDurationText(time.Duration(n), time.Millisecond) + " ms"
	case kindLevel:
		return levelText(slog.Level(n))
	}
	return strconv.FormatInt(n, 10)
}

func (s *settingSpec) unbounded() bool {
	switch s.kind {
	case kindInt:
		return s.max == maxIntSetting
	case kindSeconds, kindMillis:
		return s.max == maxDuration
	}
	return false
}

// rangeText is the range column of the documentation.
func (s *settingSpec) rangeText() string {
	switch s.kind {
	case kindInt, kindSeconds, kindMillis:
		u := s.unitWord()
		if u != "" {
			u = " " + u
		}
		lo := strings.TrimSuffix(s.boundText(s.min), u)
		if s.unbounded() {
			return ">= " + lo + u
		}
		return lo + "–" + strings.TrimSuffix(s.boundText(s.max), u) + u
	case kindBool:
		return "bool"
	case kindLevel:
		return "DEBUG INFO WARNING ERROR CRITICAL"
	case kindEnum:
		var vals []string
		for _, e := range s.enum {
			if e == "" {
				e = `"" (none)`
			}
			vals = append(vals, e)
		}
		return strings.Join(vals, ", ")
	case kindHost:
		return "host name or IP"
	}
	return ""
}

// expect is the "expected ..." text of errors.
func (s *settingSpec) expect() string {
	switch s.kind {
	case kindInt:
		if s.unbounded() {
			return fmt.Sprintf("an integer >= %d", s.min)
		}
		return fmt.Sprintf("an integer between %d and %d", s.min, s.max)
	case kindSeconds, kindMillis:
		what, eg := "seconds", "5m"
		if s.kind == kindMillis {
			what, eg = "milliseconds", "30s"
		}
		lo := s.format(s.min)
		if s.unbounded() {
			return fmt.Sprintf("a number of %s >= %s, or a Go duration such as %s", what, lo, eg)
		}
		return fmt.Sprintf("a number of %s between %s and %s, or a Go duration such as %s", what, lo, s.format(s.max), eg)
	case kindBool:
		return "a boolean: true/false, 1/0, yes/no or on/off"
	case kindLevel:
		return "a log level: DEBUG, INFO, WARNING (or WARN), ERROR or CRITICAL"
	case kindEnum:
		if s.field == "Profile" {
			return "one of " + strings.Join(profileNames, ", ") + " (or empty for none)"
		}
		return "one of " + strings.Join(s.enum, ", ")
	case kindHost:
		return "a host name or IP address, without scheme, port or path"
	}
	return "a value"
}

// parseBoolText accepts true/false 1/0 yes/no on/off, case-insensitive.
func parseBoolText(raw string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "true", "1", "yes", "on":
		return true, true
	case "false", "0", "no", "off":
		return false, true
	}
	return false, false
}

// parseDurationText reads a plain number in unit (fractions allowed) or a
// Go duration string.
func parseDurationText(raw string, unit time.Duration) (v any, over int, ok bool) {
	t := strings.TrimSpace(raw)
	if t == "" {
		return nil, 0, false
	}
	f, err := strconv.ParseFloat(t, 64)
	if err == nil || isRangeErr(err) {
		if math.IsNaN(f) || (err == nil && math.IsInf(f, 0)) {
			return nil, 0, false
		}
		ns := f * float64(unit)
		switch {
		case ns >= math.MaxInt64:
			return int64(math.MaxInt64), 1, true
		case ns <= math.MinInt64:
			return int64(math.MinInt64), -1, true
		}
		return int64(math.Round(ns)), 0, true
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return nil, 0, false
	}
	return int64(d), 0, true
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// formatDurationText writes d as a plain number in unit when that is exact
// (decimals of seconds down to the millisecond), else as a Go duration.
func formatDurationText(d time.Duration, unit time.Duration) string {
	if d%unit == 0 {
		return strconv.FormatInt(int64(d/unit), 10)
	}
	if unit == time.Second && d%time.Millisecond == 0 {
		return strconv.FormatFloat(float64(d/time.Millisecond)/1000, 'f', -1, 64)
	}
	return d.String()
}

var levelNames = []struct {
	name  string
	level slog.Level
}{
	{"CRITICAL", LevelCritical},
	{"ERROR", slog.LevelError},
	{"WARNING", slog.LevelWarn},
	{"INFO", slog.LevelInfo},
	{"DEBUG", slog.LevelDebug},
}

// parseLevelText reads DEBUG INFO WARNING WARN ERROR CRITICAL (any case),
// optionally followed by +N or -N as slog writes levels between names.
func parseLevelText(raw string) (int64, bool) {
	t := strings.ToUpper(strings.TrimSpace(raw))
	name, off := t, int64(0)
	if i := strings.IndexAny(t, "+-"); i > 0 {
		n, err := strconv.ParseInt(t[i:], 10, 32)
		if err != nil {
			return 0, false
		}
		name, off = t[:i], n
	}
	if name == "WARN" {
		name = "WARNING"
	}
	for _, ln := range levelNames {
		if ln.name == name {
			return int64(ln.level) + off, true
		}
	}
	return 0, false
}

// levelText writes a level in the form parseLevelText reads.
func levelText(l slog.Level) string {
	for _, ln := range levelNames {
		if l >= ln.level {
			if l == ln.level {
				return ln.name
			}
			return ln.name + "+" + strconv.Itoa(int(l-ln.level))
		}
	}
	return "DEBUG" + strconv.Itoa(int(l-slog.LevelDebug))
}

// levelName is the name a log record shows: slog's, with CRITICAL for
// LevelCritical and above.
func levelName(l slog.Level) string {
	if l >= LevelCritical {
		if l == LevelCritical {
			return "CRITICAL"
		}
		return "CRITICAL+" + strconv.Itoa(int(l-LevelCritical))
	}
	return l.String()
}

// checkHost accepts a DNS name (letters, digits, - . _ ~, and non-ASCII
// letters) or an IP address; IPv6 may carry a %zone.
func checkHost(h string) error {
	if h == "" {
		return fmt.Errorf("empty host")
	}
	if !utf8.ValidString(h) {
		return fmt.Errorf("host is not UTF-8")
	}
	if strings.Contains(h, ":") {
		addr, zone, hasZone := strings.Cut(h, "%")
		ip := net.ParseIP(addr)
		if ip == nil || ip.To4() != nil && !strings.Contains(addr, ":") {
			return fmt.Errorf("host has a ':' but is not an IPv6 address (give the port separately)")
		}
		if hasZone && (zone == "" || strings.ContainsAny(zone, "]%")) {
			return fmt.Errorf("bad IPv6 zone")
		}
		return nil
	}
	for _, r := range h {
		switch {
		case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'):
		case r == '-' || r == '.' || r == '_' || r == '~':
		case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)):
		default:
			return fmt.Errorf("host has the character %q", r)
		}
	}
	return nil
}
