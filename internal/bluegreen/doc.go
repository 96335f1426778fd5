// Package bluegreen keeps the strategy state of one e6data cluster: the
// active strategy and when it was confirmed, a pending strategy announced by
// the server, the queries in flight and the stack each is pinned to, and a
// timeline of transitions. It decides nothing about calls itself; the
// connector asks it which strategy new work and each query must use, and
// tells it what the server said. Detection is single-flight per cluster.
package bluegreen
