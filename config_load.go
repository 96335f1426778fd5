package e6data

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// LoadConfig is the one merge function. Starting from the defaults it
// applies, in order of increasing precedence:
//
//  1. the profile (named by E6DATA_PROFILE or the DSN key profile; a later
//     WithProfile re-bases the defaults the same way),
//  2. the environment (E6DATA_* entries of environ; nil ignores the environment),
//  3. the DSN (may be ""),
//  4. the options, in order,
//
// then checks the whole (Validate). Text values (environment, DSN) that
// cannot be read are errors naming the variable or key, the value and what
// is expected; with strict validation off (E6DATA_STRATEGY_VALIDATION=false
// or strategy-validation=false in the DSN) they are instead ERROR
// diagnostics and the value of the lower layer is kept. Text values out of
// range are clamped to the nearest bound with a WARN diagnostic. Unknown
// E6DATA_* variables and DSN keys are WARN diagnostics naming the nearest
// known name. Options are code: an option given a bad value returns an
// error, whatever the validation mode.
//
// All problems found are returned together (errors.Join); each is a
// *ConfigError and matches ErrConfig. On error the *Config is nil.
func LoadConfig(dsn string, environ []string, opts ...Option) (*Config, error) {
	c := DefaultConfig()
	c.sources = map[string]Source{}
	c.keys = map[string]string{}
	l := &cfgLoader{c: c, strict: true}

	var parts *dsnParts
	if dsn != "" {
		p, err := splitDSN(dsn)
		if err != nil {
			return nil, err
		}
		parts = p
	}
	env := collectEnv(environ)

	// The validation mode and the profile must be known before anything
	// else is read: the first decides how bad values are treated, the
	// second what the defaults are. A value that cannot be read here is
	// reported when its layer is applied below.
	if v, ok := env.get("E6DATA_STRATEGY_VALIDATION"); ok {
		if b, ok := parseBoolText(v); ok {
			l.strict = b
		}
	}
	profile := ""
	if v, ok := env.get("E6DATA_PROFILE"); ok {
		if p, _, ok := settingByField["Profile"].parse(v); ok {
			profile = p.(string)
		}
	}
	if parts != nil {
		if q, ok := parts.param("strategy-validation"); ok && !q.badEscape {
			if b, ok := parseBoolText(q.value); ok {
				l.strict = b
			}
		}
		if q, ok := parts.param("profile"); ok && !q.badEscape {
			if p, _, ok := settingByField["Profile"].parse(q.value); ok {
				profile = p.(string)
			}
		}
	}
	if profile != "" {
		applyProfile(c, profile)
	}

	l.applyEnv(env, dsnSets(parts))
	l.miscasedEnv(environ)
	if parts != nil {
		l.applyDSN(parts)
	}
	l.applyOptions(opts)
	l.finish()
	l.errs = append(l.errs, c.validate()...)
	switch len(l.errs) {
	case 0:
		return c, nil
	case 1:
		return nil, l.errs[0]
	}
	return nil, errors.Join(l.errs...)
}

// Apply applies options to c the way LoadConfig does (recording them as
// set in code, re-basing the defaults on WithProfile, applying the rules
// between settings) and then validates c. On error, c may be partly
// changed: apply to a Clone when that matters.
func (c *Config) Apply(opts ...Option) error {
	if c.sources == nil {
		c.sources, c.keys = map[string]Source{}, map[string]string{}
		def := DefaultConfig()
		for _, s := range settingSpecs {
			if !s.same(c, def) {
				c.sources[s.field], c.keys[s.field] = SourceCode, s.field
			}
		}
	}
	l := &cfgLoader{c: c, strict: true}
	l.applyOptions(opts)
	l.finish()
	l.errs = append(l.errs, c.validate()...)
	return errors.Join(l.errs...)
}

func (l *cfgLoader) applyOptions(opts []Option) {
	c := l.c
	for i, opt := range opts {
		if opt == nil {
			continue
		}
		before := c.Clone()
		if err := opt(c); err != nil {
			if !errors.Is(err, ErrConfig) {
				err = &ConfigError{Key: "option #" + strconv.Itoa(i+1), Source: string(SourceCode), Err: err}
			}
			l.errs = append(l.errs, err)
		}
		l.markCode(before)
		if c.Profile != before.Profile {
			if _, ok := profileValues[c.Profile]; ok || c.Profile == "" {
				applyProfile(c, c.Profile)
			}
		}
	}
}

// cfgLoader carries the state of one LoadConfig.
type cfgLoader struct {
	c      *Config
	strict bool
	errs   []error
}

func (l *cfgLoader) diag(level slog.Level, key, value string, src Source, format string, args ...any) {
	d := Diagnostic{Level: level, Key: key, Value: value, Source: src, Message: fmt.Sprintf(format, args...)}
	for _, old := range l.c.diags {
		if old == d {
			return
		}
	}
	l.c.diags = append(l.c.diags, d)
}

