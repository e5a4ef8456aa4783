package web_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEveryPageNameHasATemplate: every pageName constant names a file in
// templates/pages, every page template has a constant, and no handler
// names a page with a bare string (render, execute, formPage.Name,
// formDone.Page), so a mistyped page name cannot reach a request.
func TestEveryPageNameHasATemplate(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	names := map[string]string{} // page → constant
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				if id, ok := n.Type.(*ast.Ident); ok && id.Name == "pageName" {
					for i, v := range n.Values {
						if lit, ok := v.(*ast.BasicLit); ok {
							page, _ := strconv.Unquote(lit.Value)
							names[page] = n.Names[i].Name
						}
					}
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
					arg := map[string]int{"render": 2, "renderAround": 2, "execute": 0, "executeBlock": 0}
					if i, ok := arg[sel.Sel.Name]; ok && len(n.Args) > i {
						if _, ok := n.Args[i].(*ast.BasicLit); ok {
							t.Errorf("%s: %s names its page with a string; use a tpl… constant", fset.Position(n.Pos()), sel.Sel.Name)
						}
					}
				}
			case *ast.CompositeLit:
				if id, ok := n.Type.(*ast.Ident); ok && (id.Name == "formPage" || id.Name == "formDone") {
					for _, e := range n.Elts {
						if kv, ok := e.(*ast.KeyValueExpr); ok {
							key, _ := kv.Key.(*ast.Ident)
							if _, lit := kv.Value.(*ast.BasicLit); lit && key != nil && (key.Name == "Name" || key.Name == "Page") {
								t.Errorf("%s: %s.%s is a string; use a tpl… constant", fset.Position(kv.Pos()), id.Name, key.Name)
							}
						}
					}
				}
			}
			return true
		})
	}
	pages, err := os.ReadDir(filepath.Join("..", "..", "templates", "pages"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, p := range pages {
		name := strings.TrimSuffix(p.Name(), ".html")
		have[name] = true
		if _, ok := names[name]; !ok {
			t.Errorf("templates/pages/%s has no pageName constant", p.Name())
		}
	}
	for page, constant := range names {
		if !have[page] {
			t.Errorf("%s names %q, which is not in templates/pages", constant, page)
		}
	}
	if len(names) < 40 {
		t.Fatalf("only %d page names found: the test is not reading internal/web", len(names))
	}
}
