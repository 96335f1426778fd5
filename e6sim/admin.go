package e6sim

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Admin endpoint defaults.
const (
	// DefaultAdminDrain is the drain period of POST /switch without ?drain=.
	DefaultAdminDrain = 5 * time.Second
	maxAdminBody      = 1 << 20
)

// adminHandler serves the admin HTTP/JSON API:
//
//	POST   /switch?drain=5s&announce=0s   switch stacks (waits out the announce phase)
//	POST   /suspend                       suspend the cluster
//	POST   /resume                        resume it
//	POST   /expire                        expire every session
//	GET    /faults                        the current fault rules
//	POST   /faults                        replace the fault rules (JSON array)
//	DELETE /faults                        clear them
//	GET    /stats                         Stats as JSON
//	GET    /metrics                       Stats in the Prometheus text format
func (s *Server) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /switch", s.adminSwitch)
	mux.HandleFunc("POST /suspend", func(w http.ResponseWriter, r *http.Request) {
		s.Suspend()
		writeJSON(w, http.StatusOK, map[string]string{"cluster_status": s.ClusterStatus()})
	})
	mux.HandleFunc("POST /resume", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"cluster_status": s.Resume()})
	})
	mux.HandleFunc("POST /expire", func(w http.ResponseWriter, r *http.Request) {
		s.ExpireSessions()
		writeJSON(w, http.StatusOK, map[string]string{"expired": "all sessions"})
	})
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("POST /faults", s.adminSetFaults)
	mux.HandleFunc("DELETE /faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		writeJSON(w, http.StatusOK, []FaultRule{})
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	})
	mux.Handle("GET /metrics", s.metricsHandler())
	mux.HandleFunc("GET /queries/{id}", func(w http.ResponseWriter, r *http.Request) {
		rec, ok := s.Query(r.PathValue("id"))
		if !ok {
			writeError(w, http.StatusNotFound, "no record of query %q", r.PathValue("id"))
			return
		}
		writeJSON(w, http.StatusOK, rec)
	})
	mux.HandleFunc("GET /teardowns", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Teardowns())
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allow, ok := adminRoutes[r.URL.Path]; ok {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, "%s %s: method not allowed (allowed: %s)", r.Method, r.URL.Path, allow)
			return
		}
		writeError(w, http.StatusNotFound, "no such admin route %s %s (routes: POST /switch, /suspend, /resume, /expire, /faults; DELETE /faults; GET /faults, /stats, /metrics, /teardowns, /queries/{id})", r.Method, r.URL.Path)
	})
	if s.cfg.AdminToken == "" {
		return mux
	}
	want := sha256.Sum256([]byte(s.cfg.AdminToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		// Hash both sides so the comparison takes the same time whatever
		// the length of the presented token.
		got := sha256.Sum256([]byte(tok))
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="e6sim"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong admin token (send Authorization: Bearer <token>)")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

var adminRoutes = map[string]string{
	"/teardowns": "GET",
	"/switch":    "POST",
	"/suspend":   "POST",
	"/resume":    "POST",
	"/expire":    "POST",
	"/faults":    "GET, POST, DELETE",
	"/stats":     "GET",
	"/metrics":   "GET",
}

func (s *Server) adminSwitch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	drain, err := durationParam(q.Get("drain"), DefaultAdminDrain)
	if err != nil {
		writeError(w, http.StatusBadRequest, "drain: %v", err)
		return
	}
	announce, err := durationParam(q.Get("announce"), 0)
	if err != nil {
		writeError(w, http.StatusBadRequest, "announce: %v", err)
		return
	}
	if err := s.Switch(r.Context(), drain, announce); err != nil {
		code := http.StatusServiceUnavailable
		if errors.Is(err, ErrClosed) {
			code = http.StatusGone
		}
		writeError(w, code, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"live": s.Live(), "draining": s.Draining()})
}

func durationParam(v string, def time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("want a duration such as 5s or 250ms, got %q", v)
	}
	if d < 0 {
		return 0, fmt.Errorf("must not be negative, got %q", v)
	}
	return d, nil
}

func (s *Server) adminSetFaults(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAdminBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "reading body: %v", err)
		return
	}
	var rules []FaultRule
	if err := json.Unmarshal(body, &rules); err != nil {
		// Also accept {"rules": [...]}.
		var wrapped struct {
			Rules []FaultRule `json:"rules"`
		}
		if err2 := json.Unmarshal(body, &wrapped); err2 != nil || wrapped.Rules == nil {
			writeError(w, http.StatusBadRequest, "want a JSON array of fault rules: %v", err)
			return
		}
		rules = wrapped.Rules
	}
	if err := s.SetFaults(rules); err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, s.Faults())
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, map[string]string{"error": fmt.Sprintf(format, args...)})
}
