package e6sim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/e6go/e6data/e6sim/internal/engine"
)

// Signal selects how the gateway sends the 456 (wrong strategy) and 503
// (cluster suspended) signals.
type Signal int

const (
	// SignalHTTP answers with a bare HTTP/2 response status (:status 456 or
	// :status 503, no gRPC framing), as the real e6data gateway does.
	SignalHTTP Signal = iota
	// SignalGRPC answers with a gRPC status instead: UNKNOWN "status: 456 ..."
	// or UNAVAILABLE "status: 503 ...".
	SignalGRPC
)

// String returns "http" or "grpc".
func (s Signal) String() string {
	switch s {
	case SignalHTTP:
		return "http"
	case SignalGRPC:
		return "grpc"
	}
	return fmt.Sprintf("Signal(%d)", int(s))
}

// ParseSignal parses "http" or "grpc" (any letter case).
func ParseSignal(v string) (Signal, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "http":
		return SignalHTTP, nil
	case "grpc":
		return SignalGRPC, nil
	}
	return 0, fmt.Errorf("e6sim: unknown signal mode %q (want http or grpc)", v)
}

// The two stack names. Strategy headers are matched exactly (lower case), as
// a real gateway does.
const (
	Blue  = "blue"
	Green = "green"
)

// Cluster statuses reported by ClusterService and Stats.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusResuming  = "resuming"
)

// Defaults applied by Start for zero Config fields.
const (
	DefaultResumeDuration = 2 * time.Second
	DefaultMaxRecvMsgSize = 4 << 20
	defaultShutdownGrace  = 5 * time.Second
)

// DB is the in-memory DuckDB database with the sample catalog that the
// stacks of a simulator share: the sample tables (customers, orders,
// all_types, ...), plus a view for each *.parquet and *.csv
// file of the data directory it was opened with. Open one with OpenDB to
// share it between several simulators (Config.DB), which saves opening the
// catalog once per simulator; it is safe for concurrent use. Close it after
// the simulators that use it.
type DB struct {
	db *engine.DB
}

// OpenDB opens a database for Config.DB: the sample catalog, plus the
// *.parquet and *.csv files of dataDir (if not "") as views
// sample.data.<file stem>. The caller closes it after the simulators that
// use it.
func OpenDB(ctx context.Context, dataDir string) (*DB, error) {
	db, err := engine.OpenDB(ctx, engine.DBOptions{DataDir: dataDir})
	if err != nil {
		return nil, fmt.Errorf("e6sim: open database: %w", err)
	}
	return &DB{db: db}, nil
}

// Close closes the database. Simulators still using it fail their queries.
func (d *DB) Close() error { return d.db.Close() }

// Users maps a user name to its access token: the credentials the
// simulator accepts (authenticate and ClusterService calls check them). A
// nil or empty Users accepts any non-empty user with any non-empty token.
// Config.UsersFile loads the same map from a file.
type Users map[string]string

