// Package consent keeps what a practice tells its clients in its own words:
// the consent text a client accepts before using Mend (versioned: a changed
// text is a new version, and every client is asked again at their next
// sign-in), who accepted which version when, and the words of the page a
// client sees after saying they do not feel safe.
package consent

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mend"
)

// DefaultText is the consent text of a practice that has not written its
// own (version 1).
const DefaultText = `Mend is where you and the other person in your pair do the homework your counselor gives you between sessions, and tell your counselor how it went.

What you write in a check-in is read by your counselor. You choose, for each check-in, whether the other person in your pair may read it too; if you do not share it, they never see it. If you tell your counselor that you do not feel safe, only your counselor (or, if they are away, the practice's administrator) is told, never the other person.

Your counselor is a professional bound by confidentiality. The practice keeps your check-ins encrypted, records who reads them, and deletes them after the time the practice keeps records for once your work together has ended.

Mend is not an emergency service: no one reads check-ins around the clock. If you are in danger, call your local emergency number.

You can stop using Mend at any time by telling your counselor.`

// DefaultCare is what the safety care page says the counselor will do when
// the practice has not written its own words.
const DefaultCare = "Your counselor will read what you told them as soon as they can, usually within one working day, and will contact you in the way you agreed with them to talk about how to keep you safe. Nothing of this is shown to the other person in your pair."

// DefaultCrisis is what the care page says to do in danger right now when
// the practice has not named a crisis line.
const DefaultCrisis = "If you are in danger right now, call your local emergency number. Mend and your counselor cannot respond in an emergency."

// Limits of what an admin may type.
const (
	MaxText   = 20000
	MaxCare   = 2000
	MaxCrisis = 1000
)

// Version is one version of a practice's consent text.
type Version struct {
	PracticeID int64     `db:"practice_id"`
	Version    int       `db:"version"`
	Body       string    `db:"body"`
	CreatedAt  time.Time `db:"created_at"`
}

// Paragraphs splits the text at blank lines, for display.
func (v Version) Paragraphs() []string { return paragraphs(v.Body) }

func paragraphs(s string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Acceptance is one client's acceptance of one version.
type Acceptance struct {
	UserID     int64     `db:"user_id"`
	Version    int       `db:"version"`
	AcceptedAt time.Time `db:"accepted_at"`
}

// Care is the wording of the safety care page.
type Care struct {
	WhatNext string // what the counselor will do
	Crisis   string // what to do in danger right now
}

// WhatNextParagraphs and CrisisParagraphs split the texts for display.
func (c Care) WhatNextParagraphs() []string { return paragraphs(c.WhatNext) }
func (c Care) CrisisParagraphs() []string   { return paragraphs(c.Crisis) }

// Store reads and writes consent texts, acceptances and care wording. Each
// method works in the caller's practice only.
type Store struct {
	DB *sqlx.DB

	stmts db.Statements // Acceptances' query, prepared: every pair page runs it
}

// NewStore returns the consent store.
func NewStore(d *sqlx.DB) *Store { return &Store{DB: d} }

// Current returns the practice's current consent version, creating version
// 1 with DefaultText the first time a practice needs one.
func (s *Store) Current(ctx context.Context, practiceID int64) (Version, error) {
	var v Version
	err := s.DB.GetContext(ctx, &v, `
		SELECT practice_id, version, body, created_at FROM consent_versions
		WHERE practice_id = $1 ORDER BY version DESC LIMIT 1`, practiceID)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := s.DB.ExecContext(ctx, `
			INSERT INTO consent_versions (practice_id, version, body) VALUES ($1, 1, $2)
			ON CONFLICT DO NOTHING`, practiceID, DefaultText); err != nil {
			return Version{}, fmt.Errorf("consent: first version: %w", err)
		}
		return s.Current(ctx, practiceID)
	}
	if err != nil {
		return Version{}, fmt.Errorf("consent: current: %w", err)
	}
	return v, nil
}

// Due reports whether the client must accept the current version before
// going on, and returns that version.
func (s *Store) Due(ctx context.Context, sc mend.Scope) (bool, Version, error) {
	if sc.Role != mend.RoleClient {
		return false, Version{}, nil
	}
	v, err := s.Current(ctx, sc.PracticeID)
	if err != nil {
		return false, Version{}, err
	}
	var accepted bool
	if err := s.DB.GetContext(ctx, &accepted, `
		SELECT EXISTS (SELECT 1 FROM consent_acceptances WHERE user_id = $1 AND practice_id = $2 AND version = $3)`,
		sc.UserID, sc.PracticeID, v.Version); err != nil {
		return false, Version{}, fmt.Errorf("consent: due: %w", err)
	}
	return !accepted, v, nil
}

