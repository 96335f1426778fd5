package e6data

import (
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/e6go/e6data/internal/enginepb"
)

// scanPlaceholders calls f with the byte offset of every '?' placeholder in
// query: outside '...' strings (E'...' with backslash escapes too), "..."
// and `...` quoted identifiers, $tag$...$tag$ dollar-quoted strings, --
// line comments and /* */ block comments (which nest).
func scanPlaceholders(query string, f func(i int)) {
	for i := 0; i < len(query); i++ {
		switch c := query[i]; c {
		case '\'', '"', '`':
			escapes := c == '\'' && i > 0 && (query[i-1] == 'E' || query[i-1] == 'e') && (i == 1 || !isIdentByte(query[i-2]))
			for i++; i < len(query); i++ {
				if escapes && query[i] == '\\' {
					i++ // the escaped character, whatever it is
					continue
				}
				if query[i] == c {
					if i+1 < len(query) && query[i+1] == c { // doubled quote
						i++
						continue
					}
					break
				}
			}
		case '$':
			if i > 0 && isIdentByte(query[i-1]) {
				continue
			}
			tag, ok := dollarTag(query[i:])
			if !ok {
				continue
			}
			end := strings.Index(query[i+len(tag):], tag)
			if end < 0 {
				return // unterminated: the rest is quoted
			}
			i += len(tag) + end + len(tag) - 1
		case '-':
			if i+1 < len(query) && query[i+1] == '-' {
				for i < len(query) && query[i] != '\n' {
					i++
				}
			}
		case '/':
			if i+1 < len(query) && query[i+1] == '*' {
				depth := 1
				for i += 2; i < len(query) && depth > 0; i++ {
					switch {
					case query[i] == '*' && i+1 < len(query) && query[i+1] == '/':
						depth--
						i++
					case query[i] == '/' && i+1 < len(query) && query[i+1] == '*':
						depth++
						i++
					}
				}
				if depth > 0 {
					return // unterminated: the rest is a comment
				}
				i-- // on the comment's last byte
			}
		case '?':
			f(i)
		}
	}
}

// dollarTag returns the opening delimiter of a dollar-quoted string ("$$"
// or "$tag$") at the start of s.
func dollarTag(s string) (string, bool) {
	for j := 1; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '$':
			return s[:j+1], true
		case c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80:
		case '0' <= c && c <= '9' && j > 1:
		default:
			return "", false
		}
	}
	return "", false
}

func isIdentByte(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c >= 0x80
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

// appendLiteral writes the SQL literal for v. Negative numbers are
// parenthesized (so "10-?" never becomes the comment "10--5"); floats and
// decimals are cast from their exact text, so the server parses them at
// their own precision (no detour through another type).
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
		appendSigned(b, strconv.FormatInt(x, 10))
	case int32:
		appendSigned(b, strconv.FormatInt(int64(x), 10))
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
		if strings.IndexByte(x, 0) >= 0 {
			appendWithNUL(b, x)
			return nil
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
		return appendDecimal(b, x)
	default:
		return fmt.Errorf("unsupported type %T", v)
	}
	return nil
}

// appendSigned writes an integer literal, parenthesized when negative.
func appendSigned(b *strings.Builder, s string) {
	if strings.HasPrefix(s, "-") {
		b.WriteByte('(')
		b.WriteString(s)
		b.WriteByte(')')
		return
	}
	b.WriteString(s)
}

// maxHugeint is 2^127-1, the largest integer DuckDB keeps exact as an
// untyped literal beyond 38 digits.
var maxHugeint, _ = new(big.Int).SetString("170141183460469231731687303715884105727", 10)

// appendDecimal writes d as CAST('d' AS DECIMAL(p,s)): its exact value and
// scale. DECIMAL128 holds 38 digits; a wider integer within the 128-bit
// range is written as a plain literal, anything else is refused.
func appendDecimal(b *strings.Builder, x Decimal) error {
	d, err := ParseDecimal(string(x))
	if err != nil {
		return err
	}
	digits := strings.TrimPrefix(string(d), "-")
	intPart, frac, _ := strings.Cut(digits, ".")
	prec := max(len(strings.TrimLeft(intPart, "0"))+len(frac), 1)
	if prec <= 38 {
		fmt.Fprintf(b, "CAST('%s' AS DECIMAL(%d,%d))", d, prec, len(frac))
		return nil
	}
	if n, ok := new(big.Int).SetString(string(d), 10); ok && frac == "" && n.CmpAbs(maxHugeint) <= 0 {
		appendSigned(b, string(d))
		return nil
	}
	return fmt.Errorf("decimal %s has %d significant digits; DECIMAL128 holds at most 38", x, prec)
}

