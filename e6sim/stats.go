package e6sim

// Stats is a snapshot of the simulator's state and counters (GET /stats).
type Stats struct {
	Live          string `json:"live"`
	Draining      string `json:"draining,omitempty"`
	Announcing    string `json:"announcing,omitempty"`
	ClusterStatus string `json:"cluster_status"`
	Signal        string `json:"signal"`

	// Stacks holds the per-stack state, keyed "blue" and "green".
	Stacks map[string]StackStats `json:"stacks"`
	// RPCs counts calls received per method ("QueryEngineService/authenticate",
	// "ClusterService/status", ...), including those answered 456/503.
	RPCs map[string]int64 `json:"rpcs"`

	Sent456 int64 `json:"sent_456"`
	Sent503 int64 `json:"sent_503"`
	// Cancels counts queries cancelled before their last row (cancelQuery,
	// or clearOrCancelQuery of a running query), summed over both stacks.
	Cancels int64 `json:"cancels"`
	// CancelCalls counts cancelQuery calls the stacks answered OK (including
	// cancels of queries that had already finished).
	CancelCalls int64 `json:"cancel_calls"`
	Switches    int64 `json:"switches"`
	Suspends    int64 `json:"suspends"`
	Resumes     int64 `json:"resumes"`
	FaultsFired int64 `json:"faults_fired"`
}

// StackStats describes one stack.
type StackStats struct {
	// State is "live", "announced", "draining" or "down".
	State          string `json:"state"`
	Sessions       int    `json:"sessions"`
	OpenQueries    int    `json:"open_queries"`
	QueriesStarted int64  `json:"queries_started"`
	Cancels        int64  `json:"cancels"`
	Reclaimed      int64  `json:"reclaimed"`
}

// Stats returns a snapshot of the simulator's state and counters.
func (s *Server) Stats() Stats {
	rs := s.route.Load()
	st := Stats{
		Live:          rs.live.name,
		Draining:      s.Draining(),
		Announcing:    s.Announcing(),
		ClusterStatus: s.ClusterStatus(),
		Signal:        s.cfg.Signal.String(),
		Stacks:        make(map[string]StackStats, 2),
		RPCs:          make(map[string]int64),
		Sent456:       s.sent456.Load(),
		Sent503:       s.sent503.Load(),
		CancelCalls:   s.cancelCalls.Load(),
		Switches:      s.switches.Load(),
		Suspends:      s.suspends.Load(),
		Resumes:       s.resumes.Load(),
		FaultsFired:   s.faults.firedTotal(),
	}
	for _, stk := range s.stacks {
		es := stk.eng.Stats()
		st.Stacks[stk.name] = StackStats{
			State:          rs.phase(stk),
			Sessions:       es.Sessions,
			OpenQueries:    es.OpenQueries,
			QueriesStarted: es.QueriesStarted,
			Cancels:        es.Cancels,
			Reclaimed:      es.Reclaimed,
		}
		st.Cancels += es.Cancels
	}
	for name, c := range s.rpcs {
		if n := c.Load(); n > 0 {
			st.RPCs[name] = n
		}
	}
	return st
}