// applyText parses raw for s and stores it, following the rules for text
// values: unparsable -> error (strict) or ERROR diagnostic and the lower
// layer's value (lenient); out of range -> clamp with a WARN.
func (l *cfgLoader) applyText(s *settingSpec, key, raw string, src Source) {
	shown := s.redactRaw(raw)
	v, over, ok := s.parse(raw)
	if !ok {
		if l.strict {
			l.errs = append(l.errs, &ConfigError{Key: key, Value: shown, Expected: s.expect(), Source: string(src)})
			return
		}
		cur := s.display(l.c)
		l.diag(slog.LevelError, key, shown, src,
			"%s=%q is not valid (expected %s); strict validation is off, so %s keeps %q (from %s)",
			key, shown, s.expect(), s.field, cur, l.c.sourceOf(s.field))
		return
	}
	out, clamped, below, bound := s.clamp(v, over)
	if clamped {
		side, word := "maximum", "above"
		if below {
			side, word = "minimum", "below"
		}
		l.diag(slog.LevelWarn, key, shown, src, "%s=%q is %s the %s %s; using %s",
			key, shown, word, side, s.boundText(bound), s.boundText(bound))
	}
	s.set(l.c, out)
	l.c.sources[s.field] = src
	l.c.keys[s.field] = key
}

// applyEnv applies the E6DATA_* variables, in the order of the settings
// table, and reports the unknown ones.
func (l *cfgLoader) applyEnv(env envVars, dsnSet map[*settingSpec]bool) {
	for _, s := range settingSpecs {
		if s.env == "" {
			continue
		}
		name, raw, found := s.env, "", false
		if v, ok := env.get(s.env); ok {
			raw, found = v, true
		}
		for _, alt := range s.envAlt {
			v, ok := env.get(alt)
			if !ok {
				continue
			}
			if !found {
				name, raw, found = alt, v, true
				continue
			}
			if v != raw {
				l.diag(slog.LevelWarn, alt, s.redactRaw(v), SourceEnv,
					"%s and its synonym %s are both set, to different values; %s wins", name, alt, name)
			}
		}
		if !found {
			continue
		}
		if _, _, ok := s.parse(raw); !ok && dsnSet[s] {
			// The DSN sets this value: it wins, and the variable that
			// cannot be read is only a warning.
			l.diag(slog.LevelWarn, name, s.redactRaw(raw), SourceEnv,
				"%s=%q is not valid (expected %s); the DSN sets %s, so the variable is ignored",
				name, s.redactRaw(raw), s.expect(), s.field)
			continue
		}
		l.applyText(s, name, raw, SourceEnv)
	}
	var suffixes []string
	for _, n := range knownEnvNames() {
		suffixes = append(suffixes, strings.TrimPrefix(n, envPrefix))
	}
	for _, name := range env.sortedNames() {
		if settingByEnv[name] != nil {
			continue
		}
		msg := fmt.Sprintf("unknown variable %s is ignored", name)
		if near := envAliases[strings.TrimPrefix(name, envPrefix)]; near != "" {
			msg += fmt.Sprintf("; did you mean %s%s?", envPrefix, near)
		} else if near := nearestName(strings.TrimPrefix(name, envPrefix), suffixes); near != "" {
			msg += fmt.Sprintf("; did you mean %s%s?", envPrefix, near)
		}
		// The value is not shown: an unknown variable may hold a secret.
		l.diag(slog.LevelWarn, name, "", SourceEnv, "%s", msg)
	}
}

// envAliases are names users reach for, from other tools, that no spelling
// distance leads to the variable meant.
var envAliases = map[string]string{
	"TOKEN": "PASSWORD", "ACCESS_TOKEN": "PASSWORD", "API_TOKEN": "PASSWORD",
	"HOSTNAME": "HOST", "SERVER": "HOST", "HOST_NAME": "HOST",
	"USER": "USERNAME", "USER_NAME": "USERNAME", "EMAIL": "USERNAME",
	"CLUSTER": "CLUSTER_UUID", "CLUSTER_ID": "CLUSTER_UUID",
}

// miscasedEnv warns about variables that are E6DATA_* names in the wrong
// letter case: they are not read (names are upper case).
func (l *cfgLoader) miscasedEnv(environ []string) {
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if len(name) <= len(envPrefix) || strings.HasPrefix(name, envPrefix) || !strings.EqualFold(name[:len(envPrefix)], envPrefix) {
			continue
		}
		msg := fmt.Sprintf("variable %s is ignored: E6DATA_* names are upper case", name)
		if up := strings.ToUpper(name); settingByEnv[up] != nil {
			msg += fmt.Sprintf("; did you mean %s?", up)
		}
		l.diag(slog.LevelWarn, name, "", SourceEnv, "%s", msg)
	}
}

// dsnSets lists the settings a DSN gives a value (one it can read or not).
func dsnSets(p *dsnParts) map[*settingSpec]bool {
	set := map[*settingSpec]bool{}
	if p == nil {
		return set
	}
	for _, part := range []struct{ key, value string }{
		{"user", p.user}, {"token", p.token}, {"host", p.host}, {"port", p.port}, {"database", p.database},
	} {
		if part.value != "" {
			set[settingByName[part.key]] = true
		}
	}
	for _, q := range p.params {
		if s := settingByDSN[q.key]; s != nil && !q.badEscape {
			if _, _, ok := s.parse(q.value); ok {
				set[s] = true
			}
		}
	}
	return set
}

