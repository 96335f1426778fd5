package e6sim

import (
	"net/http"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsHandler serves GET /metrics: the counters of Stats in the
// Prometheus text exposition format, read at scrape time. Each Server has
// its own registry; nothing is registered globally.
func (s *Server) metricsHandler() http.Handler {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(statsCollector{s}); err != nil {
		// Cannot happen with a fresh registry and consistent descriptors;
		// answer the scrape with the reason rather than failing Start.
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusInternalServerError, "metrics: %v", err)
		})
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError})
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("e6sim_"+name, help, labels, nil)
}

// The metric families of /metrics.
var (
	descLive        = desc("live_strategy", "1 for the stack that is live, 0 for the other.", "strategy")
	descStackState  = desc("stack_state", "1 for the current state of each stack (live, announced, draining, down).", "stack", "state")
	descCluster     = desc("cluster_status", "1 for the current cluster status (active, suspended, resuming).", "status")
	descSessions    = desc("sessions", "Open sessions per stack.", "stack")
	descOpenQueries = desc("open_queries", "Open queries per stack.", "stack")
	descStarted     = desc("queries_started_total", "Queries started per stack.", "stack")
	descStackCancel = desc("stack_cancels_total", "Queries cancelled before their last row, per stack.", "stack")
	descReclaimed   = desc("queries_reclaimed_total", "Idle queries reclaimed per stack.", "stack")
	descRPCs        = desc("rpcs_total", "Calls received per gRPC method, including those answered 456 or 503.", "method")
	descSent456     = desc("sent_456_total", "Calls answered 456 (wrong strategy).")
	descSent503     = desc("sent_503_total", "Calls answered 503 (cluster suspended).")
	descCancels     = desc("cancels_total", "Queries cancelled before their last row, both stacks.")
	descCancelCalls = desc("cancel_calls_total", "cancelQuery calls answered OK.")
	descSwitches    = desc("switches_total", "Blue/green switches.")
	descSuspends    = desc("suspends_total", "Cluster suspensions.")
	descResumes     = desc("resumes_total", "Cluster resumes.")
	descFaults      = desc("faults_fired_total", "Injected faults fired.")
)

// statsCollector exposes a Server's Stats; it reads them on every scrape.
type statsCollector struct{ s *Server }

func (statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLive, descStackState, descCluster, descSessions, descOpenQueries,
		descStarted, descStackCancel, descReclaimed, descRPCs, descSent456, descSent503, descCancels,
		descCancelCalls, descSwitches, descSuspends, descResumes, descFaults} {
		ch <- d
	}
}

func (c statsCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	one := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	for _, name := range []string{Blue, Green} {
		gauge(descLive, one(st.Live == name), name)
		stk := st.Stacks[name]
		for _, state := range []string{"live", "announced", "draining", "down"} {
			gauge(descStackState, one(stk.State == state), name, state)
		}
		gauge(descSessions, float64(stk.Sessions), name)
		gauge(descOpenQueries, float64(stk.OpenQueries), name)
		counter(descStarted, stk.QueriesStarted, name)
		counter(descStackCancel, stk.Cancels, name)
		counter(descReclaimed, stk.Reclaimed, name)
	}
	for _, status := range []string{StatusActive, StatusSuspended, StatusResuming} {
		gauge(descCluster, one(st.ClusterStatus == status), status)
	}
	methods := make([]string, 0, len(st.RPCs))
	for m := range st.RPCs {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	for _, m := range methods {
		counter(descRPCs, st.RPCs[m], m)
	}
	counter(descSent456, st.Sent456)
	counter(descSent503, st.Sent503)
	counter(descCancels, st.Cancels)
	counter(descCancelCalls, st.CancelCalls)
	counter(descSwitches, st.Switches)
	counter(descSuspends, st.Suspends)
	counter(descResumes, st.Resumes)
	counter(descFaults, st.FaultsFired)
}
