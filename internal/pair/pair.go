package pair

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/access"
	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paging"
	"github.com/mend-practice/mend/internal/practice"
)

// Kinds of relationship, in the order forms offer them.
var Kinds = []Choice{
	{"romantic", "Romantic partners"},
	{"family", "Family"},
	{"friends", "Friends"},
	{"colleagues", "Colleagues"},
	{"other", "Other"},
}

// Sides a member can be on, in the order forms offer them.
var Sides = []Choice{
	{"broke_trust", "Broke the trust"},
	{"was_hurt", "Was hurt"},
	{"mutual", "Mutual or not known"},
}

// Choice is a value with its label.
type Choice struct{ Value, Label string }

func label(cs []Choice, v string) string {
	for _, c := range cs {
		if c.Value == v {
			return c.Label
		}
	}
	return v
}

func valid(cs []Choice, v string) bool {
	for _, c := range cs {
		if c.Value == v {
			return true
		}
	}
	return false
}

// KindLabel is a kind of relationship as people read it.
func KindLabel(kind string) string { return label(Kinds, kind) }

// SideLabel is a side as people read it.
func SideLabel(side string) string { return label(Sides, side) }

// Statuses of a pair.
const (
	StatusActive = "active"
	StatusPaused = "paused"
	StatusClosed = "closed"
)

// Pair is a pair with its members.
type Pair struct {
	ID            int64          `db:"id"`
	PracticeID    int64          `db:"practice_id"`
	CounselorID   sql.NullInt64  `db:"counselor_id"`
	CounselorName sql.NullString `db:"counselor_name"`
	Label         string         `db:"label"`
	Kind          string         `db:"kind"`
	Status        string         `db:"status"`
	CreatedAt     time.Time      `db:"created_at"`
	ClosedAt      sql.NullTime   `db:"closed_at"`
	Timezone      string         `db:"practice_timezone"`
	Members       []Member       `db:"-"`
}

// KindLabel is the pair's kind as people read it.
func (p Pair) KindLabel() string { return KindLabel(p.Kind) }

// Member returns the member with userID.
func (p Pair) Member(userID int64) (Member, bool) {
	for _, m := range p.Members {
		if m.UserID == userID {
			return m, true
		}
	}
	return Member{}, false
}

// ClientIDs are the members' user ids (for the audit log).
func (p Pair) ClientIDs() []int64 {
	ids := make([]int64, len(p.Members))
	for i, m := range p.Members {
		ids[i] = m.UserID
	}
	return ids
}

// Member is one client of a pair.
type Member struct {
	PairID    int64  `db:"pair_id"`
	UserID    int64  `db:"user_id"`
	Position  int    `db:"position"`
	Side      string `db:"side"`
	Name      string `db:"name"`
	Email     string `db:"email"`
	Timezone  string `db:"timezone"`
	Activated bool   `db:"activated"`
	Disabled  bool   `db:"disabled"`
	Current   bool   `db:"current"`
}

// SideLabel is the member's side as people read it.
func (m Member) SideLabel() string { return SideLabel(m.Side) }

// Store reads and changes pairs. Invitation emails are queued by the
// caller's practice.Notify, inside the transaction that creates the
// accounts and links (the same callback the admin's counselor invitations
// use).
type Store struct {
	DB    *sqlx.DB
	Links *auth.Links

	stmts db.Statements // the hot queries (a pair and its members), prepared
}

// NewStore returns the pair store; links issues the clients' invitation
// links.
func NewStore(d *sqlx.DB, links *auth.Links) *Store {
	return &Store{DB: d, Links: links}
}

const pairColumns = `p.id, p.practice_id, p.counselor_id, c.name AS counselor_name, p.label, p.kind, p.status,
	p.created_at, p.closed_at, pr.timezone AS practice_timezone`

const pairFrom = ` FROM pairs p JOIN practices pr ON pr.id = p.practice_id LEFT JOIN users c ON c.id = p.counselor_id`

