// Package rpc is the one call path every e6data RPC takes, whether it goes to
// the QueryEngineService or the ClusterService. It attaches the request
// metadata of docs/protocol.md §2 (strategy, cluster-name, plannerip), invokes the
// method on a shared grpc.ClientConn, reports new_strategy announcements, and
// classifies failures (456 wrong strategy, 503 suspended, Access denied, ...)
// into a Kind that the layers above act on. It keeps no strategy state itself.
package rpc
