// Command e6sim runs a local e6data-compatible cluster: a blue/green
// gateway in front of two query-engine stacks over one in-memory DuckDB with
// the sample catalog, plus an admin HTTP/JSON endpoint to switch stacks,
// suspend and resume, expire sessions and inject faults (package
// github.com/e6go/e6data/e6sim has the details).
//
// Usage:
//
//	e6sim [flags]
//
//	-addr 127.0.0.1:50051        engine (gRPC) address
//	-admin 127.0.0.1:50052       admin address ("" = no admin endpoint)
//	-admin-token TOKEN           required for a non-loopback -admin
//	-strategy blue|green         initially live stack
//	-cluster-name NAME           reject other cluster-name headers (NOT_FOUND)
//	-data DIR                    *.parquet / *.csv files served as sample.data.<name>
//	-users FILE                  "user token" lines (default: any non-empty user/token)
//	-session-ttl, -query-idle-timeout, -resume-time, -auto-suspend   durations
//	-chunk-rows N                rows per result batch
//	-signal http|grpc            how 456/503 are sent
//	-tls-cert FILE -tls-key FILE serve TLS (h2)
//	-tls-client-ca FILE          require client certificates signed by these CAs (mutual TLS)
//	-log-level debug|info|warn|error
//
// It prints one line naming both addresses and the live strategy, e.g.
//
//	e6sim: e6data engine on 127.0.0.1:50051, admin on http://127.0.0.1:50052, live strategy blue
//
// and runs until SIGINT or SIGTERM, then shuts down gracefully (exit 0).
// Bad flags exit 2; a failure to start exits 1.
//
// Driving it:
//
//	curl -X POST 'http://127.0.0.1:50052/switch?drain=5s&announce=2s'
//	curl -X POST http://127.0.0.1:50052/suspend
//	curl -X POST http://127.0.0.1:50052/resume
//	curl -X POST http://127.0.0.1:50052/expire
//	curl -X POST -d '[{"method":"getNextResultBatch","kind":"456","count":1}]' http://127.0.0.1:50052/faults
//	curl -X DELETE http://127.0.0.1:50052/faults
//	curl http://127.0.0.1:50052/stats
//	curl http://127.0.0.1:50052/metrics     (Prometheus text format)
//
// The same simulator runs inside the client with `e6 sim` (same flags).
package main
