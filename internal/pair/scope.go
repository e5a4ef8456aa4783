// Package pair manages client pairs: creating a pair and inviting its two
// clients, pausing, resuming and closing it, reassigning it to another
// counselor (with history), and re-sending a client's invitation.
//
// Every Store method takes the caller's Scope and its SQL is restricted by
// ScopeSQL: an admin sees the practice's pairs, a counselor their own, a
// client the pair they are a member of. An id outside that is ENOTFOUND.
package pair

import (
	"fmt"

	"github.com/mend-practice/mend/internal/mend"
)

// RoleSystem is the role of Mend's own background work (e.g. advancing
// repair plans). It is never a user's role — the users table only allows
// admin, counselor and client — so no web request can carry it. Its scope
// is one practice, like an admin's, and only code outside the web layer
// (internal/jobs) builds it, through SystemScope.
const RoleSystem mend.Role = "system"

// SystemScope is the scope of background work on one practice. Jobs iterate
// over practices and act within each one at a time, so even Mend's own work
// never crosses practices in a single query.
func SystemScope(practiceID int64) mend.Scope {
	return mend.Scope{PracticeID: practiceID, Role: RoleSystem, Name: "Mend"}
}

// ScopeSQL returns a condition that restricts the pairs table, aliased
// alias, to what sc may see, using placeholders from $next on, and the
// arguments for them. Every pair-related query in Mend joins pairs and adds
// this condition.
func ScopeSQL(sc mend.Scope, alias string, next int) (string, []any) {
	switch sc.Role {
	case mend.RoleAdmin, RoleSystem:
		return fmt.Sprintf("%s.practice_id = $%d", alias, next), []any{sc.PracticeID}
	case mend.RoleCounselor:
		return fmt.Sprintf("(%s.practice_id = $%d AND %s.counselor_id = $%d)", alias, next, alias, next+1),
			[]any{sc.PracticeID, sc.UserID}
	case mend.RoleClient:
		return fmt.Sprintf("(%s.practice_id = $%d AND EXISTS (SELECT 1 FROM pair_members sm WHERE sm.pair_id = %s.id AND sm.user_id = $%d))",
			alias, next, alias, next+1), []any{sc.PracticeID, sc.UserID}
	}
	return "FALSE", nil
}
