package e2e

import "github.com/e6go/e6data/internal/logcapture"

// newCapture returns a slog handler that records what the connector logs.
func newCapture() *logcapture.Handler { return logcapture.New() }

type captured = logcapture.Record
