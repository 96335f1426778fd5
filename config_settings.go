package e6data

import (
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"
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
	{field: "Host", env: "E6DATA_HOST", dsn: "host", kind: kindHost, option: "WithSetting",
		desc: "engine host", ptr: func(c *Config) any { return &c.Host }},
	{field: "Port", env: "E6DATA_PORT", dsn: "port", kind: kindInt, min: 1, max: 65535, option: "WithSetting",
		desc: "engine port", ptr: func(c *Config) any { return &c.Port }},
	{field: "User", env: "E6DATA_USERNAME", dsn: "user", kind: kindString, option: "WithCredentials",
		desc: "user (e-mail); required", ptr: func(c *Config) any { return &c.User }},
	{field: "Token", env: "E6DATA_PASSWORD", dsn: "token", kind: kindSecret, option: "WithCredentials",
		desc: "access token; required unless a token provider is set; never printed", ptr: func(c *Config) any { return &c.Token }},
	{field: "TokenProvider", kind: kindCode, option: "WithTokenProvider",
		desc: "function returning the current token, called for every authentication",
		show: func(c *Config) string { return setOrEmpty(c.TokenProvider != nil) }},
	{field: "Catalog", env: "E6DATA_CATALOG", dsn: "catalog", kind: kindString, option: "WithSetting",
		desc: "catalog (selects the V2 calls)", ptr: func(c *Config) any { return &c.Catalog }},
	{field: "Database", env: "E6DATA_DATABASE", dsn: "database", kind: kindString, option: "WithSetting",
		desc: "database (schema)", ptr: func(c *Config) any { return &c.Database }},
	{field: "ClusterName", env: "E6DATA_CLUSTER_UUID", envAlt: []string{"E6DATA_CLUSTER_NAME"}, dsn: "cluster-name", dsnAlt: []string{"cluster-uuid"},
		kind: kindString, option: "WithSetting",
		desc: "cluster name/uuid, sent lower-cased as cluster-name", ptr: func(c *Config) any { return &c.ClusterName }},
	{field: "Profile", env: "E6DATA_PROFILE", dsn: "profile", kind: kindEnum, enum: []string{"", profileDevelopment, profileProduction, profileHighPerformance},
		option: "WithProfile", desc: "named profile whose values become the defaults", ptr: func(c *Config) any { return &c.Profile }},
	{field: "StrictValidation", env: "E6DATA_STRATEGY_VALIDATION", dsn: "strategy-validation", kind: kindBool, option: "WithSetting",
		desc: "strict validation: unparsable values are errors (false: ERROR log + fallback)", ptr: func(c *Config) any { return &c.StrictValidation }},
	{field: "Secure", env: "E6DATA_SECURE", dsn: "secure", kind: kindBool, option: "WithSetting",
		desc: "TLS", ptr: func(c *Config) any { return &c.Secure }},
	{field: "CAFile", env: "E6DATA_CA_FILE", dsn: "ca-file", kind: kindString, option: "WithSetting",
		desc: "PEM CA certificates replacing the system roots", ptr: func(c *Config) any { return &c.CAFile }},
	{field: "CAPEM", kind: kindCode, option: "WithCAPEM", desc: "PEM CA certificates given in code",
		show: func(c *Config) string { return setOrEmpty(len(c.CAPEM) > 0) }},
	{field: "ClientCertFile", env: "E6DATA_CLIENT_CERT", dsn: "client-cert", kind: kindString, option: "WithSetting",
		desc: "PEM client certificate (mutual TLS)", ptr: func(c *Config) any { return &c.ClientCertFile }},
	{field: "ClientKeyFile", env: "E6DATA_CLIENT_KEY", dsn: "client-key", kind: kindString, option: "WithSetting",
		desc: "PEM client key (mutual TLS)", ptr: func(c *Config) any { return &c.ClientKeyFile }},
	{field: "ServerName", env: "E6DATA_SERVER_NAME", dsn: "server-name", kind: kindString, option: "WithSetting",
		desc: "name the server certificate is checked against (default: the host)", ptr: func(c *Config) any { return &c.ServerName }},
	{field: "InsecureSkipVerify", env: "E6DATA_INSECURE_SKIP_VERIFY", dsn: "insecure-skip-verify", kind: kindBool, option: "WithSetting",
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
		option: "WithSetting", desc: "gRPC (HTTP/2) connections to the cluster, calls spread round-robin (0 = one per 64 max-connections, at most 4)",
		ptr: func(c *Config) any { return &c.GRPCConnections }},
	{field: "ServerSideParams", env: "E6DATA_SERVER_SIDE_PARAMS", dsn: "server-side-params", kind: kindBool, option: "WithSetting",
		desc: "send ? parameters to the server instead of client-side literals", ptr: func(c *Config) any { return &c.ServerSideParams }},
	{field: "PrefetchDepth", env: "E6DATA_PREFETCH", dsn: "prefetch", kind: kindInt, min: 0, max: 64, option: "WithSetting",
		desc: "batches requested ahead while scanning (0 = off)", ptr: func(c *Config) any { return &c.PrefetchDepth }},
	{field: "QueryTimeout", env: "E6DATA_QUERY_TIMEOUT", dsn: "query-timeout", kind: kindSeconds, min: 0, max: maxDuration, option: "WithSetting",
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
