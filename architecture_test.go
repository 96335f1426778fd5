package e6data

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strings"
	"testing"
)

// archStep is one step of docs/architecture.md's query path:
// "N. `file.go:Func`" or "N. `file.go:recv.Method`".
var archStep = regexp.MustCompile("^[0-9]+\\. `([^`:]+\\.go):([A-Za-z_][A-Za-z0-9_.]*)`")

// TestArchitecturePath keeps docs/architecture.md's query path true: each
// step names a function or method that exists in the file it names, and no
// file appears twice.
func TestArchitecturePath(t *testing.T) {
	f, err := os.Open("docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var steps [][2]string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## One query's path"
			continue
		}
		if m := archStep.FindStringSubmatch(line); in && m != nil {
			steps = append(steps, [2]string{m[1], m[2]})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(steps) < 5 {
		t.Fatalf("found %d steps under \"## One query's path\" in docs/architecture.md, want the path", len(steps))
	}
	seen := map[string]int{}
	for i, st := range steps {
		file, name := st[0], st[1]
		if prev, ok := seen[file]; ok {
			t.Errorf("step %d returns to %s, already visited at step %d", i+1, file, prev)
		}
		seen[file] = i + 1
		if !declares(t, file, name) {
			t.Errorf("step %d: %s has no function %s", i+1, file, name)
		}
	}
}

// declares reports whether the Go file at path declares the function name
// ("Func") or method ("Type.Method").
func declares(t *testing.T, path, name string) bool {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return false
	}
	recv, fn, isMethod := strings.Cut(name, ".")
	if !isMethod {
		recv, fn = "", name
	}
	for _, d := range file.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Name.Name != fn {
			continue
		}
		if recvName(fd) == recv {
			return true
		}
	}
	return false
}

// recvName is the receiver's type name of a method, "" for a function.
func recvName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return ""
	}
	typ := fd.Recv.List[0].Type
	if star, ok := typ.(*ast.StarExpr); ok {
		typ = star.X
	}
	if idx, ok := typ.(*ast.IndexExpr); ok {
		typ = idx.X
	}
	if id, ok := typ.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}
