package e6data

import (
	"os"
	"sort"
	"strings"
)

// envPrefix starts every variable the connector reads; an unknown variable
// with this prefix is reported as a likely typo.
const envPrefix = "E6DATA_"

// envVars holds the E6DATA_* variables of an environment: the last
// assignment of a name wins, and an empty value counts as unset (shells
// export empty variables freely).
type envVars map[string]string

func collectEnv(environ []string) envVars {
	env := envVars{}
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, envPrefix) {
			continue
		}
		if value == "" {
			delete(env, name)
			continue
		}
		env[name] = value
	}
	return env
}

func (e envVars) get(name string) (string, bool) {
	v, ok := e[name]
	return v, ok
}

// sortedNames returns the variable names in order, for deterministic
// diagnostics.
func (e envVars) sortedNames() []string {
	names := make([]string, 0, len(e))
	for n := range e {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func osEnviron() []string { return os.Environ() }

// knownEnvNames lists every variable the connector reads.
func knownEnvNames() []string {
	var names []string
	for _, s := range settingSpecs {
		if s.env != "" {
			names = append(names, s.env)
		}
		names = append(names, s.envAlt...)
	}
	return names
}

// knownDSNKeys lists every DSN query key.
func knownDSNKeys() []string {
	var keys []string
	for _, s := range settingSpecs {
		if s.dsn != "" && !s.urlPart() {
			keys = append(keys, s.dsn)
		}
		keys = append(keys, s.dsnAlt...)
	}
	return keys
}

// nearestName returns the candidate closest to name by edit distance
// (ignoring case and the difference between '_' and '-'), or "" when none is close enough to be a likely typo.
func nearestName(name string, candidates []string) string {
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "_", "-") }
	n := norm(name)
	best, bestD := "", -1
	for _, c := range candidates {
		d := editDistance(n, norm(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if limit := max(2, (len(n)+2)/3); bestD >= 0 && bestD <= limit {
		return best
	}
	// No close spelling: a candidate sharing most of the name's beginning
	// (MAX_RETRIES -> MAX_RETRY_ATTEMPTS) is still a likely intent.
	best, bestP := "", 0
	for _, c := range candidates {
		p := commonPrefixLen(n, norm(c))
		if p > bestP {
			best, bestP = c, p
		}
	}
	if bestP >= 4 && bestP*10 >= len(n)*6 {
		return best
	}
	return ""
}

func commonPrefixLen(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
