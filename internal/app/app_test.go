package app_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStoresAreBuiltOnlyByTheirConstructors: a store (a type named Store)
// is built only by its package's NewStore, and the stores are wired once,
// in app.New. A struct literal elsewhere, in code or tests, would be a
// second wiring that can miss a dependency (a store without its vault or
// audit log).
func TestStoresAreBuiltOnlyByTheirConstructors(t *testing.T) {
	root := filepath.Join("..", "..")
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked++
		rel, _ := filepath.Rel(root, path)
		for _, at := range storeLiterals(t, rel, src) {
			t.Errorf("%s builds a store with a struct literal; use its NewStore (wired in internal/app)", at)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("only %d Go files checked: the walk is not looking at the repository", checked)
	}
}

// TestTheGuardSeesStoreLiterals keeps the guard able to fail.
func TestTheGuardSeesStoreLiterals(t *testing.T) {
	for _, src := range []string{
		"package x\nfunc f() { _ = &homework.Store{DB: d} }",
		"package x\nvar s = checkin.Store{}",
		"package homework\nfunc f() *Store { return &Store{DB: d} }",
	} {
		if len(storeLiterals(t, "x.go", []byte(src))) != 1 {
			t.Errorf("the guard misses the literal in %q", src)
		}
	}
	ok := "package homework\nfunc NewStore(d *sqlx.DB) *Store { return &Store{DB: d} }"
	if got := storeLiterals(t, "x.go", []byte(ok)); len(got) != 0 {
		t.Errorf("the guard refuses the constructor: %v", got)
	}
}

// storeLiterals returns where src builds a Store with a composite literal
// outside a function named NewStore.
func storeLiterals(t *testing.T, name string, src []byte) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var found []string
	var inConstructor bool
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			if n.Body != nil {
				inConstructor = n.Name.Name == "NewStore" && n.Recv == nil
				ast.Inspect(n.Body, visit)
				inConstructor = false
			}
			return false
		case *ast.CompositeLit:
			if isStore(n.Type) && !inConstructor {
				found = append(found, fset.Position(n.Pos()).String())
			}
		}
		return true
	}
	ast.Inspect(f, visit)
	return found
}

func isStore(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name == "Store"
	case *ast.SelectorExpr:
		return e.Sel.Name == "Store"
	}
	return false
}
