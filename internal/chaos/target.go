package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/e6go/e6data/e6sim"
)

// Target is the cluster the flipper drives: an in-process simulator (Sim)
// or a simulator process through its admin endpoint (Admin).
type Target interface {
	// Switch deploys the other stack; see e6sim.Server.Switch.
	Switch(ctx context.Context, drain, announce time.Duration) error
	Suspend(ctx context.Context) error
	Resume(ctx context.Context) error
	ExpireSessions(ctx context.Context) error
	Stats(ctx context.Context) (e6sim.Stats, error)
}

// Sim drives an in-process simulator.
func Sim(s *e6sim.Server) Target { return simTarget{s} }

type simTarget struct{ s *e6sim.Server }

func (t simTarget) Switch(ctx context.Context, drain, announce time.Duration) error {
	return t.s.Switch(ctx, drain, announce)
}
func (t simTarget) Suspend(context.Context) error        { t.s.Suspend(); return nil }
func (t simTarget) Resume(context.Context) error         { t.s.Resume(); return nil }
func (t simTarget) ExpireSessions(context.Context) error { t.s.ExpireSessions(); return nil }
func (t simTarget) Stats(context.Context) (e6sim.Stats, error) {
	return t.s.Stats(), nil
}

// Admin drives a simulator through its admin endpoint (base such as
// "http://127.0.0.1:50052"); token is its admin token ("" for none).
func Admin(base, token string) (Target, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("chaos: admin endpoint %q: want http://host:port", base)
	}
	return &adminTarget{base: strings.TrimRight(base, "/"), token: token, hc: &http.Client{Timeout: 30 * time.Second}}, nil
}

type adminTarget struct {
	base, token string
	hc          *http.Client
}

func (t *adminTarget) do(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, t.base+path, nil)
	if err != nil {
		return err
	}
	if t.token != "" {
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	resp, err := t.hc.Do(req)
	if err != nil {
		return fmt.Errorf("chaos: admin %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("chaos: admin %s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("chaos: admin %s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(body)))
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("chaos: admin %s %s: %w", method, path, err)
		}
	}
	return nil
}

func (t *adminTarget) Switch(ctx context.Context, drain, announce time.Duration) error {
	q := url.Values{"drain": {drain.String()}, "announce": {announce.String()}}
	return t.do(ctx, http.MethodPost, "/switch?"+q.Encode(), nil)
}
func (t *adminTarget) Suspend(ctx context.Context) error {
	return t.do(ctx, http.MethodPost, "/suspend", nil)
}
func (t *adminTarget) Resume(ctx context.Context) error {
	return t.do(ctx, http.MethodPost, "/resume", nil)
}
func (t *adminTarget) ExpireSessions(ctx context.Context) error {
	return t.do(ctx, http.MethodPost, "/expire", nil)
}
func (t *adminTarget) Stats(ctx context.Context) (e6sim.Stats, error) {
	var st e6sim.Stats
	err := t.do(ctx, http.MethodGet, "/stats", &st)
	return st, err
}

// Recorder is a Target that can tell what the simulator recorded of a query
// (see e6sim.QueryRecord). Run uses it to judge every interruption: a query
// may be interrupted only if its stack was torn down while it was open.
type Recorder interface {
	QueryRecord(ctx context.Context, id string) (rec e6sim.QueryRecord, found bool, err error)
}

func (t simTarget) QueryRecord(_ context.Context, id string) (e6sim.QueryRecord, bool, error) {
	rec, ok := t.s.Query(id)
	return rec, ok, nil
}

func (t *adminTarget) QueryRecord(ctx context.Context, id string) (e6sim.QueryRecord, bool, error) {
	var rec e6sim.QueryRecord
	err := t.do(ctx, http.MethodGet, "/queries/"+url.PathEscape(id), &rec)
	if err != nil && strings.Contains(err.Error(), "404") {
		return rec, false, nil
	}
	return rec, err == nil, err
}
