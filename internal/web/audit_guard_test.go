package web_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/audit"
)

// handlerAuditEntries are the only audit entries a handler in internal/web
// may write itself, each with why: none records a change to a store's rows,
// so there is no change transaction to write it in. Every entry for a
// change is written by the store, in the change's transaction. The key is
// the entry's Action or, where the action is not a literal at the call,
// "func:" and the function that writes it.
var handlerAuditEntries = map[string]string{
	// Reads of clinical text and of a pair's records: nothing changes.
	"assignment.read": "staff opened the homework page with the counselor's note",
	"pair.read":       "staff opened the pair page",
	// Refusals: nothing changes.
	"password_reset.throttled": "a reset request refused by the per-address limit, before any account is looked up",
	"func:auditDenied":         "route.denied: casbin or a store refused the request",
	"func:auditFailure":        "a wrong or throttled second-factor code",
	// Sign-in events: the session is written by scs's own store when the
	// request ends, in no transaction a Mend store holds; the entry is
	// written once the session is set up.
	"login":                     "a password sign-in",
	"logout":                    "a sign-out (written even if it then fails)",
	"func:completeSecondFactor": "login.mfa and login.mfa_recovery: a sign-in completed with a second factor",
}

// auditReads are the audit log's methods that write nothing.
var auditReads = map[string]bool{"Recent": true, "Search": true, "Actions": true, "Export": true}

// TestHandlersWriteNoAuditEntryForAChange fails when a handler writes an
// audit entry (through the audit log's Record or RecordClients, or
// audit.Append) that is not a named read, refusal or sign-in above: the
// entry for a change belongs in the store's transaction, so that a failure
// between the two cannot lose it. It also fails on a name above that no
// handler writes any more, so that the list stays true.
func TestHandlersWriteNoAuditEntryForAChange(t *testing.T) {
	writes := map[string]bool{}
	lt := reflect.TypeOf(&audit.Log{})
	for i := range lt.NumMethod() {
		if name := lt.Method(i).Name; !auditReads[name] {
			writes[name] = true
		}
	}
	if !writes["Record"] || !writes["RecordClients"] {
		t.Fatalf("the audit log's write methods moved: %v", writes)
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	seen := map[string]bool{}
	var bad []string
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, path, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || !writesAudit(call, writes) {
					return true
				}
				key := "func:" + fn.Name.Name
				if action, ok := entryAction(call); ok {
					key = action
				}
				seen[key] = true
				if _, ok := handlerAuditEntries[key]; !ok {
					bad = append(bad, fset.Position(call.Pos()).String()+": "+key)
				}
				return true
			})
		}
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Errorf("%s: a handler writes this audit entry; write it in the store's transaction, or name it in handlerAuditEntries with why it records no change", b)
	}
	for key := range handlerAuditEntries {
		if !seen[key] {
			t.Errorf("handlerAuditEntries names %q, which no handler writes any more: remove it", key)
		}
	}
}

// writesAudit reports whether call writes to the audit log: x.audit.M(…)
// with M a write method of audit.Log, or audit.Append(…).
func writesAudit(call *ast.CallExpr, writes map[string]bool) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	switch x := sel.X.(type) {
	case *ast.Ident:
		return x.Name == "audit" && sel.Sel.Name == "Append"
	case *ast.SelectorExpr:
		return x.Sel.Name == "audit" && writes[sel.Sel.Name]
	}
	return false
}

// entryAction is the Action of an audit.Entry literal among the call's
// arguments, when it is a string literal.
func entryAction(call *ast.CallExpr) (string, bool) {
	for _, arg := range call.Args {
		if u, ok := arg.(*ast.UnaryExpr); ok {
			arg = u.X
		}
		lit, ok := arg.(*ast.CompositeLit)
		if !ok {
			continue
		}
		for _, el := range lit.Elts {
			kv, ok := el.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Action" {
				if s, ok := kv.Value.(*ast.BasicLit); ok && s.Kind == token.STRING {
					v, err := strconv.Unquote(s.Value)
					return v, err == nil
				}
			}
		}
	}
	return "", false
}
