package chaos

import (
	"database/sql"
	"time"
)

// Driver is what the workload needs from the connector behind the *sql.DB.
// Package chaos does not import the connector, so that the connector's own
// tests can use it; package chaos/e6chaos adapts an *e6data.Connector.
type Driver interface {
	// Interrupted reports whether err is the connector's "a deployment
	// interrupted the query after it delivered rows" error, and the rows it
	// says were delivered.
	Interrupted(err error) (rows int64, ok bool)
	// Sentinels names the connector's typed errors that err matches
	// ("strategy_mismatch", "retries_exhausted", ...); none: "untyped".
	Sentinels(err error) []string
	// QueryID is the ID of the last query prepared on sc's connection.
	QueryID(sc *sql.Conn) string
	// Stats returns the connector's counters and strategy timeline.
	Stats() Stats
}

// Stats is the part of the connector's statistics the workload reports.
type Stats struct {
	Active        string
	Transitions   int64 // moves of new work to another stack
	Resumes       int64 // cluster resumes performed
	WrongStrategy int64 // 456 answers met
	Recoveries    int64 // operations that succeeded after a recovered failure
	Reauths       int64 // re-authentications after "Access denied"
	Timeline      []Event
}

// Event is one entry of the connector's strategy timeline. Types are the
// connector's: detected, announced, switched, invalidated, rollback, resumed.
type Event struct {
	Time     time.Time
	Type     string
	From, To string
	QueryID  string
}