func appendFloat(b *strings.Builder, f float64, bits int, typ string) error {
	b.WriteString("CAST('")
	switch {
	case math.IsNaN(f):
		b.WriteString("NaN")
	case math.IsInf(f, 1):
		b.WriteString("Infinity")
	case math.IsInf(f, -1):
		b.WriteString("-Infinity")
	default:
		b.WriteString(strconv.FormatFloat(f, 'g', -1, bits))
	}
	b.WriteString("' AS ")
	b.WriteString(typ)
	b.WriteByte(')')
	return nil
}

// appendWithNUL writes a string holding NUL bytes. A NUL cannot travel
// inside a quoted literal (DuckDB's parser ends the text there, other
// engines refuse it), so the string is written as a parenthesized
// concatenation of quoted pieces and chr(0): "a\x00b" becomes
// ('a' || chr(0) || 'b'). chr and || are standard in DuckDB and in the
// Presto/Trino dialect of e6data; the result is VARCHAR like any other
// string literal. Only strings that contain a NUL take this form.
//
// A long chain a || b || c ... is a left-deep expression as deep as it is
// long, and engines bound the depth (DuckDB: 1000), so more than
// nulChainMax parts are grouped into a balanced tree of parenthesized
// chains: the depth grows with the logarithm of the number of NULs.
func appendWithNUL(b *strings.Builder, s string) {
	var parts []string // "" stands for a NUL, anything else is text
	for {
		i := strings.IndexByte(s, 0)
		if i < 0 {
			break
		}
		if i > 0 {
			parts = append(parts, s[:i])
		}
		parts = append(parts, "")
		s = s[i+1:]
	}
	if s != "" {
		parts = append(parts, s)
	}
	appendNULTree(b, parts)
}

const nulChainMax = 16

func appendNULTree(b *strings.Builder, parts []string) {
	b.WriteByte('(')
	if len(parts) <= nulChainMax {
		for i, p := range parts {
			if i > 0 {
				b.WriteString(" || ")
			}
			if p == "" {
				b.WriteString("chr(0)")
			} else {
				appendQuoted(b, p)
			}
		}
	} else {
		// nulChainMax groups, each a balanced subtree.
		size := (len(parts) + nulChainMax - 1) / nulChainMax
		for i := 0; i < len(parts); i += size {
			if i > 0 {
				b.WriteString(" || ")
			}
			appendNULTree(b, parts[i:min(i+size, len(parts))])
		}
	}
	b.WriteByte(')')
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

// serverParams turns positional arguments into executeStatementV2 params.
func serverParams(args []driver.NamedValue) ([]*enginepb.ParameterValue, error) {
	out := make([]*enginepb.ParameterValue, 0, len(args))
	for i, a := range args {
		typ, val, err := paramTypeValue(a.Value)
		if err != nil {
			return nil, fmt.Errorf("e6data: parameter %d: %w", i+1, err)
		}
		out = append(out, &enginepb.ParameterValue{Index: int32(i + 1), Type: typ, Value: val})
	}
	return out, nil
}

func paramTypeValue(v any) (typ, val string, err error) {
	switch x := v.(type) {
	case nil:
		return "NULL", "", nil
	case bool:
		return "BOOLEAN", strconv.FormatBool(x), nil
	case int64:
		return "LONG", strconv.FormatInt(x, 10), nil
	case int32:
		return "INTEGER", strconv.FormatInt(int64(x), 10), nil
	case uint64:
		return "DECIMAL128", strconv.FormatUint(x, 10), nil
	case float64:
		return "DOUBLE", strconv.FormatFloat(x, 'g', -1, 64), nil
	case float32:
		return "FLOAT", strconv.FormatFloat(float64(x), 'g', -1, 32), nil
	case string:
		if !utf8.ValidString(x) {
			return "", "", fmt.Errorf("string is not valid UTF-8 (pass binary data as []byte, with client-side parameters)")
		}
		return "STRING", x, nil
	case []byte:
		if x == nil {
			return "NULL", "", nil
		}
		// ParameterValue.value is a protobuf string: it cannot carry
		// arbitrary bytes, and no encoding of them is agreed with servers.
		return "", "", fmt.Errorf("[]byte cannot be sent as a server-side parameter (use client-side parameters, the default)")
	case time.Time:
		return "DATETIME", x.UTC().Format("2006-01-02 15:04:05.999999"), nil
	case Decimal:
		return "DECIMAL128", string(x), nil
	}
	return "", "", fmt.Errorf("unsupported type %T", v)
}
