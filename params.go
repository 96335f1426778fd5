package e6data

import (
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// scanPlaceholders calls f with the byte offset of every '?' placeholder in
// query: outside '...' strings, "..." and `...` quoted identifiers, -- line
// comments and /* */ block comments.
func scanPlaceholders(query string, f func(i int)) {
	for i := 0; i < len(query); i++ {
		switch c := query[i]; c {
		case '\'', '"', '`':
			for i++; i < len(query); i++ {
				if query[i] == c {
					if i+1 < len(query) && query[i+1] == c { // doubled quote
						i++
						continue
					}
					break
				}
			}
		case '-':
			if i+1 < len(query) && query[i+1] == '-' {
				for i < len(query) && query[i] != '\n' {
					i++
				}
			}
		case '/':
			if i+1 < len(query) && query[i+1] == '*' {
				end := strings.Index(query[i+2:], "*/")
				if end < 0 {
					return
				}
				i += end + 3
			}
		case '?':
			f(i)
		}
	}
}

func countPlaceholders(query string) int {
	n := 0
	scanPlaceholders(query, func(int) { n++ })
	return n
}

// interpolate replaces each '?' of query with the SQL literal of the
// matching argument. This is what real e6data clusters accept (the Python
// connector does the same); the rendering is exact for every type the
// connector reads back.
func interpolate(query string, args []driver.NamedValue) (string, error) {
	var b strings.Builder
	b.Grow(len(query) + 16*len(args))
	last, n := 0, 0
	var err error
	scanPlaceholders(query, func(i int) {
		if err != nil {
			return
		}
		if n >= len(args) {
			n++
			return
		}
		b.WriteString(query[last:i])
		err = appendLiteral(&b, args[n].Value)
		if err != nil {
			err = fmt.Errorf("e6data: parameter %d: %w", n+1, err)
		}
		last = i + 1
		n++
	})
	if err != nil {
		return "", err
	}
	if n != len(args) {
		return "", fmt.Errorf("e6data: the statement has %d '?' placeholders but %d arguments were given", n, len(args))
	}
	b.WriteString(query[last:])
	return b.String(), nil
}

// appendLiteral writes the SQL literal for v.
func appendLiteral(b *strings.Builder, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("NULL")
	case bool:
		if x {
			b.WriteString("TRUE")
		} else {
			b.WriteString("FALSE")
		}
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case float64:
		return appendFloat(b, x, 64, "DOUBLE")
	case float32:
		return appendFloat(b, float64(x), 32, "FLOAT")
	case string:
		if !utf8.ValidString(x) {
			return fmt.Errorf("string is not valid UTF-8 (pass binary data as []byte)")
		}
		appendQuoted(b, x)
	case []byte:
		if x == nil {
			b.WriteString("NULL")
			return nil
		}
		b.WriteString("from_hex('")
		b.WriteString(hex.EncodeToString(x))
		b.WriteString("')")
	case time.Time:
		b.WriteString("TIMESTAMP '")
		b.WriteString(x.UTC().Format("2006-01-02 15:04:05.999999"))
		b.WriteByte('\'')
	case Decimal:
		d, err := ParseDecimal(string(x))
		if err != nil {
			return err
		}
		b.WriteString(string(d))
	default:
		return fmt.Errorf("unsupported type %T", v)
	}
	return nil
}

func appendFloat(b *strings.Builder, f float64, bits int, typ string) error {
	b.WriteString("CAST(")
	switch {
	case math.IsNaN(f):
		b.WriteString("'NaN'")
	case math.IsInf(f, 1):
		b.WriteString("'Infinity'")
	case math.IsInf(f, -1):
		b.WriteString("'-Infinity'")
	default:
		b.WriteString(strconv.FormatFloat(f, 'g', -1, bits))
	}
	b.WriteString(" AS ")
	b.WriteString(typ)
	b.WriteByte(')')
	return nil
}

// appendQuoted writes s as a standard SQL string literal: quotes doubled,
// everything else (backslashes included) taken literally.
func appendQuoted(b *strings.Builder, s string) {
	b.WriteByte('\'')
	for {
		i := strings.IndexByte(s, '\'')
		if i < 0 {
			break
		}
		b.WriteString(s[:i+1])
		b.WriteByte('\'')
		s = s[i+1:]
	}
	b.WriteString(s)
	b.WriteByte('\'')
}