// Get returns a pair the caller may see, with its members.
func (s *Store) Get(ctx context.Context, sc mend.Scope, id int64) (Pair, error) {
	return get(ctx, s.stmts.On(s.DB, s.DB), sc, id, false)
}

// Load reads a pair the caller may see, with its members (q may be a
// transaction).
func Load(ctx context.Context, q sqlx.QueryerContext, sc mend.Scope, id int64) (Pair, error) {
	return get(ctx, db.Text(q), sc, id, false)
}

// LoadOn is Load through a store's prepared statements (db.Statements.On):
// for stores that read a pair on their hot pages.
func LoadOn(ctx context.Context, q db.Runner, sc mend.Scope, id int64) (Pair, error) {
	return get(ctx, q, sc, id, false)
}

// Lock reads a pair the caller may see and locks its row until tx ends:
// changes to a pair, its homework and its plan are serialised per pair.
// Every writer takes this lock first (then the plan, then homework rows),
// so they cannot deadlock. NO KEY UPDATE lets inserts that merely
// reference the pair (e.g. a check-in) go ahead.
func Lock(ctx context.Context, tx *sqlx.Tx, sc mend.Scope, id int64) (Pair, error) {
	return get(ctx, db.Text(tx), sc, id, true)
}

func get(ctx context.Context, q db.Runner, sc mend.Scope, id int64, lock bool) (Pair, error) {
	cond, args := access.Pairs(sc, "p", 2)
	query := `SELECT ` + pairColumns + pairFrom + ` WHERE p.id = $1 AND ` + cond
	if lock {
		query += ` FOR NO KEY UPDATE OF p`
	}
	var p Pair
	err := q.Get(ctx, &p, query, append([]any{id}, args...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return Pair{}, mend.NotFound("Pair")
	}
	if err != nil {
		return Pair{}, fmt.Errorf("pair: get: %w", err)
	}
	ms, err := members(ctx, q, []int64{id})
	if err != nil {
		return Pair{}, err
	}
	p.Members = ms[id]
	return p, nil
}

// members loads the members of the given pairs in one query.
func members(ctx context.Context, q db.Runner, ids []int64) (map[int64][]Member, error) {
	var rows []Member
	err := q.Select(ctx, &rows, `
		SELECT m.pair_id, m.user_id, m.position, m.side, m.current, u.name, u.email, u.timezone,
		       u.password_hash IS NOT NULL AS activated, u.disabled_at IS NOT NULL AS disabled
		FROM pair_members m JOIN users u ON u.id = m.user_id
		WHERE m.pair_id = ANY($1) ORDER BY m.pair_id, m.position`, pq.Array(ids))
	if err != nil {
		return nil, fmt.Errorf("pair: members: %w", err)
	}
	out := map[int64][]Member{}
	for _, m := range rows {
		out[m.PairID] = append(out[m.PairID], m)
	}
	return out, nil
}

// Filters for List.
const (
	FilterOpen   = "open" // active and paused
	FilterClosed = "closed"
	FilterAll    = "all"
)

// List returns a page of the pairs the caller may see, by label, with their
// members: two queries whatever the number of pairs.
func (s *Store) List(ctx context.Context, sc mend.Scope, filter string, pr paging.Request) (paging.Page[Pair], error) {
	var status string
	switch filter {
	case FilterClosed:
		status = `p.status = 'closed'`
	case FilterAll:
		status = `TRUE`
	default:
		status = `p.status IN ('active', 'paused')`
	}
	cond, args := access.Pairs(sc, "p", 3)
	var rows []Pair
	err := s.DB.SelectContext(ctx, &rows, `SELECT `+pairColumns+pairFrom+`
		WHERE `+status+` AND `+cond+`
		ORDER BY lower(p.label), p.id LIMIT $1 OFFSET $2`,
		append([]any{pr.Limit(), pr.Offset()}, args...)...)
	if err != nil {
		return paging.Page[Pair]{}, fmt.Errorf("pair: list: %w", err)
	}
	page := paging.Of(pr, rows)
	ids := make([]int64, len(page.Items))
	for i, p := range page.Items {
		ids[i] = p.ID
	}
	if len(ids) > 0 {
		ms, err := members(ctx, s.stmts.On(s.DB, s.DB), ids)
		if err != nil {
			return paging.Page[Pair]{}, err
		}
		for i := range page.Items {
			page.Items[i].Members = ms[page.Items[i].ID]
		}
	}
	return page, nil
}

// NewPair is a pair as typed in the new-pair form.
type NewPair struct {
	Label string
	Kind  string
	A, B  NewClient
}

// NewClient is one client as typed: their details and side.
type NewClient struct {
	practice.NewPerson
	Side string
}

// Created is the result of creating a pair: the invitation links to show
// once (accounts that already had a password get none).
type Created struct {
	PairID      int64
	Invitations []practice.Invitation
	Returning   []string // names of clients who already had an account
}

// Field-name prefixes of the two clients in the new-pair form.
const (
	PrefixA = "a_"
	PrefixB = "b_"
)

func (in *NewPair) validate() error {
	var fe mend.FieldErrors
	in.Label = strings.TrimSpace(in.Label)
	switch {
	case in.Label == "":
		fe.Add("label", "Enter a label, e.g. the two first names.")
	case !utf8.ValidString(in.Label) || utf8.RuneCountInString(in.Label) > 100:
		fe.Add("label", "Use at most 100 characters.")
	}
	if !valid(Kinds, in.Kind) {
		fe.Add("kind", "Choose the kind of relationship.")
	}
	in.A.Validate(&fe, PrefixA)
	in.B.Validate(&fe, PrefixB)
	for _, c := range []struct {
		prefix string
		side   string
	}{{PrefixA, in.A.Side}, {PrefixB, in.B.Side}} {
		if !valid(Sides, c.side) {
			fe.Add(c.prefix+"side", "Choose a side, or “Mutual or not known”.")
		}
	}
	if in.A.Email != "" && in.A.Email == in.B.Email {
		fe.Add(PrefixB+"email", "The two clients need different email addresses.")
	}
	return fe.Err()
}

// Create makes a pair for the calling counselor. Each client gets a client
// account (or, if they already have one in this practice and are in no open
// pair, keeps it), an invitation link and, through notify, an invitation
// email, all in one transaction: on any error nothing is stored.
func (s *Store) Create(ctx context.Context, sc mend.Scope, in NewPair, notify practice.Notify) (Created, error) {
	if sc.Role != mend.RoleCounselor {
		return Created{}, mend.Errorf(mend.EFORBIDDEN, "Only counselors can create pairs.")
	}
	if err := in.validate(); err != nil {
		return Created{}, err
	}
	var out Created
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &out.PairID, `
			INSERT INTO pairs (practice_id, counselor_id, label, kind) VALUES ($1, $2, $3, $4) RETURNING id`,
			sc.PracticeID, sc.UserID, in.Label, in.Kind); err != nil {
			return fmt.Errorf("pair: insert: %w", err)
		}
		var fe mend.FieldErrors
		for i, c := range []struct {
			prefix string
			client NewClient
		}{{PrefixA, in.A}, {PrefixB, in.B}} {
			inv, returning, err := s.addClient(ctx, tx, sc, out.PairID, i+1, c.client, notify)
			if fields := mend.Fields(err); fields != nil {
				for k, v := range fields {
					fe.Add(c.prefix+k, v)
				}
				continue
			}
			if err != nil {
				return err
			}
			if returning {
				out.Returning = append(out.Returning, c.client.Name)
			} else {
				out.Invitations = append(out.Invitations, inv)
			}
		}
		if err := fe.Err(); err != nil {
			return err
		}
		if err := RecordEvent(ctx, tx, Event{PracticeID: sc.PracticeID, PairID: out.PairID, Kind: EventCreated, ActorID: sc.UserID}); err != nil {
			return err
		}
		return audit.Append(ctx, tx, sc, audit.Entry{Action: "pair.create", ObjectType: "pair", ObjectID: out.PairID})
	})
	if err != nil {
		return Created{}, err
	}
	return out, nil
}

