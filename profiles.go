package e6data

// Named profiles: the three example configurations of the e6data
// configuration guide, offered as sets of defaults. A profile replaces the
// built-in defaults of the settings it names; anything set explicitly (in
// the environment, the DSN or code) still wins.

const (
	profileDevelopment     = "development"
	profileProduction      = "production"
	profileHighPerformance = "high-performance"
)

// profileNames lists the valid profile names, in documentation order.
var profileNames = []string{profileDevelopment, profileProduction, profileHighPerformance}

// profileValue is one setting of a profile, in environment-variable form.
type profileValue struct{ env, value string }

// profileValues are the values of each profile (see docs/configuration.md, Profiles).
var profileValues = map[string][]profileValue{
	profileDevelopment: {
		{"E6DATA_STRATEGY_CACHE_TIMEOUT", "60"},
		{"E6DATA_MAX_RETRY_ATTEMPTS", "3"},
		{"E6DATA_LOG_LEVEL", "DEBUG"},
		{"E6DATA_STRATEGY_LOG_LEVEL", "DEBUG"},
		{"E6DATA_KEEPALIVE_TIMEOUT_MS", "30000"},
		{"E6DATA_KEEPALIVE_TIME_MS", "15000"},
		{"E6DATA_MAX_RECEIVE_MSG_LENGTH", "52428800"},
		{"E6DATA_MAX_SEND_MSG_LENGTH", "52428800"},
		{"E6DATA_PREPARE_TIMEOUT", "300"},
	},
	profileProduction: {
		{"E6DATA_STRATEGY_CACHE_TIMEOUT", "300"},
		{"E6DATA_MAX_RETRY_ATTEMPTS", "5"},
		{"E6DATA_LOG_LEVEL", "INFO"},
		{"E6DATA_STRATEGY_LOG_LEVEL", "INFO"},
		{"E6DATA_GRPC_LOG_LEVEL", "WARNING"},
		{"E6DATA_KEEPALIVE_TIMEOUT_MS", "90000"},
		{"E6DATA_KEEPALIVE_TIME_MS", "45000"},
		{"E6DATA_MAX_RECEIVE_MSG_LENGTH", "209715200"},
		{"E6DATA_MAX_SEND_MSG_LENGTH", "209715200"},
		{"E6DATA_PREPARE_TIMEOUT", "900"},
		{"E6DATA_AUTO_RESUME_TIMEOUT", "600"},
		{"E6DATA_SECURE", "true"},
	},
	profileHighPerformance: {
		{"E6DATA_STRATEGY_CACHE_TIMEOUT", "600"},
		{"E6DATA_MAX_RETRY_ATTEMPTS", "3"},
		{"E6DATA_RETRY_BACKOFF_FACTOR", "0.1"},
		{"E6DATA_KEEPALIVE_TIMEOUT_MS", "120000"},
		{"E6DATA_KEEPALIVE_TIME_MS", "60000"},
		{"E6DATA_MAX_RECEIVE_MSG_LENGTH", "524288000"},
		{"E6DATA_MAX_SEND_MSG_LENGTH", "524288000"},
		{"E6DATA_PREPARE_TIMEOUT", "1800"},
		{"E6DATA_MAX_CONNECTIONS", "20"},
		{"E6DATA_CONNECTION_TIMEOUT", "60"},
	},
}

// profileList returns the names of the profiles: development, production,
// high-performance.
func profileList() []string { return append([]string(nil), profileNames...) }

// profileSettings returns the settings a profile changes, as environment
// variable -> value; ok is false for an unknown profile.
func profileSettings(name string) (values map[string]string, ok bool) {
	pv, ok := profileValues[name]
	if !ok {
		return nil, false
	}
	values = make(map[string]string, len(pv))
	for _, v := range pv {
		values[v.env] = v.value
	}
	return values, true
}

// applyProfile sets the profile's values on every field whose value is
// still a default or came from an earlier profile; fields that came from an
// earlier profile but that this one does not name return to the built-in
// default. Explicit settings (env, DSN, code) are left alone.
func applyProfile(c *Config, name string) {
	def := DefaultConfig()
	for _, s := range settingSpecs {
		if s.ptr != nil && c.sources[s.field] == SourceProfile {
			s.set(c, s.get(def))
			delete(c.sources, s.field)
			delete(c.keys, s.field)
		}
	}
	for _, pv := range profileValues[name] {
		s := settingByEnv[pv.env]
		if src := c.sourceOf(s.field); src != SourceDefault {
			continue
		}
		v, _, ok := s.parse(pv.value)
		if !ok {
			panic("e6data: bad profile value " + pv.env + "=" + pv.value)
		}
		s.set(c, v)
		c.sources[s.field] = SourceProfile
		c.keys[s.field] = "profile " + name
	}
}

// defaultsForProfile is DefaultConfig with the profile applied: the values
// FormatDSN may omit and Settings reports as defaults.
func defaultsForProfile(name string) *Config {
	c := DefaultConfig()
	if _, ok := profileValues[name]; ok {
		c.sources = map[string]Source{}
		c.keys = map[string]string{}
		applyProfile(c, name)
	}
	c.sources, c.keys = nil, nil
	return c
}
