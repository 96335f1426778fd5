package e6data

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
)

// Log components. A record's component decides which level applies to it:
// LogLevel for the connector (and records with no component),
// StrategyLogLevel for the strategy, GRPCLogLevel for gRPC's own logs.
// Set it with logger.With("component", ComponentStrategy).
const (
	ComponentConnector = "connector"
	ComponentStrategy  = "strategy"
	ComponentGRPC      = "grpc"
)

// componentKey is the attribute that names a record's component.
const componentKey = "component"

// NewLogger returns the connector's logger. Each call makes a new one;
// nothing global is touched.
//
//   - Records go to c.Logger's handler when it is set, else to a text or
//     JSON handler (LogFormat) writing to stderr or stdout (LogOutput).
//     Without a Logger and with no logging setting given (no E6DATA_LOG_*
//     variable, DSN key, option or profile), only WARNING and above are
//     written; any logging setting restores the levels as configured.
//   - The level depends on the record's "component" attribute, set with
//     logger.With("component", ...): connector (the default) uses LogLevel,
//     strategy StrategyLogLevel, grpc GRPCLogLevel. Every record carries its
//     component attribute, exactly once.
//   - The token and every attribute whose key contains password, token,
//     secret or authorization are replaced by [REDACTED], in messages,
//     attributes and groups alike.
//   - LevelCritical is written CRITICAL.
func (c *Config) NewLogger() *slog.Logger {
	l, _ := c.newLogger(os.Stdout, os.Stderr)
	return l
}

// newLogger builds the logger with explicit writers and returns its
// redactor, so the connector can register rotated tokens (add).
func (c *Config) newLogger(stdout, stderr io.Writer) (*slog.Logger, *logRedactor) {
	levels := componentLevels{connector: c.LogLevel, strategy: c.StrategyLogLevel, grpc: c.GRPCLogLevel}
	if c.Logger == nil && c.loggingUnset() {
		// Nobody configured logging: like a library with no handler
		// installed, only warnings and worse reach stderr.
		levels = componentLevels{connector: max(levels.connector, slog.LevelWarn),
			strategy: max(levels.strategy, slog.LevelWarn), grpc: max(levels.grpc, slog.LevelWarn)}
	}
	red := &logRedactor{}
	red.add(c.Token)
	var inner slog.Handler
	if c.Logger != nil {
		inner = c.Logger.Handler()
	} else {
		w := stderr
		if strings.EqualFold(c.LogOutput, "stdout") {
			w = stdout
		}
		opts := &slog.HandlerOptions{Level: levels.lowest(), ReplaceAttr: replaceLevelName}
		if strings.EqualFold(c.LogFormat, "json") {
			inner = slog.NewJSONHandler(w, opts)
		} else {
			inner = slog.NewTextHandler(w, opts)
		}
	}
	return slog.New(&componentHandler{inner: inner, levels: levels, component: ComponentConnector, red: red}), red
}

// loggingSettings are the settings that configure the default logger.
var loggingSettings = []string{"LogLevel", "StrategyLogLevel", "GRPCLogLevel", "LogFormat", "LogOutput"}

// loggingUnset reports whether no logging setting was given anywhere
// (environment, DSN, code or profile).
func (c *Config) loggingUnset() bool {
	for _, f := range loggingSettings {
		if c.sourceOf(f) != SourceDefault {
			return false
		}
	}
	// A Config written as a literal has no sources: a value other than
	// the default was set all the same.
	return c.LogLevel == slog.LevelInfo && c.StrategyLogLevel == slog.LevelInfo && c.GRPCLogLevel == slog.LevelWarn &&
		(c.LogFormat == "" || strings.EqualFold(c.LogFormat, "text")) && (c.LogOutput == "" || strings.EqualFold(c.LogOutput, "stderr"))
}

// replaceLevelName writes LevelCritical as CRITICAL.
func replaceLevelName(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.LevelKey {
		if l, ok := a.Value.Any().(slog.Level); ok && l >= LevelCritical {
			return slog.String(slog.LevelKey, levelName(l))
		}
	}
	return a
}