type existingUser struct {
	ID         int64  `db:"id"`
	Role       string `db:"role"`
	Name       string `db:"name"`
	Activated  bool   `db:"activated"`
	InOpenPair bool   `db:"in_open_pair"`
}

// addClient adds one member to a new pair. It returns field errors without
// a prefix ("email", "name").
func (s *Store) addClient(ctx context.Context, tx *sqlx.Tx, sc mend.Scope, pairID int64, position int, c NewClient, notify practice.Notify) (practice.Invitation, bool, error) {
	var u existingUser
	err := tx.GetContext(ctx, &u, `
		SELECT u.id, u.role, u.name, u.password_hash IS NOT NULL AS activated,
		       EXISTS (SELECT 1 FROM pair_members m WHERE m.user_id = u.id AND m.current) AS in_open_pair
		FROM users u WHERE u.practice_id = $2 AND u.email = $1 FOR UPDATE`, c.Email, sc.PracticeID)
	var userID int64
	returning := false
	switch {
	case errors.Is(err, sql.ErrNoRows):
		userID, err = practice.CreateUser(ctx, tx, sc.PracticeID, mend.RoleClient, c.NewPerson)
		if err != nil {
			return practice.Invitation{}, false, err
		}
	case err != nil:
		return practice.Invitation{}, false, fmt.Errorf("pair: find client: %w", err)
	case u.Role != string(mend.RoleClient):
		// Only this practice's accounts are looked at: an account with the
		// same address at another practice is another account, never named.
		return practice.Invitation{}, false, mend.FieldErrors{"email": "Someone on this practice's staff has this email address."}.Err()
	case u.InOpenPair:
		return practice.Invitation{}, false, mend.FieldErrors{"email": "This client is already in an active or paused pair. Close that pair first."}.Err()
	default:
		userID, returning = u.ID, u.Activated
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO pair_members (pair_id, user_id, position, side) VALUES ($1, $2, $3, $4)`,
		pairID, userID, position, c.Side)
	if db.IsUniqueViolation(err, "pair_members_one_current_idx") {
		return practice.Invitation{}, false, mend.FieldErrors{"email": "This client is already in an active or paused pair. Close that pair first."}.Err()
	}
	if err != nil {
		return practice.Invitation{}, false, fmt.Errorf("pair: add member: %w", err)
	}
	if returning {
		return practice.Invitation{}, true, nil
	}
	name := c.Name
	if u.ID != 0 {
		name = u.Name
	}
	inv, err := s.invite(ctx, tx, sc, userID, name, c.Email, notify)
	return inv, false, err
}

// invite issues an invitation link and has notify queue its email in tx.
func (s *Store) invite(ctx context.Context, tx *sqlx.Tx, sc mend.Scope, userID int64, name, email string, notify practice.Notify) (practice.Invitation, error) {
	tok, err := s.Links.Issue(ctx, tx, userID, sc.UserID, auth.PurposeInvite)
	if err != nil {
		return practice.Invitation{}, err
	}
	inv := practice.Invitation{UserID: userID, Name: name, Email: email, Token: tok}
	if err := audit.Append(ctx, tx, sc, audit.Entry{Action: "invitation.create", ObjectType: "user", ObjectID: userID, ClientID: userID}); err != nil {
		return practice.Invitation{}, err
	}
	if notify != nil {
		if err := notify(tx, inv); err != nil {
			return practice.Invitation{}, err
		}
	}
	return inv, nil
}

// Reinvite issues a fresh invitation link (older ones stop working) for the
// member at position (1 or 2) of a pair the caller may see, and queues the
// email. A client who has already set a password needs none.
func (s *Store) Reinvite(ctx context.Context, sc mend.Scope, pairID int64, position string, notify practice.Notify) (practice.Invitation, error) {
	pos, err := strconv.Atoi(position)
	if err != nil || (pos != 1 && pos != 2) {
		return practice.Invitation{}, mend.NotFound("Member")
	}
	var inv practice.Invitation
	err = db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		p, err := Lock(ctx, tx, sc, pairID)
		if err != nil {
			return err
		}
		var m Member
		for _, x := range p.Members {
			if x.Position == pos {
				m = x
			}
		}
		switch {
		case m.UserID == 0:
			return mend.NotFound("Member")
		case p.Status == StatusClosed:
			return mend.Errorf(mend.ECONFLICT, "This pair is closed.")
		case m.Activated:
			return mend.Errorf(mend.ECONFLICT, "%s has already accepted their invitation.", m.Name)
		case m.Disabled:
			return mend.Errorf(mend.ECONFLICT, "%s's account is disabled.", m.Name)
		}
		inv, err = s.invite(ctx, tx, sc, m.UserID, m.Name, m.Email, notify)
		return err
	})
	return inv, err
}

// IssueReset makes a password-reset link for the client at position (1
// or 2) of a pair the caller may see (a client locked out of their
// account; audited) and returns it to be shown once: it is not emailed.
func (s *Store) IssueReset(ctx context.Context, sc mend.Scope, pairID int64, position string) (practice.Invitation, error) {
	m, err := s.openMember(ctx, sc, pairID, position)
	if err != nil {
		return practice.Invitation{}, err
	}
	if err := practice.ResetAllowed(sc, m.UserID, m.Name, m.Activated, m.Disabled); err != nil {
		return practice.Invitation{}, err
	}
	return practice.IssueReset(ctx, s.DB, s.Links, sc, practice.Invitation{UserID: m.UserID, Name: m.Name, Email: m.Email}, m.UserID)
}

// InvitationLink shows again the open invitation link of the member at
// position of a pair in the caller's scope (practice.ShowInvitation).
func (s *Store) InvitationLink(ctx context.Context, sc mend.Scope, pairID int64, position string) (practice.Invitation, error) {
	m, err := s.openMember(ctx, sc, pairID, position)
	if err != nil {
		return practice.Invitation{}, err
	}
	return practice.ShowInvitation(ctx, s.DB, s.Links, sc, practice.Invitation{UserID: m.UserID, Name: m.Name, Email: m.Email},
		m.Activated, m.Disabled, m.UserID)
}

// openMember is the member at position ("1" or "2") of a pair in the
// caller's scope that is not closed: staff hand links to its members.
func (s *Store) openMember(ctx context.Context, sc mend.Scope, pairID int64, position string) (Member, error) {
	pos, err := strconv.Atoi(position)
	if err != nil || (pos != 1 && pos != 2) {
		return Member{}, mend.NotFound("Member")
	}
	p, err := s.Get(ctx, sc, pairID)
	if err != nil {
		return Member{}, err
	}
	for _, m := range p.Members {
		if m.Position != pos || m.UserID == 0 {
			continue
		}
		if p.Status == StatusClosed {
			return Member{}, mend.Errorf(mend.ECONFLICT, "This pair is closed.")
		}
		return m, nil
	}
	return Member{}, mend.NotFound("Member")
}

// Pause, Resume and Close change a pair's status. Closing ends the pair for
// good: its open homework is cancelled, its plan stopped, and its clients
// are free to join a new pair.
func (s *Store) Pause(ctx context.Context, sc mend.Scope, id int64) (Pair, error) {
	return s.setStatus(ctx, sc, id, StatusPaused)
}

// Resume makes a paused pair active again.
func (s *Store) Resume(ctx context.Context, sc mend.Scope, id int64) (Pair, error) {
	return s.setStatus(ctx, sc, id, StatusActive)
}

// Close closes a pair.
func (s *Store) Close(ctx context.Context, sc mend.Scope, id int64) (Pair, error) {
	return s.setStatus(ctx, sc, id, StatusClosed)
}

func (s *Store) setStatus(ctx context.Context, sc mend.Scope, id int64, to string) (Pair, error) {
	var p Pair
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var err error
		p, err = Lock(ctx, tx, sc, id)
		if err != nil {
			return err
		}
		var kind string
		switch {
		case p.Status == StatusClosed:
			return mend.Errorf(mend.ECONFLICT, "This pair is closed.")
		case to == StatusPaused && p.Status == StatusActive:
			kind = EventPaused
		case to == StatusActive && p.Status == StatusPaused:
			kind = EventResumed
		case to == StatusClosed:
			kind = EventClosed
		default:
			return mend.Errorf(mend.ECONFLICT, "This pair is already %s.", p.Status)
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE pairs SET status = $2, closed_at = CASE WHEN $2 = 'closed' THEN now() END WHERE id = $1`, id, to); err != nil {
			return fmt.Errorf("pair: set status: %w", err)
		}
		if to == StatusClosed {
			// The homework tables belong to internal/homework; closing must
			// end them in the same transaction, so it is done here.
			for _, q := range []string{
				`UPDATE pair_members SET current = false WHERE pair_id = $1`,
				`UPDATE assignments SET status = 'cancelled', cancelled_at = now() WHERE pair_id = $1 AND status = 'active'`,
				`UPDATE pair_plans SET status = 'stopped', ended_at = now() WHERE pair_id = $1 AND status = 'active'`,
			} {
				if _, err := tx.ExecContext(ctx, q, id); err != nil {
					return fmt.Errorf("pair: close: %w", err)
				}
			}
		}
		p.Status = to
		return RecordEvent(ctx, tx, Event{PracticeID: p.PracticeID, PairID: id, Kind: kind, ActorID: sc.UserID})
	})
	return p, err
}

