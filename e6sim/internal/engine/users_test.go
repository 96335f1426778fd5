//go:build cgo

package engine

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

func TestUsersCheck(t *testing.T) {
	u := Users{"alice": "tok-A", "bob": "tok-B"}
	for _, c := range []struct {
		user, token string
		want        bool
	}{
		{"alice", "tok-A", true},
		{"bob", "tok-B", true},
		{"alice", "tok-B", false},                // another user's token
		{"alice", "tok-", false},                 // a prefix
		{"alice", "tok-AA", false},               // longer
		{"alice", "TOK-A", false},                // case matters
		{"alice", "", false},                     // empty token
		{"", "tok-A", false},                     // empty user
		{"carol", "tok-A", false},                // unknown user
		{"carol", "\x00no such user\x00", false}, // the stand-in for unknown users
		{"alice", strings.Repeat("x", maxCredentialLen+1), false},
	} {
		if got := u.Check(c.user, c.token); got != c.want {
			t.Errorf("Check(%q, %.20q) = %v, want %v", c.user, c.token, got, c.want)
		}
	}
	// No users: any non-empty pair, within the length bound.
	var open Users
	if !open.Check("x", "y") || open.Check("x", "") || open.Check("", "y") ||
		open.Check("x", strings.Repeat("y", maxCredentialLen+1)) {
		t.Error("an empty Users must accept exactly the non-empty pairs")
	}
}

// TestUsersCheckIsConstantTime cannot measure time reliably; it checks the
// structure that makes the comparison constant-time instead: Check hashes
// both tokens to fixed-length SHA-256 digests and compares them with
// crypto/subtle, and never compares a token with == or !=.
func TestUsersCheckIsConstantTime(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "users.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var check *ast.FuncDecl
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == "Check" {
			check = fd
		}
	}
	if check == nil {
		t.Fatal("no Check in users.go")
	}
	calls := map[string]int{}
	ast.Inspect(check.Body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.CallExpr:
			if sel, ok := x.Fun.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok {
					calls[id.Name+"."+sel.Sel.Name]++
				}
			}
		case *ast.BinaryExpr:
			if x.Op == token.EQL || x.Op == token.NEQ {
				for _, side := range []ast.Expr{x.X, x.Y} {
					if id, ok := side.(*ast.Ident); ok && (id.Name == "token" || id.Name == "want") {
						if lit, ok := other(x, side).(*ast.BasicLit); ok && lit.Value == `""` {
							continue // the emptiness check
						}
						t.Errorf("%s: a token compared with %s", fset.Position(x.Pos()), x.Op)
					}
				}
			}
		}
		return true
	})
	if calls["subtle.ConstantTimeCompare"] != 1 || calls["sha256.Sum256"] != 2 {
		t.Errorf("Check should hash both tokens and compare the digests with subtle.ConstantTimeCompare: %v", calls)
	}
}

func other(b *ast.BinaryExpr, side ast.Expr) ast.Expr {
	if side == b.X {
		return b.Y
	}
	return b.X
}
