package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/e6go/e6data"
)

// cmdStatus runs `e6 status`: it prints the connector's health report:
// cluster status, strategy state, in-flight queries, pool, last
// switchover, counters and the recent transitions. It never resumes a
// suspended cluster (resuming costs money): only an active cluster gets a
// session (which detects the live strategy). Exit 1 when the cluster
// cannot be reached or is not active.
func (a *app) cmdStatus(ctx context.Context, args []string) error {
	if _, err := a.parseArgs("status", args, 0, 0, "status takes no arguments", nil); err != nil {
		return err
	}
	s, err := a.connect(false, e6data.WithAutoResume(false, 0), e6data.WithSetting("min-connections", "0"))
	if err != nil {
		return err
	}
	defer s.Close()
	var h e6data.Health
	var pingErr error
	if _, err := s.do(ctx, func(ctx context.Context) error {
		var err error
		if h, err = s.conn.Health(ctx); err != nil || !h.Healthy() {
			return err
		}
		// Active: a session makes the connector find the live strategy;
		// a failure is reported with the rest.
		s.conn.ConfigurePool(s.db)
		pingErr = s.db.PingContext(ctx)
		h, err = s.conn.Health(ctx)
		return err
	}); err != nil {
		return err
	}
	writeHealth(a.stdout, h, pingErr)
	if pingErr != nil || !h.Healthy() {
		return errExit
	}
	return nil
}

func writeHealth(w io.Writer, h e6data.Health, pingErr error) {
	or := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	kv := func(k string, v any) { fmt.Fprintf(w, "%-16s %v\n", k+":", v) }
	kv("cluster", h.Cluster)
	status := h.ClusterStatus
	if h.StatusErr != nil {
		status += " (" + h.StatusErr.Error() + ")"
	} else {
		status += fmt.Sprintf(" (%v)", h.StatusLatency.Round(time.Millisecond))
	}
	kv("cluster status", status)
	conn := "ok"
	switch {
	case pingErr != nil:
		conn = "failed: " + pingErr.Error()
	case h.StatusErr == nil && h.ClusterStatus != "active":
		conn = "not opened: the cluster is " + h.ClusterStatus + " (status never resumes it; a query does, with auto-resume on)"
	case h.StatusErr != nil:
		conn = "not opened"
	}
	kv("session", conn)
	kv("live strategy", or(h.Active, "unknown"))
	kv("pending", or(h.Pending, "none"))
	var inflight []string
	for _, k := range slices.Sorted(maps.Keys(h.InFlight)) {
		inflight = append(inflight, fmt.Sprintf("%s=%d", k, h.InFlight[k]))
	}
	kv("in flight", or(strings.Join(inflight, " "), "none"))
	if p := h.Pool; p != nil {
		kv("pool", fmt.Sprintf("open=%d in-use=%d idle=%d wait-count=%d", p.OpenConnections, p.InUse, p.Idle, p.WaitCount))
	}
	if sw := h.Switchover; sw != nil {
		state := "complete"
		if sw.InProgress {
			state = "in progress"
		}
		if sw.Rollback {
			state += ", rollback"
		}
		kv("switchover", fmt.Sprintf("%s -> %s (%s)", sw.From, sw.To, state))
	} else {
		kv("switchover", "none seen")
	}
	st := h.Stats
	fmt.Fprintln(w, "\ncounters:")
	for _, c := range []struct {
		name string
		v    int64
	}{
		{"detections", st.Detections}, {"announcements", st.Announcements}, {"transitions", st.Transitions},
		{"rollbacks", st.Rollbacks}, {"wrong strategy (456)", st.WrongStrategy}, {"recoveries", st.Recoveries},
		{"re-authentications", st.Reauths}, {"resumes", st.Resumes}, {"interrupted", st.Interrupted},
	} {
		fmt.Fprintf(w, "  %-22s %d\n", c.name, c.v)
	}
	if len(st.Timeline) > 0 {
		fmt.Fprintln(w, "\ntimeline:")
		for _, e := range st.Timeline {
			line := fmt.Sprintf("  %s %-11s %s -> %s", e.Time.Format(time.TimeOnly+".000"), e.Type, or(e.From, "-"), or(e.To, "-"))
			if e.QueryID != "" {
				line += " query " + e.QueryID
			}
			fmt.Fprintln(w, line)
		}
	}
}
