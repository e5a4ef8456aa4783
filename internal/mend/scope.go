package mend

// Role is what a user is in their practice. Casbin policies are written per
// role; SQL restrictions are written per Scope.
type Role string

const (
	RoleAnonymous Role = "anonymous"
	RoleAdmin     Role = "admin"
	RoleCounselor Role = "counselor"
	RoleClient    Role = "client"
	// RoleMFAPending is the role of a session that passed the password but
	// not yet the second factor (or must first set one up): casbin lets it
	// reach only the second-factor pages, logout, health and static files.
	RoleMFAPending Role = "mfa_pending"
	// RoleSystem is the role of Mend's own background work (e.g. advancing
	// repair plans). It is never a user's role (the users table allows
	// admin, counselor and client only), so no web request can carry it.
	// Its scope is one practice, like an admin's; only code outside the web
	// layer (internal/jobs) builds it, through SystemScope.
	RoleSystem Role = "system"
)

// Valid reports whether r is a role a user account can have.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleCounselor || r == RoleClient
}

// IsStaff reports whether r works in the practice (admin or counselor).
func (r Role) IsStaff() bool { return r == RoleAdmin || r == RoleCounselor }

// Scope is who is asking: built once per request from the session and passed
// to every store method, whose SQL restricts rows to it.
//
//   - admin: everything in PracticeID
//   - counselor: pairs in PracticeID whose counselor is UserID
//   - client: the pair UserID is a member of
type Scope struct {
	PracticeID int64
	UserID     int64
	Role       Role
	Name       string
	Email      string
	Timezone   string
	IP         string
	// DashboardVersion is a counselor's version in dashboard_marks (for a
	// client, a hash of all their pairs' counselors') as the session check
	// read it, before anything else this request reads: a kept dashboard,
	// progress tab or client page is shown only while it is unchanged (see
	// review.Stamp), without a statement of its own.
	DashboardVersion int64
}

// Anonymous reports whether nobody is logged in.
func (s Scope) Anonymous() bool { return s.UserID == 0 }

// SystemScope is the scope of background work on one practice. Jobs iterate
// over practices and act within each one at a time, so even Mend's own work
// never crosses practices in a single query.
func SystemScope(practiceID int64) Scope {
	return Scope{PracticeID: practiceID, Role: RoleSystem, Name: "Mend"}
}