// Counselor is a counselor a pair can be given to.
type Counselor struct {
	ID   int64  `db:"id"`
	Name string `db:"name"`
}

// Counselors lists the practice's enabled counselors (admin only: for
// reassigning pairs).
func (s *Store) Counselors(ctx context.Context, sc mend.Scope) ([]Counselor, error) {
	if sc.Role != mend.RoleAdmin {
		return nil, nil
	}
	var cs []Counselor
	err := s.DB.SelectContext(ctx, &cs, `
		SELECT id, name FROM users
		WHERE practice_id = $1 AND role = 'counselor' AND disabled_at IS NULL
		ORDER BY lower(name), id LIMIT 500`, sc.PracticeID)
	return cs, err
}

// Reassign gives a pair to another counselor of the practice (admin only);
// the change is kept in the pair's history.
func (s *Store) Reassign(ctx context.Context, sc mend.Scope, id int64, counselor string) (Pair, error) {
	if sc.Role != mend.RoleAdmin {
		return Pair{}, mend.Errorf(mend.EFORBIDDEN, "Only an admin can reassign pairs.")
	}
	var p Pair
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var err error
		p, err = Lock(ctx, tx, sc, id)
		if err != nil {
			return err
		}
		if p.Status == StatusClosed {
			return mend.Errorf(mend.ECONFLICT, "This pair is closed.")
		}
		to, _ := strconv.ParseInt(counselor, 10, 64)
		var c Counselor
		err = tx.GetContext(ctx, &c, `
			SELECT id, name FROM users
			WHERE id = $1 AND practice_id = $2 AND role = 'counselor' AND disabled_at IS NULL`, to, sc.PracticeID)
		if errors.Is(err, sql.ErrNoRows) {
			return mend.FieldErrors{"counselor": "Choose a counselor of this practice."}.Err()
		}
		if err != nil {
			return err
		}
		if p.CounselorID.Valid && p.CounselorID.Int64 == c.ID {
			return mend.FieldErrors{"counselor": c.Name + " already has this pair."}.Err()
		}
		if _, err := tx.ExecContext(ctx, `UPDATE pairs SET counselor_id = $2 WHERE id = $1`, id, c.ID); err != nil {
			return fmt.Errorf("pair: reassign: %w", err)
		}
		ev := Event{PracticeID: p.PracticeID, PairID: id, Kind: EventReassigned, ActorID: sc.UserID, ToCounselorID: c.ID}
		if p.CounselorID.Valid {
			ev.FromCounselorID = p.CounselorID.Int64
		}
		p.CounselorID = sql.NullInt64{Int64: c.ID, Valid: true}
		p.CounselorName = sql.NullString{String: c.Name, Valid: true}
		return RecordEvent(ctx, tx, ev)
	})
	return p, err
}
