// Package e6sim is a local e6data-compatible cluster: a gateway in front of
// two query-engine stacks, blue and green, that behaves like a real e6data
// deployment, so that connectors (ours and the official Python one) can be
// tested against blue/green switches, suspensions, expired sessions and
// injected faults without a cluster.
//
// # What it serves
//
// One port serves the gRPC services QueryEngineService and ClusterService
// over HTTP/2 (plaintext h2c, or TLS with h2 ALPN). Both stacks run over one
// shared in-memory DuckDB with the sample catalog `sample` (for example
// `sample.main.numbers`), each with its own sessions and queries. The
// calls, messages and byte formats are those of docs/protocol.md; the V2
// calls e6data's client uses are served exactly as their V1 forms.
//
// The SQL is DuckDB's, closer to e6data's in three ways: e6data's common
// functions DuckDB lacks or names differently are macros (nvl,
// timestamp_add, timestamp_diff, date_diff, date_add, format_date,
// format_timestamp, parse_date, parse_timestamp, to_unix_timestamp,
// from_unixtime, from_unixtime_withunit, datetime); `SET TimeZone = 'zone'`
// lasts for the session, as setProps does; and a DATE or TIMESTAMP the
// wire cannot carry (outside int64 microseconds since the epoch, or
// ±infinity) is an Out of Range SQL error.
//
// # The gateway
//
//   - One stack is live. A call whose `strategy` header names neither the
//     live nor the draining stack gets 456; a call without the header goes to
//     the live stack. Strategy names are matched exactly (lower case).
//   - [Server.Switch] deploys the other stack. An optional announce phase
//     comes first: the live stack puts new_strategy=<other> in every
//     response that has the field, and the other stack already serves. Then
//     the other stack is live and the old one drains: it serves every call
//     of its existing sessions and queries with new_strategy=<live>, answers
//     a new authenticate with 456 (unless its user still has a query open
//     there), and after the drain period is torn down (every call to it
//     gets 456). A drain of 0 is an abrupt deployment.
//   - [Server.Suspend]: every QueryEngineService call gets 503 and all
//     sessions and queries are dropped; ClusterService reports `suspended`.
//     ClusterService resume (or [Server.Resume]) reports `resuming` for
//     [Config.ResumeDuration], then `active`. [Config.AutoSuspendAfter]
//     suspends an idle cluster. ClusterService checks credentials and is
//     never answered 456 or 503.
//   - Sessions expire after [Config.SessionTTL] or on [Server.ExpireSessions]:
//     INTERNAL "Access denied ...".
//   - [FaultRule]s inject 456, 503, Access denied, UNAVAILABLE or latency
//     per rpc, with a probability and/or a count; with [FaultRule.After]
//     the call is served first and its answer replaced by UNAVAILABLE (a
//     connection reset after, say, a write committed) or a stall. Hostile kinds make the
//     server misbehave instead: a batch column of the wrong vector type
//     ([FaultWrongType]), shorter than the chunk ([FaultShortVector]) or
//     without its nullSet ([FaultMissingNullSet]), an absurd Chunk.size
//     ([FaultAbsurdRows]), a result that never ends ([FaultEndless]),
//     resultMetaData with an impossible field count ([FaultBadMetadata]),
//     and calls that never answer ([FaultStall]).
//   - With [Config.ClusterName] set, a call naming another cluster in its
//     `cluster-name` header gets NOT_FOUND.
//
// # How 456 and 503 are sent
//
// With [SignalHTTP] (the default) the gateway answers like the real one: a
// bare HTTP/2 response `:status 456` or `:status 503` without gRPC framing,
// decided in the HTTP handler before gRPC sees the request. A grpc-go client
// then gets
//
//	code = Unknown      desc = unexpected HTTP status code received from server: 456 (); malformed header: missing HTTP content-type
//	code = Unavailable  desc = unexpected HTTP status code received from server: 503 (Service Unavailable); malformed header: missing HTTP content-type
//
// With [SignalGRPC] it answers gRPC statuses instead:
//
//	code = Unknown      desc = status: 456 wrong strategy: strategy "green" is not live (live: blue)
//	code = Unavailable  desc = status: 503 service unavailable: cluster is suspended
//
// A call that is already past the gateway when its stack is torn down (the
// teardown interrupts it) is answered the way a dying server answers, with
// UNAVAILABLE (`connection reset: strategy "blue" was torn down during the
// call (live: green)`), never with a 456: the engine may have executed it,
// and a 456 means the call never reached an engine. Nothing of such a call
// stays behind: a session or query it would have created is not
// registered. A call interrupted by a suspension likewise gets UNAVAILABLE
// (`connection reset: the cluster was suspended during the call`).
//
// A draining stack answers 456 to an authenticate, except for a user who
// still has a query open there (an expired session is renewed so that the
// drain can let that query finish).
//
// # What the simulator records
//
// [Server.Queries] and [Server.Query] return, per query, the stack that
// prepared it, whether it was executed, when it ended, and whether its stack
// was torn down while it was open; [Server.Teardowns] lists when each stack
// was torn down. Tests judge from this record which interruptions were
// allowed, instead of from how fast the machine ran.
//
// # Keepalive
//
// gRPC is served by grpc.Server.ServeHTTP behind net/http's HTTP/2 server,
// which acknowledges every PING and enforces no ping policy, so clients that
// ping every 30 s without calls in flight (the Python connector) are never
// sent GOAWAY too_many_pings.
//
// # Admin endpoint
//
// With [Config.AdminAddr] set (the e6sim command's default is
// 127.0.0.1:50052) an HTTP/JSON endpoint drives the simulator:
//
//	POST   /switch?drain=5s&announce=0s   switch stacks (drain defaults to 5s; waits out the announce phase)
//	POST   /suspend | /resume | /expire
//	GET    /faults          POST /faults (JSON array of FaultRule)          DELETE /faults
//	GET    /stats           (Stats as JSON)
//	GET    /queries/{id}    (the QueryRecord of one query as JSON)
//	GET    /teardowns       (the Teardowns as JSON)
//	GET    /metrics         (the same counters in the Prometheus text format)
//
// It refuses to start on a non-loopback address without [Config.AdminToken];
// with a token every request needs "Authorization: Bearer <token>".
//
// Tests of applications start an in-process simulator with [Start]; see the
// example. The e6sim command (cmd/e6sim) runs one as a process.
package e6sim
