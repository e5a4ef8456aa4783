// Package access is the one place where a query is restricted to what its
// caller may see: the pairs of the caller's Scope. Every store query that
// reads or changes a pair's records for a caller joins pairs and adds
// Pairs or StaffPairs (CounselorPairs for what is one counselor's, Member
// to bind a client's own membership row).
// No store spells the condition itself: TestScopeIsSpelledOnlyInAccess
// fails on a query under internal/ that names counselor_id = $n, or
// pair_members with user_id = $n, anywhere else.
package access

import (
	"fmt"

	"github.com/mend-practice/mend/internal/mend"
)

// Pairs returns the condition that restricts the pairs table, aliased
// alias, to what sc may see, with placeholders from $next on, and the
// arguments for them: an admin (and Mend's own background work) sees the
// practice's pairs, a counselor the pairs they counsel, a client the pairs
// they are a member of; anyone else nothing.
func Pairs(sc mend.Scope, alias string, next int) (string, []any) {
	switch sc.Role {
	case mend.RoleAdmin, mend.RoleSystem:
		return fmt.Sprintf("%s.practice_id = $%d", alias, next), []any{sc.PracticeID}
	case mend.RoleCounselor:
		return CounselorPairs(alias, fmt.Sprintf("$%d", next), fmt.Sprintf("$%d", next+1)), []any{sc.PracticeID, sc.UserID}
	case mend.RoleClient:
		return fmt.Sprintf("(%s.practice_id = $%d AND EXISTS (SELECT 1 FROM pair_members sm WHERE %s))",
			alias, next, Member("sm", alias+".id", fmt.Sprintf("$%d", next+1))), []any{sc.PracticeID, sc.UserID}
	}
	return "FALSE", nil
}

// CounselorPairs is the condition for the pairs, aliased alias, that the
// counselor counsels in the practice, both given as SQL expressions. Pairs
// uses it for a counselor's scope; what is a counselor's own whatever the
// role (the dashboard, its counts, the review queue) uses it with "$1",
// "$2" bound to the scope's practice and user, and what is per counselor
// (the admin overview, the digest) with the counselor's column.
func CounselorPairs(alias, practice, counselor string) string {
	return fmt.Sprintf("(%s.practice_id = %s AND %s.counselor_id = %s)", alias, practice, alias, counselor)
}

// StaffPairs is Pairs for what only staff see (every check-in of a pair,
// reviews, exports): a client's scope sees nothing through it.
func StaffPairs(sc mend.Scope, alias string, next int) (string, []any) {
	if sc.Role == mend.RoleClient {
		return "FALSE", nil
	}
	return Pairs(sc, alias, next)
}

// Member is the condition that binds pair_members, aliased alias, to the
// membership of client (an SQL expression, usually the scope's user as a
// placeholder) in the pair pair (an SQL expression): the client's own row
// in that pair, or none. Client queries join it to restrict homework and
// check-ins to the client's pairs; Pairs uses it for a client's scope.
func Member(alias, pair, client string) string {
	return fmt.Sprintf("%s.pair_id = %s AND %s.user_id = %s", alias, pair, alias, client)
}
