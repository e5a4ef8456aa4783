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
	// DashboardVersion is a counselor's version in dashboard_marks as the
	// session check read it, before anything else this request reads: the
	// kept dashboard is shown only while it is unchanged (see
	// review.Stamp), without a statement of its own.
	DashboardVersion int64
}

// Anonymous reports whether nobody is logged in.
func (s Scope) Anonymous() bool { return s.UserID == 0 }