type componentLevels struct{ connector, strategy, grpc slog.Level }

func (cl componentLevels) of(component string) slog.Level {
	switch component {
	case ComponentStrategy:
		return cl.strategy
	case ComponentGRPC:
		return cl.grpc
	}
	return cl.connector
}

func (cl componentLevels) lowest() slog.Level {
	return min(cl.connector, cl.strategy, cl.grpc)
}

// componentHandler filters records by their component's level, adds the
// component attribute, and redacts secrets before the inner handler sees
// anything.
type componentHandler struct {
	inner     slog.Handler
	levels    componentLevels
	component string
	emitted   bool // the component attribute was already given to inner (before a group)
	red       *logRedactor
}

func (h *componentHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.levels.of(h.component) && h.inner.Enabled(ctx, l)
}

func (h *componentHandler) Handle(ctx context.Context, r slog.Record) error {
	comp, inRecord := h.component, false
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == componentKey {
			comp, inRecord = a.Value.String(), true
			return false
		}
		return true
	})
	if r.Level < h.levels.of(comp) {
		return nil
	}
	nr := slog.NewRecord(r.Time, r.Level, h.red.text(r.Message), r.PC)
	if !inRecord && !h.emitted {
		nr.AddAttrs(slog.String(componentKey, comp))
	}
	r.Attrs(func(a slog.Attr) bool {
		nr.AddAttrs(h.red.attr(a))
		return true
	})
	return h.inner.Handle(ctx, nr)
}

func (h *componentHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := *h
	pass := make([]slog.Attr, 0, len(attrs))
	for _, a := range attrs {
		if a.Key == componentKey {
			n.component = a.Value.String()
			if !h.emitted {
				continue // added to each record by Handle
			}
		}
		pass = append(pass, h.red.attr(a))
	}
	if len(pass) > 0 {
		n.inner = h.inner.WithAttrs(pass)
	}
	return &n
}

func (h *componentHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	n := *h
	inner := h.inner
	if !h.emitted {
		// The component must stay a top-level attribute.
		inner = inner.WithAttrs([]slog.Attr{slog.String(componentKey, h.component)})
		n.emitted = true
	}
	n.inner = inner.WithGroup(name)
	return &n
}

// logRedactor replaces secrets in log records.
type logRedactor struct {
	mu      sync.RWMutex
	secrets []string
}

// minSecretLen is the shortest secret replaced inside text: shorter ones
// would mangle unrelated words. Attributes with a secret-like key are
// always redacted.
const minSecretLen = 4

// add registers a secret (a rotated token, for instance).
func (r *logRedactor) add(secret string) {
	if len(secret) < minSecretLen {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.secrets {
		if s == secret {
			return
		}
	}
	r.secrets = append(r.secrets, secret)
	if len(r.secrets) > maxSecrets {
		// A provider minting a token per authentication must not grow
		// this forever: forget the oldest rotated one (the first entry,
		// the configured token, stays).
		r.secrets = append(r.secrets[:1], r.secrets[2:]...)
	}
}

// maxSecrets bounds the secrets a redactor remembers.
const maxSecrets = 64

func (r *logRedactor) text(s string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, sec := range r.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, redactedValue)
		}
	}
	return s
}

func (r *logRedactor) hasSecrets() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.secrets) > 0
}

// isSecretKey reports whether an attribute key names a secret.
func isSecretKey(key string) bool {
	k := strings.ToLower(key)
	return strings.Contains(k, "password") || strings.Contains(k, "token") ||
		strings.Contains(k, "secret") || strings.Contains(k, "authorization")
}

func (r *logRedactor) attr(a slog.Attr) slog.Attr {
	if isSecretKey(a.Key) {
		return slog.String(a.Key, redactedValue)
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, r.text(v.String()))
	case slog.KindGroup:
		g := v.Group()
		out := make([]slog.Attr, len(g))
		for i, ga := range g {
			out[i] = r.attr(ga)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindAny:
		if r.hasSecrets() {
			s := fmt.Sprint(v.Any())
			if red := r.text(s); red != s {
				return slog.String(a.Key, red)
			}
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
