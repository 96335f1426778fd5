package e6data

import (
	"net/url"
	"strconv"
	"strings"
)

// The DSN:
//
//	e6data://user:token@host:port/database?key=value&key=value
//
// user and token are percent-encoded (an e-mail's '@' may stay as is: the
// last '@' before the host ends the user information); an IPv6 host is
// written in brackets; every setting of docs/configuration.md that is not
// part of the URL has a kebab-case query key. Empty URL parts are "not
// given" and leave the value of the lower layers.

// dsnParam is one key=value of the query, decoded.
type dsnParam struct {
	key, value string
	badEscape  bool // the value had an invalid %-escape
}

// dsnParts is a DSN split into its parts, before any value is interpreted.
type dsnParts struct {
	user, token, host, port, database string
	params                            []dsnParam
}

func dsnErr(key, value, expected string) *ConfigError {
	return &ConfigError{Key: key, Value: value, Expected: expected, Source: string(SourceDSN)}
}

const dsnShape = "a DSN of the form e6data://user:token@host:port/database?key=value"

// splitDSN splits a DSN into its parts. Its errors never contain the token:
// they name the part (scheme, userinfo, host, port, database, query) and
// show a value only where it cannot be secret.
func splitDSN(dsn string) (*dsnParts, error) {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return nil, dsnErr("scheme", "", dsnShape)
	}
	if !strings.EqualFold(scheme, "e6data") {
		shown := scheme
		if !validSchemeText(scheme) {
			shown = ""
		}
		return nil, dsnErr("scheme", shown, `the scheme "e6data" (`+dsnShape+")")
	}
	if strings.Contains(rest, "#") {
		return nil, dsnErr("fragment", "", "no '#' in a DSN: percent-encode it as %23 (in a token too)")
	}
	query := ""
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest, query = rest[:i], rest[i+1:]
	}
	authority, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	p := &dsnParts{}
	firstKey, _, _ := strings.Cut(query, "=")
	firstKey, _, _ = strings.Cut(firstKey, "&")
	if strings.Contains(path, "@") || strings.Contains(firstKey, "@") {
		// An '@' after the host: most likely a token with a raw '/' or '?'
		// that cut the URL short. Echo nothing of it.
		return nil, dsnErr("userinfo", "", "a percent-encoded user and token ('/' as %2F, '?' as %3F, '#' as %23) and no raw '@' in the database or query keys")
	}
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		userinfo := authority[:at]
		authority = authority[at+1:]
		rawUser, rawToken, _ := strings.Cut(userinfo, ":")
		u, err := url.PathUnescape(rawUser)
		if err != nil {
			return nil, dsnErr("user", "", "a percent-encoded user name (a '%' must be written %25)")
		}
		t, err := url.PathUnescape(rawToken)
		if err != nil {
			return nil, dsnErr("token", redactedValue, "a percent-encoded token (a '%' must be written %25)")
		}
		p.user, p.token = u, t
	}
	if err := p.splitHostPort(authority); err != nil {
		return nil, err
	}
	if len(path) > 1 {
		db, err := url.PathUnescape(path[1:])
		if err != nil {
			return nil, dsnErr("database", path[1:], "a percent-encoded database name")
		}
		p.database = db
	}
	for _, piece := range strings.Split(query, "&") {
		if piece == "" {
			continue
		}
		k, v, _ := strings.Cut(piece, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, dsnErr("query", k, "percent-encoded query keys")
		}
		val, err := url.QueryUnescape(v)
		p.params = append(p.params, dsnParam{key: key, value: val, badEscape: err != nil})
		if err != nil {
			p.params[len(p.params)-1].value = v
		}
	}
	return p, nil
}

