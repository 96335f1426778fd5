package e6data

import (
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"time"
)

// grpcOptionKeys maps the Python connector's grpc_options keys (with or
// without the "grpc." prefix of gRPC channel arguments) to fields.
var grpcOptionKeys = map[string]struct {
	field string
	unit  time.Duration // for durations: the unit of a plain number
}{
	"keepalive_timeout_ms":             {"KeepaliveTimeout", time.Millisecond},
	"keepalive_time_ms":                {"KeepaliveTime", time.Millisecond},
	"keepalive_permit_without_calls":   {"KeepalivePermitWithoutCalls", 0},
	"max_receive_message_length":       {"MaxRecvMsgSize", 0},
	"max_send_message_length":          {"MaxSendMsgSize", 0},
	"grpc_prepare_timeout":             {"PrepareTimeout", time.Second},
	"grpc_auto_resume_timeout_seconds": {"AutoResumeTimeout", time.Second},
}

// grpcNoOpKeys are accepted for compatibility but have no equivalent in
// grpc-go: its client paces pings by the keepalive settings alone.
var grpcNoOpKeys = map[string]bool{
	"http2.max_pings_without_data":            true,
	"http2.min_time_between_pings_ms":         true,
	"http2.min_ping_interval_without_data_ms": true,
}

// WithGRPCOptions accepts the Python connector's grpc_options map:
// keepalive_timeout_ms, keepalive_time_ms, keepalive_permit_without_calls,
// max_receive_message_length, max_send_message_length, grpc_prepare_timeout
// (seconds) and grpc_auto_resume_timeout_seconds map to their Config
// fields; values may be numbers, numeric strings, bools (for
// keepalive_permit_without_calls, also 0/1) or time.Duration. The http2.*
// ping keys are accepted and have no effect in grpc-go (a DEBUG
// diagnostic). Unknown keys are WARN diagnostics with the nearest known
// key. A value of the wrong type or out of range is an error.
func WithGRPCOptions(options map[string]any) Option {
	return func(c *Config) error {
		keys := make([]string, 0, len(options))
		for k := range options {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, key := range keys {
			val := options[key]
			k := strings.TrimPrefix(key, "grpc.")
			if grpcNoOpKeys[k] {
				c.diags = append(c.diags, Diagnostic{Level: slog.LevelDebug, Key: key, Value: fmt.Sprint(val), Source: SourceCode,
					Message: fmt.Sprintf("grpc_options key %s is accepted but has no effect in grpc-go (pings are paced by the keepalive settings)", key)})
				continue
			}
			m, ok := grpcOptionKeys[k]
			if !ok {
				var known []string
				for n := range grpcOptionKeys {
					known = append(known, n)
				}
				for n := range grpcNoOpKeys {
					known = append(known, n)
				}
				sort.Strings(known)
				msg := fmt.Sprintf("unknown grpc_options key %s is ignored", key)
				if near := nearestName(k, known); near != "" {
					msg += "; did you mean " + near + "?"
				}
				c.diags = append(c.diags, Diagnostic{Level: slog.LevelWarn, Key: key, Source: SourceCode, Message: msg})
				continue
			}
			s := settingByField[m.field]
			v, err := grpcOptionValue(s, m.unit, val)
			if err != "" {
				return optErr("WithGRPCOptions["+key+"]", fmt.Sprint(val), err)
			}
			if err := setChecked(c, "WithGRPCOptions["+key+"]", m.field, v); err != nil {
				return err
			}
		}
		return nil
	}
}

// grpcOptionValue converts a grpc_options value to the normalized value of
// s, or returns what was expected.
func grpcOptionValue(s *settingSpec, unit time.Duration, val any) (any, string) {
	if s.kind == kindBool {
		switch v := val.(type) {
		case bool:
			return v, ""
		case string:
			if b, ok := parseBoolText(v); ok {
				return b, ""
			}
		default:
			if f, ok := numberOf(val); ok && (f == 0 || f == 1) {
				return f == 1, ""
			}
		}
		return nil, "a bool, 0 or 1"
	}
	if d, ok := val.(time.Duration); ok && unit != 0 {
		return int64(d), ""
	}
	if str, ok := val.(string); ok {
		v, over, ok := s.parse(str)
		if !ok || over != 0 {
			return nil, s.expect()
		}
		return v, ""
	}
	f, ok := numberOf(val)
	if !ok {
		return nil, s.expect()
	}
	if unit != 0 {
		f *= float64(unit)
	}
	if f != math.Trunc(f) && unit == 0 || f >= math.MaxInt64 || f <= math.MinInt64 {
		return nil, s.expect()
	}
	return int64(math.Round(f)), ""
}

func numberOf(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int8:
		return float64(n), true
	case int16:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint8:
		return float64(n), true
	case uint16:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float32:
		return float64(n), true
	case float64:
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return 0, false
		}
		return n, true
	}
	return 0, false
}
