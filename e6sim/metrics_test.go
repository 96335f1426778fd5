package e6sim

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// scrape GETs /metrics and returns the samples by "name{labels}" (labels as
// exposed) after checking that every sample line is well formed and every
// family has HELP and TYPE lines.
func scrape(t *testing.T, a adminClient) map[string]float64 {
	t.Helper()
	code, out := a.do("GET", "/metrics", "")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", code, out)
	}
	samples := map[string]float64{}
	typed := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if f, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(f, " ")
			if typ != "gauge" && typ != "counter" {
				t.Errorf("%s: type %q", name, typ)
			}
			typed[name] = true
			continue
		}
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("malformed sample line %q", line)
		}
		key, val := line[:i], line[i+1:]
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			t.Fatalf("sample %q: value %q: %v", key, val, err)
		}
		name, _, _ := strings.Cut(key, "{")
		if !typed[name] {
			t.Errorf("sample %q before its TYPE line", key)
		}
		samples[key] = v
	}
	return samples
}

func TestAdminMetrics(t *testing.T) {
	defer http.DefaultClient.CloseIdleConnections()
	s := start(t, Config{AdminAddr: "127.0.0.1:0", AdminToken: "s3cret"})
	base := "http://" + s.AdminAddr()

	// Same auth rule as the other admin routes.
	if code, out := (adminClient{t: t, base: base}).do("GET", "/metrics", ""); code != http.StatusUnauthorized {
		t.Fatalf("GET /metrics without token: %d %s", code, out)
	}
	a := adminClient{t: t, base: base, token: "s3cret"}
	if code, _ := a.do("POST", "/metrics", ""); code != http.StatusMethodNotAllowed {
		t.Fatalf("POST /metrics: %d, want 405", code)
	}

	m := scrape(t, a)
	for key, want := range map[string]float64{
		`e6sim_live_strategy{strategy="blue"}`:             1,
		`e6sim_live_strategy{strategy="green"}`:            0,
		`e6sim_stack_state{stack="green",state="down"}`:    1,
		`e6sim_cluster_status{status="active"}`:            1,
		`e6sim_sessions{stack="blue"}`:                     0,
		`e6sim_sent_456_total`:                             0,
		`e6sim_cancels_total`:                              0,
		`e6sim_queries_started_total{stack="blue"}`:        0,
		`e6sim_stack_state{stack="blue",state="live"}`:     1,
		`e6sim_cluster_status{status="suspended"}`:         0,
		`e6sim_switches_total`:                             0,
		`e6sim_faults_fired_total`:                         0,
		`e6sim_open_queries{stack="green"}`:                0,
		`e6sim_stack_state{stack="blue",state="draining"}`: 0,
	} {
		if got, ok := m[key]; !ok || got != want {
			t.Errorf("before: %s = %v (present %v), want %v", key, got, ok, want)
		}
	}

	// Activity moves the counters, read at scrape time.
	c := dial(t, s.Addr())
	sess := c.mustAuth("")
	c.mustQuery("", sess, "SELECT 1")
	if _, err := c.auth(Green); !is456(err) {
		t.Fatalf("auth on green: %v, want 456", err)
	}
	s.Suspend()

	m = scrape(t, a)
	st := s.Stats()
	for key, want := range map[string]float64{
		`e6sim_sent_456_total`:                                       1,
		`e6sim_suspends_total`:                                       1,
		`e6sim_cluster_status{status="suspended"}`:                   1,
		`e6sim_cluster_status{status="active"}`:                      0,
		`e6sim_queries_started_total{stack="blue"}`:                  float64(st.Stacks[Blue].QueriesStarted),
		`e6sim_rpcs_total{method="QueryEngineService/authenticate"}`: float64(st.RPCs["QueryEngineService/authenticate"]),
	} {
		if got, ok := m[key]; !ok || got != want {
			t.Errorf("after: %s = %v (present %v), want %v", key, got, ok, want)
		}
	}
	if m[`e6sim_queries_started_total{stack="blue"}`] < 1 || m[`e6sim_rpcs_total{method="QueryEngineService/authenticate"}`] < 2 {
		t.Errorf("counters did not move: %v", m)
	}
}
