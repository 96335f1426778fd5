package e6data

import (
	"errors"
	"strings"
	"testing"
)

// fuzzEnvNames is every variable the connector reads, the synonyms
// included, plus a typo and two names it must ignore.
func fuzzEnvNames() []string {
	return append(knownEnvNames(), "E6DATA_PASSWROD", "E6DATA_", "PATH")
}

// leafErrors flattens errors.Join trees.
func leafErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leafErrors(e)...)
		}
		return out
	}
	return []error{err}
}

// FuzzEnv: arbitrary values for arbitrary E6DATA_* variables (three picked
// from the list, plus one raw NAME=VALUE entry) never make LoadConfig
// panic; a failure is made of *ConfigErrors that each name a variable that
// was set (or the setting a rule between settings concerns) and never show
// the token; a success validates, keeps every setting inside its range and
// never prints the token.
func FuzzEnv(f *testing.F) {
	names := fuzzEnvNames()
	idx := func(name string) uint8 {
		for i, n := range names {
			if n == name {
				return uint8(i)
			}
		}
		panic(name)
	}
	f.Add(idx("E6DATA_PORT"), "443", idx("E6DATA_MAX_RETRY_ATTEMPTS"), "99", idx("E6DATA_RETRY_BACKOFF_FACTOR"), "0.001", "E6DATA_SECURE=yes")
	f.Add(idx("E6DATA_STRATEGY_VALIDATION"), "false", idx("E6DATA_PORT"), "x", idx("E6DATA_LOG_LEVEL"), "INFO+2", "E6DATA_PREFETCH=-5")
	f.Add(idx("E6DATA_PROFILE"), "production", idx("E6DATA_MIN_CONNECTIONS"), "50", idx("E6DATA_MAX_CONNECTIONS"), "3", "E6DATA_QUERY_TIMEOUT=1e400")
	f.Add(idx("E6DATA_HOST"), "[::1]", idx("E6DATA_CLUSTER_NAME"), "Prod", idx("E6DATA_CLUSTER_UUID"), "", "E6DATA_PASSWROD=typo")
	f.Add(idx("E6DATA_KEEPALIVE_TIME_MS"), "45s", idx("E6DATA_STRATEGY_CACHE_TIMEOUT"), "-1", idx("E6DATA_MAX_RECEIVE_MSG_LENGTH"), "99999999999999999999", "=")
	f.Add(idx("E6DATA_PASSWORD"), "", idx("E6DATA_USERNAME"), "", idx("E6DATA_CLIENT_CERT"), "/c.pem", "E6DATA_INSECURE_SKIP_VERIFY=1")
	f.Fuzz(func(t *testing.T, a uint8, va string, b uint8, vb string, c uint8, vc string, raw string) {
		env := baseEnv(
			names[int(a)%len(names)]+"="+va,
			names[int(b)%len(names)]+"="+vb,
			names[int(c)%len(names)]+"="+vc,
			raw,
		)
		set := map[string]string{}
		for _, kv := range env {
			if n, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(n, envPrefix) {
				set[n] = v
				if v == "" {
					delete(set, n)
				}
			}
		}
		// The same environment with another token: every text the
		// connector shows must be the same, or the token leaked into it.
		other := make([]string, len(env))
		for i, kv := range env {
			if strings.HasPrefix(kv, "E6DATA_PASSWORD=") && kv != "E6DATA_PASSWORD=" {
				kv = "E6DATA_PASSWORD=Q9-other-t0ken"
			}
			other[i] = kv
		}
		cfg, err := LoadConfig("", env)
		cfg2, err2 := LoadConfig("", other)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("the token's value changed the outcome: %v / %v", err, err2)
		}
		if err != nil {
			if err.Error() != err2.Error() {
				t.Fatalf("the error depends on the token %q:\n%v\n%v", set["E6DATA_PASSWORD"], err, err2)
			}
			for _, e := range leafErrors(err) {
				var ce *ConfigError
				if !errors.As(e, &ce) || !errors.Is(e, ErrConfig) {
					t.Fatalf("error %v (%T) is not a *ConfigError", e, e)
				}
				_, given := set[ce.Key]
				if !given && ce.Source != "missing" && settingByField[ce.Key] == nil && !strings.Contains(ce.Key, "/") {
					t.Fatalf("error %v names %q, which is neither a variable set (%v) nor a setting", e, ce.Key, set)
				}
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("loaded but does not validate: %v", err)
		}
		for _, s := range settingSpecs {
			if s.ptr == nil {
				continue
			}
			if exp := s.check(s.get(cfg)); exp != "" {
				t.Fatalf("%s = %v outside its range (%s)", s.field, s.get(cfg), exp)
			}
		}
		if cfg.MinConnections > cfg.MaxConnections {
			t.Fatalf("MinConnections %d > MaxConnections %d", cfg.MinConnections, cfg.MaxConnections)
		}
		texts := func(c *Config) []string {
			out := []string{c.String(), c.FormatDSN(), c.GoString()}
			for _, d := range c.Diagnostics() {
				out = append(out, d.String())
			}
			for _, st := range c.Settings() {
				out = append(out, st.Value)
			}
			return out
		}
		t1, t2 := texts(cfg), texts(cfg2)
		if len(t1) != len(t2) {
			t.Fatalf("the token changed the diagnostics: %q / %q", t1, t2)
		}
		for i := range t1 {
			if t1[i] != t2[i] {
				t.Fatalf("a text depends on the token:\n%s\n%s", t1[i], t2[i])
			}
		}
	})
}