func (p *dsnParts) splitHostPort(hp string) error {
	if hp == "" {
		return nil
	}
	if hp[0] == '[' {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return dsnErr("host", hp, "an IPv6 address closed by ']'")
		}
		h, err := url.PathUnescape(hp[1:end])
		if err != nil {
			return dsnErr("host", hp[1:end], "an IPv6 address, with a zone written %25zone")
		}
		if !strings.Contains(h, ":") {
			return dsnErr("host", h, "an IPv6 address inside brackets")
		}
		p.host = h
		rest := hp[end+1:]
		switch {
		case rest == "":
		case rest[0] == ':':
			p.port = rest[1:]
		default:
			return dsnErr("host", hp, "host:port, with an IPv6 address in brackets")
		}
		return nil
	}
	switch strings.Count(hp, ":") {
	case 0:
		p.host = hp
	case 1:
		p.host, p.port, _ = strings.Cut(hp, ":")
	default:
		return dsnErr("host", hp, "host:port, with an IPv6 address in brackets ([::1]:443)")
	}
	return nil
}

func (p *dsnParts) param(key string) (dsnParam, bool) {
	var found dsnParam
	ok := false
	for _, q := range p.params {
		if q.key == key || (settingByDSN[q.key] != nil && settingByDSN[q.key] == settingByDSN[key]) {
			found, ok = q, true
		}
	}
	return found, ok
}

func validSchemeText(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// FormatDSN writes the configuration as a DSN WITHOUT its secret: the
// token is left out (the user stays), so the text is safe to print, log or
// store. Settings equal to their default (under the configuration's
// profile) are omitted. ParseDSN of it reports the missing token; with the
// token from another layer it gives the configuration back:
// LoadConfig(c.FormatDSN(), []string{"E6DATA_PASSWORD=" + token}) equals c
// for every setting a DSN can express (all except TokenProvider, CAPEM,
// TLSConfig, Logger and DialOptions).
func (c *Config) FormatDSN() string { return c.formatDSN(dsnOmitSecrets) }

// FormatDSNWithSecrets is FormatDSN with the token included,
// percent-encoded: ParseDSN(c.FormatDSNWithSecrets()) gives c back. Its
// output IS A SECRET. It exists for the rare caller that must hand a
// complete DSN to another program; never print or log it (use String or
// FormatDSN for that).
func (c *Config) FormatDSNWithSecrets() string { return c.formatDSN(dsnWithSecrets) }

// dsnSecrets is how formatDSN writes secret settings.
type dsnSecrets int

const (
	dsnOmitSecrets dsnSecrets = iota // left out: a DSN that parses, without them
	dsnRedact                        // written as REDACTED: for display (String)
	dsnWithSecrets                   // written: the DSN round-trips; a secret itself
)

func (c *Config) formatDSN(secrets dsnSecrets) string {
	def := defaultsForProfile(c.Profile)
	token := c.Token
	if secrets == dsnOmitSecrets {
		token = ""
	}
	var b strings.Builder
	b.WriteString("e6data://")
	if c.User != "" || token != "" {
		b.WriteString(escapeDSN(c.User, "@"))
		if token != "" {
			b.WriteByte(':')
			if secrets == dsnRedact {
				b.WriteString("REDACTED")
			} else {
				b.WriteString(escapeDSN(token, ""))
			}
		}
		b.WriteByte('@')
	}
	b.WriteString(formatDSNHost(c.Host))
	if c.Port != def.Port {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(c.Port))
	}
	if c.Database != "" {
		b.WriteByte('/')
		b.WriteString(escapeDSN(c.Database, ""))
	}
	sep := byte('?')
	for _, s := range settingSpecs {
		if s.ptr == nil || s.urlPart() || s.same(c, def) {
			continue
		}
		v := s.format(s.get(c))
		if s.kind == kindSecret {
			switch secrets {
			case dsnOmitSecrets:
				continue
			case dsnRedact:
				v = "REDACTED"
			}
		}
		b.WriteByte(sep)
		sep = '&'
		b.WriteString(s.dsn)
		b.WriteByte('=')
		b.WriteString(escapeDSN(v, "/:"))
	}
	return b.String()
}

func formatDSNHost(h string) string {
	if !strings.Contains(h, ":") {
		return h
	}
	addr, zone, hasZone := strings.Cut(h, "%")
	if hasZone {
		return "[" + addr + "%25" + escapeDSN(zone, "") + "]"
	}
	return "[" + addr + "]"
}

// escapeDSN percent-encodes every byte but the unreserved ones of RFC 3986
// and those in keep.
func escapeDSN(s, keep string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
