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
		token := set["E6DATA_PASSWORD"]
		secret := func(s string) bool {
			return len(token) >= minSecretLen && strings.Contains(s, token)
		}
		cfg, err := LoadConfig("", env)
		if err != nil {
			if secret(err.Error()) {
				t.Fatalf("error shows the token %q: %v", token, err)
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
		texts := []string{cfg.String(), cfg.FormatDSN()}
		for _, d := range cfg.Diagnostics() {
			texts = append(texts, d.String())
		}
		if token != testToken { // baseEnv's token was overridden
			d := cfg.Clone()
			d.Token += "x"
			if cfg.String() != d.String() {
				t.Fatalf("String depends on the token")
			}
		} else {
			for _, s := range texts {
				if secret(s) {
					t.Fatalf("the token shows in %q", s)
				}
			}
		}
	})
}
