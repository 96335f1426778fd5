//go:build cgo

package engine

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Users maps a user name to its access token. A nil or empty Users accepts
// any non-empty user with any non-empty token.
type Users map[string]string

// maxCredentialLen bounds user names and tokens; longer ones never match.
const maxCredentialLen = 4096

// LoadUsers reads a users file: one "user token" pair per line, separated by
// white space. Blank lines and lines starting with '#' are ignored. Errors
// name the file and line. A file that defines no user is an error (an empty
// Users would accept everyone, which is never what a users file means).
func LoadUsers(path string) (Users, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	defer f.Close()
	u := Users{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) != 2 {
			return nil, fmt.Errorf("users file %s line %d: want \"user token\", found %d fields", path, line, len(fields))
		}
		user, token := fields[0], fields[1]
		if len(user) > maxCredentialLen || len(token) > maxCredentialLen {
			return nil, fmt.Errorf("users file %s line %d: user or token longer than %d bytes", path, line, maxCredentialLen)
		}
		if _, dup := u[user]; dup {
			return nil, fmt.Errorf("users file %s line %d: user %q defined twice", path, line, user)
		}
		u[user] = token
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("users file %s line %d: %w", path, line+1, err)
	}
	if len(u) == 0 {
		return nil, errors.New("users file " + path + ": defines no user")
	}
	return u, nil
}

// Check reports whether user and token are valid. Empty values never are.
// Tokens are compared in constant time (over their SHA-256 digests, so the
// comparison does not reveal the token length either), and an unknown user
// costs the same as a wrong token.
func (u Users) Check(user, token string) bool {
	if user == "" || token == "" || len(user) > maxCredentialLen || len(token) > maxCredentialLen {
		return false
	}
	if len(u) == 0 {
		return true
	}
	want, ok := u[user]
	if !ok {
		want = "\x00no such user\x00"
	}
	a := sha256.Sum256([]byte(want))
	b := sha256.Sum256([]byte(token))
	match := subtle.ConstantTimeCompare(a[:], b[:]) == 1
	return ok && match
}
