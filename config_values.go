package e6data

// Parsing, checking and formatting one setting's value: the text forms
// (durations, levels, booleans, hosts), their ranges, and how a value is
// shown (redacted for secrets) in errors and diagnostics.

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
