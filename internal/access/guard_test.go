package access_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The spellings of a caller's scope that only package access may write:
// pairs restricted by their counselor (pairs are aliased p everywhere, which
// the third rule keeps true), and a pair_members row bound to a user given
// as a placeholder.
var (
	counselorScope = regexp.MustCompile(`\bp\.counselor_id\s*=`)
	pairsAlias     = regexp.MustCompile(`\b(?:FROM|JOIN)\s+pairs\s+(\w+)`)
	membersAlias   = regexp.MustCompile(`\bpair_members\s+(\w+)\s+(?:ON|WHERE)\b`)
)

// scopeSpellings returns what in src spells a scope condition by hand.
func scopeSpellings(src string) []string {
	var found []string
	for _, m := range counselorScope.FindAllStringIndex(src, -1) {
		found = append(found, line(src, m[0]))
	}
	for _, m := range pairsAlias.FindAllStringSubmatchIndex(src, -1) {
		if alias := src[m[2]:m[3]]; alias != "p" {
			found = append(found, line(src, m[0])+" (pairs must be aliased p)")
		}
	}
	for _, m := range membersAlias.FindAllStringSubmatchIndex(src, -1) {
		alias := src[m[2]:m[3]]
		clause := src[m[1]:]
		if end := regexp.MustCompile("`|\\bJOIN\\b|\\bpair_members\\b").FindStringIndex(clause); end != nil {
			clause = clause[:end[0]]
		}
		if regexp.MustCompile(`\b` + alias + `\.user_id\s*=\s*\$\d`).MatchString(clause) {
			found = append(found, line(src, m[0]))
		}
	}
	return found
}

func line(src string, at int) string {
	start := strings.LastIndexByte(src[:at], '\n') + 1
	end := strings.IndexByte(src[at:], '\n')
	if end < 0 {
		end = len(src) - at
	}
	return strings.TrimSpace(src[start : at+end])
}

// TestScopeIsSpelledOnlyInAccess fails when a query under internal/ restricts
// to a caller's pairs without package access: the condition is the most
// security-critical rule of Mend and has one spelling. Tests and the demo
// seed (which writes data, for no caller) are not stores and are skipped.
func TestScopeIsSpelledOnlyInAccess(t *testing.T) {
	root := filepath.Join("..")
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == "access" || rel == "seed" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked++
		for _, f := range scopeSpellings(string(src)) {
			t.Errorf("%s spells a scope condition itself; use package access: %s", rel, f)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("only %d Go files checked: the walk is not looking at internal/", checked)
	}
}

// TestTheGuardSeesHandWrittenScopes keeps the guard able to fail: each of
// these is a scope written by hand as it was before package access.
func TestTheGuardSeesHandWrittenScopes(t *testing.T) {
	for _, src := range []string{
		"`SELECT 1 FROM pairs p WHERE p.practice_id = $1 AND p.counselor_id = $2`",
		"const staffPairs = `p.practice_id = $1 AND ($3 OR p.counselor_id = $2)`",
		"`JOIN pair_members m ON m.pair_id = a.pair_id AND m.user_id = $2`",
		"`c.pair_id IN (SELECT pm.pair_id FROM pair_members pm WHERE pm.user_id = $2)`",
		"`SELECT 1 FROM pairs q WHERE q.id = $1`",
	} {
		if len(scopeSpellings(src)) == 0 {
			t.Errorf("the guard does not see %s", src)
		}
	}
	for _, src := range []string{
		"`JOIN pair_members m ON ` + access.Member(\"m\", \"a.pair_id\", \"$2\")",
		"`UPDATE pairs SET counselor_id = $2 WHERE id = $1`",
		"`SELECT u.name FROM pair_members o JOIN users u ON u.id = o.user_id WHERE o.pair_id = a.pair_id AND o.user_id <> $2`",
	} {
		if f := scopeSpellings(src); len(f) > 0 {
			t.Errorf("the guard flags %s: %v", src, f)
		}
	}
}