// Accept records that client userID of practiceID accepted version (q is
// the transaction when it is part of a larger change, e.g. setting the
// first password). Accepting a version that is no longer current is a
// conflict: the person must read the new one.
func (s *Store) Accept(ctx context.Context, q sqlx.ExtContext, practiceID, userID int64, version int) error {
	res, err := q.ExecContext(ctx, `
		INSERT INTO consent_acceptances (practice_id, version, user_id)
		SELECT v.practice_id, v.version, u.id
		FROM consent_versions v JOIN users u ON u.practice_id = v.practice_id AND u.id = $2 AND u.role = 'client'
		WHERE v.practice_id = $1 AND v.version = $3
		  AND v.version = (SELECT max(version) FROM consent_versions WHERE practice_id = $1)
		ON CONFLICT (user_id, version) DO NOTHING`, practiceID, userID, version)
	if err != nil {
		return fmt.Errorf("consent: accept: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var already bool
		if err := sqlx.GetContext(ctx, q, &already, `
			SELECT EXISTS (SELECT 1 FROM consent_acceptances WHERE user_id = $1 AND version = $2 AND practice_id = $3)`,
			userID, version, practiceID); err != nil {
			return fmt.Errorf("consent: accept: %w", err)
		}
		if !already {
			return mend.Errorf(mend.ECONFLICT, "The practice has changed its consent text since this page was opened. Please read the new text.")
		}
	}
	return nil
}

// Acceptances returns, for each of the given clients of the caller's
// practice, their acceptances newest version first (staff only; the caller
// has already loaded the pair within their scope).
func (s *Store) Acceptances(ctx context.Context, sc mend.Scope, userIDs []int64) (map[int64][]Acceptance, error) {
	if !sc.Role.IsStaff() {
		return nil, mend.NotFound("Pair")
	}
	var rows []Acceptance
	if err := s.stmts.Select(ctx, s.DB, &rows, `
		SELECT user_id, version, accepted_at FROM consent_acceptances
		WHERE practice_id = $1 AND user_id = ANY($2)
		ORDER BY user_id, version DESC`, sc.PracticeID, pq.Array(userIDs)); err != nil {
		return nil, fmt.Errorf("consent: acceptances: %w", err)
	}
	out := map[int64][]Acceptance{}
	for _, r := range rows {
		out[r.UserID] = append(out[r.UserID], r)
	}
	return out, nil
}

// Settings is what the admin edits: the consent text and the care wording
// (empty care fields mean Mend's defaults).
type Settings struct {
	Consent Version
	Care    string `db:"care_text"`
	Crisis  string `db:"crisis_text"`
}

// Settings returns the practice's consent text and care wording (admin).
func (s *Store) Settings(ctx context.Context, sc mend.Scope) (Settings, error) {
	if sc.Role != mend.RoleAdmin {
		return Settings{}, mend.NotFound("Practice")
	}
	var st Settings
	if err := s.DB.GetContext(ctx, &st, `SELECT care_text, crisis_text FROM practices WHERE id = $1`, sc.PracticeID); err != nil {
		return Settings{}, fmt.Errorf("consent: settings: %w", err)
	}
	var err error
	st.Consent, err = s.Current(ctx, sc.PracticeID)
	return st, err
}

// Save stores what the admin typed: a consent text different from the
// current one becomes a new version; the care wording is replaced. Bad
// input is a message on its field and changes nothing. It reports the
// consent version now current.
func (s *Store) Save(ctx context.Context, sc mend.Scope, consentText, care, crisis string) (int, error) {
	if sc.Role != mend.RoleAdmin {
		return 0, mend.NotFound("Practice")
	}
	var fe mend.FieldErrors
	consentText, care, crisis = clean(consentText), clean(care), clean(crisis)
	check := func(field, text string, max int) {
		switch {
		case !utf8.ValidString(text) || strings.ContainsRune(text, 0):
			fe.Add(field, "This text contains characters we can't read. Please retype it.")
		case utf8.RuneCountInString(text) > max:
			fe.Add(field, fmt.Sprintf("Use at most %d characters.", max))
		}
	}
	check("consent", consentText, MaxText)
	check("care", care, MaxCare)
	check("crisis", crisis, MaxCrisis)
	if consentText == "" {
		fe.Add("consent", "Write the consent text clients accept before they start.")
	}
	if err := fe.Err(); err != nil {
		return 0, err
	}
	cur, err := s.Current(ctx, sc.PracticeID)
	if err != nil {
		return 0, err
	}
	version := cur.Version
	err = db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE practices SET care_text = $2, crisis_text = $3 WHERE id = $1`,
			sc.PracticeID, care, crisis); err != nil {
			return fmt.Errorf("consent: save care: %w", err)
		}
		if consentText == clean(cur.Body) {
			return nil
		}
		return tx.GetContext(ctx, &version, `
			INSERT INTO consent_versions (practice_id, version, body, created_by)
			SELECT $1, coalesce(max(version), 0) + 1, $2, $3 FROM consent_versions WHERE practice_id = $1
			RETURNING version`, sc.PracticeID, consentText, sc.UserID)
	})
	return version, err
}

func clean(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }

// CareFor returns the care page's wording for a client's practice, the
// defaults where the practice wrote none.
func (s *Store) CareFor(ctx context.Context, sc mend.Scope) (Care, error) {
	var c struct {
		Care   string `db:"care_text"`
		Crisis string `db:"crisis_text"`
	}
	if err := s.DB.GetContext(ctx, &c, `SELECT care_text, crisis_text FROM practices WHERE id = $1`, sc.PracticeID); err != nil {
		return Care{}, fmt.Errorf("consent: care: %w", err)
	}
	out := Care{WhatNext: c.Care, Crisis: c.Crisis}
	if out.WhatNext == "" {
		out.WhatNext = DefaultCare
	}
	if out.Crisis == "" {
		out.Crisis = DefaultCrisis
	}
	return out, nil
}
