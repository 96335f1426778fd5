package logcapture

import (
	"log/slog"
	"testing"
)

func TestHandlerFlattensAttributes(t *testing.T) {
	h := New()
	log := slog.New(h).With("component", "connector")
	log.Debug("first", "n", 1, slog.Group("g", "a", "x"))
	log.WithGroup("req").With("id", "q1").Warn("second", "k", "v")
	log.With("component", "again").Info("third")
	got := h.Records()
	if len(got) != 3 {
		t.Fatalf("%d records, want 3", len(got))
	}
	if r := got[0]; r.Level != slog.LevelDebug || r.Msg != "first" || r.Attrs["component"] != "connector" || r.Attrs["n"] != "1" || r.Attrs["g.a"] != "x" {
		t.Errorf("first record: %+v", r)
	}
	if r := got[1]; r.Level != slog.LevelWarn || r.Attrs["req.id"] != "q1" || r.Attrs["req.k"] != "v" || r.Attrs["component"] != "connector" {
		t.Errorf("second record: %+v", r)
	}
	if r := got[2]; r.Attrs["component"] != "connector|again" {
		t.Errorf("third record: component %q, want both values", r.Attrs["component"])
	}
}
