package e6chaos

import (
	"database/sql"
	"errors"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/internal/chaos"
)

// Driver returns the chaos.Driver of the connector behind a *sql.DB.
func Driver(c *e6data.Connector) chaos.Driver { return driver{c} }

type driver struct{ c *e6data.Connector }

func (d driver) Interrupted(err error) (int64, bool) {
	if !errors.Is(err, e6data.ErrQueryInterrupted) {
		return 0, false
	}
	var e *e6data.Error
	if errors.As(err, &e) {
		return e.Rows, true
	}
	return -1, true
}

// Sentinels is the connector's typed errors, by the names chaos reports.
var Sentinels = []struct {
	Name string
	Err  error
}{
	{"query_interrupted", e6data.ErrQueryInterrupted},
	{"retries_exhausted", e6data.ErrRetriesExhausted},
	{"strategy_mismatch", e6data.ErrStrategyMismatch},
	{"cluster_unavailable", e6data.ErrClusterUnavailable},
	{"session_expired", e6data.ErrSessionExpired},
	{"query_cancelled", e6data.ErrQueryCancelled},
	{"query_failed", e6data.ErrQueryFailed},
	{"auth", e6data.ErrAuth},
	{"protocol", e6data.ErrProtocol},
	{"conn_closed", e6data.ErrConnClosed},
}

func (d driver) Sentinels(err error) []string {
	var out []string
	for _, s := range Sentinels {
		if errors.Is(err, s.Err) {
			out = append(out, s.Name)
		}
	}
	if len(out) == 0 {
		out = append(out, "untyped")
	}
	return out
}

func (d driver) QueryID(sc *sql.Conn) string {
	var id string
	_ = e6data.RawConn(sc, func(c e6data.Conn) error {
		id = c.LastQueryID()
		return nil
	})
	return id
}

func (d driver) Stats() chaos.Stats {
	st := d.c.Stats()
	out := chaos.Stats{Active: st.Active, Transitions: st.Transitions, Resumes: st.Resumes,
		WrongStrategy: st.WrongStrategy, Recoveries: st.Recoveries, Reauths: st.Reauths}
	for _, e := range st.Timeline {
		out.Timeline = append(out.Timeline, chaos.Event{Time: e.Time, Type: e.Type, From: e.From, To: e.To, QueryID: e.QueryID})
	}
	return out
}