// applyDSN applies the parts of a split DSN.
func (l *cfgLoader) applyDSN(p *dsnParts) {
	for _, part := range []struct{ key, value string }{
		{"user", p.user}, {"token", p.token}, {"host", p.host}, {"port", p.port}, {"database", p.database},
	} {
		if part.value == "" {
			continue
		}
		l.applyText(settingByName[part.key], part.key, part.value, SourceDSN)
	}
	seen := map[*settingSpec]string{}
	for _, q := range p.params {
		s := settingByDSN[q.key]
		if s == nil {
			l.unknownDSNKey(q.key)
			continue
		}
		if prev, dup := seen[s]; dup {
			l.diag(slog.LevelWarn, q.key, s.redactRaw(q.value), SourceDSN,
				"DSN key %s is given more than once (also as %s); the last value is used", q.key, prev)
		}
		seen[s] = q.key
		if q.badEscape {
			shown := s.redactRaw(q.value)
			expect := "a percent-encoded value ('%' written as %25)"
			if l.strict {
				l.errs = append(l.errs, &ConfigError{Key: q.key, Value: shown, Expected: expect, Source: string(SourceDSN)})
			} else {
				l.diag(slog.LevelError, q.key, shown, SourceDSN,
					"%s=%q is not valid (expected %s); strict validation is off, so it is ignored", q.key, shown, expect)
			}
			continue
		}
		l.applyText(s, q.key, q.value, SourceDSN)
	}
}

func (l *cfgLoader) unknownDSNKey(key string) {
	switch strings.ToLower(key) {
	case "user", "username", "token", "password", "host", "port", "database":
		l.diag(slog.LevelWarn, key, "", SourceDSN,
			"DSN key %s is ignored: it belongs in the URL, e6data://user:token@host:port/database", key)
		return
	}
	msg := fmt.Sprintf("unknown DSN key %s is ignored", key)
	if near := nearestName(key, knownDSNKeys()); near != "" {
		msg += fmt.Sprintf("; did you mean %s?", near)
	}
	l.diag(slog.LevelWarn, key, "", SourceDSN, "%s", msg)
}

// markCode records as set in code every field an option changed.
func (l *cfgLoader) markCode(before *Config) {
	for _, s := range settingSpecs {
		if !s.same(l.c, before) {
			l.c.sources[s.field] = SourceCode
			l.c.keys[s.field] = s.field
		}
	}
}

// finish applies the rules that involve several settings.
func (l *cfgLoader) finish() {
	c := l.c
	if c.MinConnections > c.MaxConnections {
		if src := c.sourceOf("MinConnections"); src == SourceEnv || src == SourceDSN {
			key := c.keyFor("MinConnections")
			l.diag(slog.LevelWarn, key, strconv.Itoa(c.MinConnections), src,
				"%s=%q is above the maximum %d (%s); using %d",
				key, strconv.Itoa(c.MinConnections), c.MaxConnections, c.keyFor("MaxConnections"), c.MaxConnections)
			c.MinConnections = c.MaxConnections
		}
	}
	if c.Secure {
		if src := c.sourceOf("Port"); src == SourceDefault || src == SourceProfile {
			c.Port = 443 // TLS without a port given: the HTTPS port, not 80
		}
	}
	var tlsSet []string
	for _, f := range []struct {
		field string
		set   bool
	}{
		{"CAFile", c.CAFile != ""}, {"CAPEM", len(c.CAPEM) > 0}, {"ClientCertFile", c.ClientCertFile != ""},
		{"ClientKeyFile", c.ClientKeyFile != ""}, {"ServerName", c.ServerName != ""},
		{"InsecureSkipVerify", c.InsecureSkipVerify},
	} {
		if f.set {
			tlsSet = append(tlsSet, c.keyFor(f.field))
		}
	}
	switch {
	case !c.Secure && (len(tlsSet) > 0 || c.TLSConfig != nil):
		if c.TLSConfig != nil {
			tlsSet = append(tlsSet, "TLSConfig")
		}
		l.diag(slog.LevelWarn, tlsSet[0], "", c.sourceOf("Secure"),
			"TLS settings (%s) are given but secure is false: the connection is NOT encrypted and they are ignored",
			strings.Join(tlsSet, ", "))
	case c.TLSConfig != nil && len(tlsSet) > 0:
		l.diag(slog.LevelWarn, "TLSConfig", "", SourceCode,
			"TLSConfig is set and is used as is: %s are ignored", strings.Join(tlsSet, ", "))
	case c.Secure && c.InsecureSkipVerify:
		l.diag(slog.LevelWarn, c.keyFor("InsecureSkipVerify"), "true", c.sourceOf("InsecureSkipVerify"),
			"INSECURE: %s is on: %s", c.keyFor("InsecureSkipVerify"), insecureTLSRisk)
	}
	if c.TokenProvider != nil && c.Token != "" {
		l.diag(slog.LevelDebug, "TokenProvider", "", SourceCode,
			"a token provider is set: it is used for every authentication and the static token is ignored")
	}
}
