// Package chaos is the workload behind the zero-downtime demonstration and
// the chaos tests: worker goroutines run queries whose answers are known
// (computed by formula or documented in e6sim's DATASET.md) through one
// *sql.DB and verify every row, while a flipper deploys, suspends or expires
// the sessions of an e6sim cluster. Run reports what the application saw:
// queries, failures, wrong answers, interruptions, latencies and how fast
// new work reached each newly deployed stack.
package chaos
