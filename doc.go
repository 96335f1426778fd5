// Package e6data is a database/sql driver for the e6data lakehouse engine
// that follows e6data's blue/green deployments without failing queries.
//
// Open a database with a DSN (the E6DATA_* environment variables fill in
// what the DSN leaves out):
//
//	db, err := sql.Open("e6data", "e6data://me%40corp.com:TOKEN@e6.corp.com:443/sales?catalog=hive&secure=true")
//
// or build a Connector from a Config and options, which report bad settings
// when the connector is built:
//
//	cfg, err := e6data.ConfigFromEnv(e6data.WithSetting("catalog", "hive"), e6data.WithCredentials(user, token))
//	db, err := e6data.OpenDB(cfg)
//
// One Connector holds its gRPC connections to the cluster (one, or a few
// for a large pool: GRPCConnections), shared by all its sessions (one per
// driver connection), and the cluster's strategy state:
// it detects the live stack (blue or green), sends it with every call,
// moves new work to a stack the server announces while running queries
// finish where they started, re-authenticates expired sessions, resumes a
// suspended cluster, and re-runs a query only while it has delivered no row
// and re-running it is safe. Connector.Stats reports that state;
// WithMeterProvider and WithTracerProvider report it, and every query,
// through OpenTelemetry (a no-op unless given).
//
// Results stream batch by batch: while the application scans one batch the
// next ones (Config.PrefetchDepth, default 1) are fetched in the background,
// and only those are held in memory. Values the application keeps stay
// valid. To avoid an allocation per row, the short strings of a batch are
// copied into shared blocks, so a kept string keeps at most 4 KiB alive
// (strings.Clone detaches it), and a value scanned into *any keeps its
// batch's array of that column alive. DECIMAL128 values arrive as the exact
// Decimal type, timestamps with full microseconds. Operations that
// database/sql has no words for (Explain, Status, Cancel by ID, catalog
// listings) are reached through Raw. Errors match the package's sentinels
// with errors.Is and *Error with errors.As.
//
// The package e6sim (github.com/e6go/e6data/e6sim) runs an e6data-compatible
// engine in-process for tests and development.
package e6data
