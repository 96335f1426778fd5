package main

import "strings"

// splitStatements cuts src at the semicolons that end statements: those
// outside 'string literals', "quoted" and `quoted` identifiers (a doubled
// quote stays inside), -- line comments and /* block comments */. It
// returns the complete statements, trimmed and without their semicolon
// (statements holding only comments and blanks are dropped), and the
// unterminated rest without its leading blanks ("" when it holds only
// comments and blanks; its trailing text is kept as is, since it may end
// inside a quoted literal).
func splitStatements(src string) (stmts []string, rest string) {
	const (
		normal = iota
		quoted
		lineComment
		blockComment
	)
	state, quote := normal, byte(0)
	start, code := 0, false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch state {
		case quoted:
			if c == quote {
				if i+1 < len(src) && src[i+1] == quote {
					i++ // doubled quote
					continue
				}
				state = normal
			}
		case lineComment:
			if c == '\n' {
				state = normal
			}
		case blockComment:
			if c == '*' && i+1 < len(src) && src[i+1] == '/' {
				i++
				state = normal
			}
		default:
			switch {
			case c == '\'' || c == '"' || c == '`':
				state, quote, code = quoted, c, true
			case c == '-' && i+1 < len(src) && src[i+1] == '-':
				state = lineComment
				i++
			case c == '/' && i+1 < len(src) && src[i+1] == '*':
				state = blockComment
				i++
			case c == ';':
				if code {
					stmts = append(stmts, strings.TrimSpace(src[start:i]))
				}
				start, code = i+1, false
			case c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v':
				code = true
			}
		}
	}
	if code || state == quoted {
		rest = strings.TrimLeft(src[start:], " \t\n\r\f\v")
	}
	return stmts, rest
}
