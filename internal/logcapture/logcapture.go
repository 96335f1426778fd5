// Package logcapture is a slog.Handler that keeps every record it is
// given, for tests that check what the connector logs (the root package's
// and the integration tests in internal/e2e).
package logcapture

import (
	"context"
	"log/slog"
	"math"
	"sync"
)

// Record is one logged record, its attributes flattened: a group's
// attributes are keyed "group.key", and an attribute given twice holds
// both values joined by "|".
type Record struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

// Handler records every record at any level, with the attributes added by
// WithAttrs and WithGroup. Its copies (WithAttrs, WithGroup) record into the
// same list.
type Handler struct {
	mu      *sync.Mutex
	records *[]Record
	attrs   []slog.Attr
	group   string // prefix of the attributes of records handled from now on
	min     slog.Level
}

// New returns an empty Handler that records every level.
func New() *Handler { return NewLevel(math.MinInt) }

// NewLevel returns an empty Handler that records the levels from min on,
// as an application's handler with its own level would.
func NewLevel(min slog.Level) *Handler {
	return &Handler{mu: &sync.Mutex{}, records: &[]Record{}, min: min}
}

// Enabled reports whether l is at least the Handler's level.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.min }

// Handle records r.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	rec := Record{Level: r.Level, Msg: r.Message, Attrs: map[string]string{}}
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
		if old, dup := rec.Attrs[k]; dup {
			rec.Attrs[k] = old + "|" + v.String()
		} else {
			rec.Attrs[k] = v.String()
		}
	}
	for _, a := range h.attrs {
		add("", a)
	}
	r.Attrs(func(a slog.Attr) bool { add(h.group, a); return true })
	h.mu.Lock()
	*h.records = append(*h.records, rec)
	h.mu.Unlock()
	return nil
}

// WithAttrs returns a Handler that adds as to every record.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append([]slog.Attr(nil), h.attrs...)
	for _, a := range as {
		if h.group != "" {
			a.Key = h.group + a.Key
		}
		n.attrs = append(n.attrs, a)
	}
	return &n
}

// WithGroup returns a Handler that keys the attributes after it
// "name.key".
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	n := *h
	n.group = h.group + name + "."
	return &n
}

// Records returns a copy of what was recorded so far, in order.
func (h *Handler) Records() []Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Record(nil), *h.records...)
}