// Config configures a simulator. The zero value is usable: an engine on a free
// loopback port, blue live, any non-empty user/token accepted, no admin
// endpoint.
type Config struct {
	// Addr is the engine (gRPC) listen address; "" means 127.0.0.1:0, a free
	// loopback port (see Server.Addr).
	Addr string
	// AdminAddr is the admin HTTP/JSON listen address; "" means no admin
	// endpoint. A non-loopback address requires AdminToken.
	AdminAddr string
	// AdminToken, when set, must be sent by admin clients as
	// "Authorization: Bearer <token>".
	AdminToken string

	// Strategy is the initially live stack, "blue" (default) or "green".
	Strategy string
	// ClusterName, when set, makes requests carrying a different
	// cluster-name header fail with NOT_FOUND (compared ignoring case; a
	// request without the header is accepted).
	ClusterName string

	// DataDir is passed to the engine (where the shared DuckDB lives).
	// Ignored when DB is set.
	DataDir string
	// DB, when set, is used instead of opening a database; several
	// simulators may share one. Close does not close it.
	DB *DB

	// Users maps user -> token; nil accepts any non-empty user and token.
	// UsersFile loads the map from a file instead (not both).
	Users     Users
	UsersFile string

	// SessionTTL makes sessions expire ("Access denied") after this long;
	// 0 leaves it to the engine's default.
	SessionTTL time.Duration
	// QueryIdleTimeout reclaims queries that are not touched for this long;
	// 0 leaves it to the engine's default.
	QueryIdleTimeout time.Duration
	// MaxOpenQueries bounds open queries per stack; 0 = engine default.
	MaxOpenQueries int
	// QueryHistory is how many query records (Server.Queries) are kept,
	// the newest; 0 means DefaultQueryHistory, a negative value none.
	QueryHistory int
	// ChunkRows is the number of rows per result batch; 0 = engine default.
	ChunkRows int
	// ResumeDuration is how long the cluster stays "resuming" after a
	// resume; 0 means DefaultResumeDuration.
	ResumeDuration time.Duration
	// AutoSuspendAfter suspends the cluster after this long without any
	// QueryEngineService call (ClusterService calls, such as status polls,
	// do not count as activity); 0 disables auto-suspend.
	AutoSuspendAfter time.Duration

	// Signal selects how 456 and 503 are sent (default SignalHTTP).
	Signal Signal
	// MaxRecvMsgSize is the largest request the engine accepts; 0 means
	// DefaultMaxRecvMsgSize (4 MiB). Larger requests get RESOURCE_EXHAUSTED.
	MaxRecvMsgSize int

	// TLSCertFile and TLSKeyFile, or TLSConfig (with certificates), serve
	// the engine over TLS (h2 via ALPN) instead of plaintext h2c.
	TLSCertFile, TLSKeyFile string
	TLSConfig               *tls.Config
	// TLSClientCAFile (PEM, with TLSCertFile/TLSKeyFile) turns on mutual
	// TLS: clients must present a certificate signed by one of its CAs.
	TLSClientCAFile string

	// Logger receives the simulator's logs; nil discards them.
	Logger *slog.Logger
}

// normalize validates cfg and fills in defaults. It returns the users map to
// use.
func (cfg *Config) normalize() (engine.Users, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	switch cfg.Strategy {
	case "":
		cfg.Strategy = Blue
	case Blue, Green:
	default:
		return nil, fmt.Errorf("e6sim: strategy %q: want %q or %q", cfg.Strategy, Blue, Green)
	}
	if cfg.Signal != SignalHTTP && cfg.Signal != SignalGRPC {
		return nil, fmt.Errorf("e6sim: unknown signal mode %d", int(cfg.Signal))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"SessionTTL", cfg.SessionTTL},
		{"QueryIdleTimeout", cfg.QueryIdleTimeout},
		{"ResumeDuration", cfg.ResumeDuration},
		{"AutoSuspendAfter", cfg.AutoSuspendAfter},
	} {
		if d.v < 0 {
			return nil, fmt.Errorf("e6sim: %s must not be negative (got %v)", d.name, d.v)
		}
	}
	if cfg.ChunkRows < 0 || cfg.MaxOpenQueries < 0 || cfg.MaxRecvMsgSize < 0 {
		return nil, errors.New("e6sim: ChunkRows, MaxOpenQueries and MaxRecvMsgSize must not be negative")
	}
	if cfg.ResumeDuration == 0 {
		cfg.ResumeDuration = DefaultResumeDuration
	}
	if cfg.MaxRecvMsgSize == 0 {
		cfg.MaxRecvMsgSize = DefaultMaxRecvMsgSize
	}
	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		return nil, errors.New("e6sim: TLSCertFile and TLSKeyFile must be set together")
	}
	if cfg.TLSCertFile != "" && cfg.TLSConfig != nil {
		return nil, errors.New("e6sim: set TLSCertFile/TLSKeyFile or TLSConfig, not both")
	}
	if cfg.TLSClientCAFile != "" && cfg.TLSCertFile == "" {
		return nil, errors.New("e6sim: TLSClientCAFile needs TLSCertFile and TLSKeyFile (with TLSConfig, set ClientCAs there)")
	}
	if cfg.AdminAddr != "" && cfg.AdminToken == "" && !isLoopback(cfg.AdminAddr) {
		return nil, fmt.Errorf("e6sim: admin address %q is not loopback: an admin token is required", cfg.AdminAddr)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	users := engine.Users(cfg.Users)
	if cfg.UsersFile != "" {
		if cfg.Users != nil {
			return nil, errors.New("e6sim: set Users or UsersFile, not both")
		}
		u, err := engine.LoadUsers(cfg.UsersFile)
		if err != nil {
			return nil, fmt.Errorf("e6sim: %w", err)
		}
		users = u
	}
	return users, nil
}

// isLoopback reports whether the host of a listen address is a loopback
// name or address. An empty host (all interfaces) is not loopback.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
