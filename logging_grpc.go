package e6data

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"google.golang.org/grpc/grpclog"
)

// InstallGRPCLogger routes gRPC's own logs to cfg's logger, with the
// component attribute "grpc" and the level GRPCLogLevel
// (E6DATA_GRPC_LOG_LEVEL).
//
// grpc-go has one logger for the whole process (grpclog.SetLoggerV2), which
// is not safe to change while gRPC is in use. So the connector never calls
// this by itself: call it once, early in main, before any connection is
// made. Only the first call has an effect (sync.Once); it reports whether
// this call installed the logger. Without it, gRPC logs as grpc-go's
// defaults (GRPC_GO_LOG_SEVERITY_LEVEL) say.
//
// gRPC's Fatal logs are written at CRITICAL; grpc-go itself then exits the
// process, as it always does after a fatal log.
func InstallGRPCLogger(cfg *Config) bool {
	return defaultGRPCInstaller.install(cfg)
}

type grpcLogInstaller struct {
	once sync.Once
	set  func(grpclog.LoggerV2)
}

var defaultGRPCInstaller = &grpcLogInstaller{set: grpclog.SetLoggerV2}

func (g *grpcLogInstaller) install(cfg *Config) bool {
	done := false
	g.once.Do(func() {
		g.set(newGRPCLogger(cfg.NewLogger()))
		done = true
	})
	return done
}

// grpcSlogLogger adapts an *slog.Logger to grpclog.LoggerV2.
type grpcSlogLogger struct {
	l *slog.Logger
}

func newGRPCLogger(base *slog.Logger) *grpcSlogLogger {
	return &grpcSlogLogger{l: base.With(componentKey, ComponentGRPC)}
}

func (g *grpcSlogLogger) log(level slog.Level, msg string) {
	g.l.Log(context.Background(), level, msg)
}

func (g *grpcSlogLogger) Info(args ...any)    { g.log(slog.LevelInfo, fmt.Sprint(args...)) }
func (g *grpcSlogLogger) Infoln(args ...any)  { g.log(slog.LevelInfo, sprintln(args)) }
func (g *grpcSlogLogger) Warning(args ...any) { g.log(slog.LevelWarn, fmt.Sprint(args...)) }
func (g *grpcSlogLogger) Warningln(args ...any) {
	g.log(slog.LevelWarn, sprintln(args))
}
func (g *grpcSlogLogger) Error(args ...any)   { g.log(slog.LevelError, fmt.Sprint(args...)) }
func (g *grpcSlogLogger) Errorln(args ...any) { g.log(slog.LevelError, sprintln(args)) }
func (g *grpcSlogLogger) Fatal(args ...any)   { g.log(LevelCritical, fmt.Sprint(args...)) }
func (g *grpcSlogLogger) Fatalln(args ...any) { g.log(LevelCritical, sprintln(args)) }
func (g *grpcSlogLogger) Infof(format string, args ...any) {
	g.log(slog.LevelInfo, fmt.Sprintf(format, args...))
}
func (g *grpcSlogLogger) Warningf(format string, args ...any) {
	g.log(slog.LevelWarn, fmt.Sprintf(format, args...))
}
func (g *grpcSlogLogger) Errorf(format string, args ...any) {
	g.log(slog.LevelError, fmt.Sprintf(format, args...))
}
func (g *grpcSlogLogger) Fatalf(format string, args ...any) {
	g.log(LevelCritical, fmt.Sprintf(format, args...))
}

// V reports whether gRPC's verbose logs are wanted: all of them at DEBUG,
// none above.
func (g *grpcSlogLogger) V(l int) bool {
	return l <= 0 || g.l.Enabled(context.Background(), slog.LevelDebug)
}

func sprintln(args []any) string { return strings.TrimSuffix(fmt.Sprintln(args...), "\n") }

var _ grpclog.LoggerV2 = (*grpcSlogLogger)(nil)
