package e2e

import (
	"context"
	"log/slog"
	"sync"
)

// (A copy of the root package's captureHandler in logging_test.go: test
// files of two packages cannot share code but through a package of the
// driver's module, and this handler is only a few lines.)

// captureHandler records every record it is given, with its attributes
// flattened ("group.key"), including those added by WithAttrs.
type captureHandler struct {
	mu      *sync.Mutex
	records *[]captured
	attrs   []slog.Attr
	level   slog.Level
}

type captured struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func newCapture() *captureHandler {
	return &captureHandler{mu: &sync.Mutex{}, records: &[]captured{}, level: slog.LevelDebug - 10}
}

func (h *captureHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	c := captured{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	var add func(prefix string, a slog.Attr)
	add = func(prefix string, a slog.Attr) {
		v := a.Value.Resolve()
		if v.Kind() == slog.KindGroup {
			for _, g := range v.Group() {
				add(prefix+a.Key+".", g)
			}
			return
		}
		k := prefix + a.Key
		if old, dup := c.attrs[k]; dup {
			c.attrs[k] = old + "|" + v.String()
		} else {
			c.attrs[k] = v.String()
		}
	}
	for _, a := range h.attrs {
		add("", a)
	}
	r.Attrs(func(a slog.Attr) bool { add("", a); return true })
	h.mu.Lock()
	*h.records = append(*h.records, c)
	h.mu.Unlock()
	return nil
}
func (h *captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &n
}
func (h *captureHandler) WithGroup(name string) slog.Handler {
	// Good enough for these tests: attributes after a group are recorded
	// under "name." by wrapping them.
	return &groupCapture{h: h, name: name}
}

type groupCapture struct {
	h    *captureHandler
	name string
}

func (g *groupCapture) Enabled(ctx context.Context, l slog.Level) bool { return g.h.Enabled(ctx, l) }
func (g *groupCapture) Handle(ctx context.Context, r slog.Record) error {
	nr := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	var as []any
	r.Attrs(func(a slog.Attr) bool { as = append(as, a); return true })
	nr.AddAttrs(slog.Group(g.name, as...))
	return g.h.Handle(ctx, nr)
}
func (g *groupCapture) WithAttrs(as []slog.Attr) slog.Handler { return g }
func (g *groupCapture) WithGroup(string) slog.Handler         { return g }

func (h *captureHandler) all() []captured {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]captured(nil), *h.records...)
}
