// Package seed creates the demo practices described in DESIGN.md. Running it
// again changes nothing: every row is found by a natural key first.
package seed

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/app"
	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/consent"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/vault"
)

// DemoPassword is every demo user's password.
const DemoPassword = "demo-password"

// DemoTOTPSecret is the second factor of the demo admins: every admin must
// have one, and a demo must be usable by someone without the secret in an
// app. `mend demo-code` prints its current code; an authenticator app can
// be given the secret too. Like the password, it is public: a demo only.
const DemoTOTPSecret = "MEND DEMO ADMI NSEC RETM END2 DEMO ADMN"

type demoPractice struct {
	Slug, Name, Timezone string
	AdminName            string
	Counselors           []string // counselor1, counselor2, …
	Pairs                []demoPair
}

type demoPair struct {
	Counselor int // 1-based index into Counselors
	Label     string
	Kind      string
	A, B      demoClient
}

type demoClient struct {
	Name, Side string
}

var demoPractices = []demoPractice{
	{
		Slug: "northside.example", Name: "Northside Counseling", Timezone: "America/Chicago",
		AdminName:  "Avery Admin",
		Counselors: []string{"Dr. Rachel Moreno", "Sam Okafor, LMFT"},
		Pairs: []demoPair{
			{1, "Maya & Daniel", "romantic", demoClient{"Maya Brooks", "was_hurt"}, demoClient{"Daniel Brooks", "broke_trust"}},
			{1, "Helen & Tom", "family", demoClient{"Helen Ward", "was_hurt"}, demoClient{"Tom Ward", "broke_trust"}},
			{2, "Jordan & Alex", "romantic", demoClient{"Jordan Lee", "mutual"}, demoClient{"Alex Kim", "mutual"}},
			{2, "Rosa & Lin", "colleagues", demoClient{"Rosa Diaz", "broke_trust"}, demoClient{"Lin Chen", "was_hurt"}},
		},
	},
	{
		Slug: "riverbank.example", Name: "Riverbank Relationship Care", Timezone: "Europe/London",
		AdminName:  "Morgan Admin",
		Counselors: []string{"Dr. Elena Petrova"},
		Pairs: []demoPair{
			{1, "Chris & Taylor", "romantic", demoClient{"Chris Evans", "broke_trust"}, demoClient{"Taylor Evans", "was_hurt"}},
		},
	},
}

// Login is one demo account, for the README and the serve --demo banner.
type Login struct {
	Email, Role, Name, Practice string
}

// Demo creates the demo practices and returns their logins. Clinical text
// (notes, check-in answers and reflections) is written encrypted through
// the stores' vault, as the stores write it.
func Demo(ctx context.Context, st *app.Stores) ([]Login, error) {
	d, v := st.DB, st.Vault
	if v == nil {
		return nil, vault.ErrNoVault
	}
	hash, err := auth.HashPassword(DemoPassword)
	if err != nil {
		return nil, err
	}
	var logins []Login
	err = db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		for _, p := range demoPractices {
			ls, err := demoPeople(ctx, tx, v, p, hash)
			if err != nil {
				return fmt.Errorf("seed %s: %w", p.Slug, err)
			}
			logins = append(logins, ls...)
		}
		// Each area adds its demo data after the people exist; each step
		// must be idempotent.

		// (seed: pairs)
		if err := demoHomework(ctx, tx, st.Homework); err != nil {
			return err
		}

		// (seed: checkins)
		if err := demoCheckins(ctx, tx, v, time.Now()); err != nil {
			return err
		}

		// (seed: review)
		if err := demoReview(ctx, tx, v, time.Now()); err != nil {
			return fmt.Errorf("demo reviews: %w", err)
		}

		// (seed: measures, issue 20)
		if err := demoMeasures(ctx, tx, v, time.Now()); err != nil {
			return fmt.Errorf("demo measures: %w", err)
		}

		return nil
	})
	return logins, err
}

func demoPeople(ctx context.Context, tx *sqlx.Tx, v *vault.Vault, p demoPractice, hash string) ([]Login, error) {
	var practiceID int64
	if err := tx.GetContext(ctx, &practiceID, `
		INSERT INTO practices (name, slug, timezone, mfa_required) VALUES ($1, $2, $3, false)
		ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug
		RETURNING id`, p.Name, p.Slug, p.Timezone); err != nil {
		return nil, err
	}
	var logins []Login
	user := func(local, role, name string) (int64, error) {
		email := local + "@" + p.Slug
		var id int64
		err := tx.GetContext(ctx, &id, `
			INSERT INTO users (practice_id, role, email, name, password_hash, timezone)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (practice_id, email) DO UPDATE SET email = EXCLUDED.email
			RETURNING id`, practiceID, role, email, name, hash, p.Timezone)
		logins = append(logins, Login{Email: email, Role: role, Name: name, Practice: p.Name})
		return id, err
	}
	adminID, err := user("admin", "admin", p.AdminName)
	if err != nil {
		return nil, err
	}
	// The demo's counselors sign in with the password alone (the demo
	// practices do not require a second factor of them, unlike a new
	// practice); its admins cannot, so theirs is the published one.
	if err := auth.EnrolKnownFactor(ctx, tx, v, practiceID, adminID, DemoTOTPSecret); err != nil {
		return nil, err
	}
	counselorIDs := make([]int64, len(p.Counselors))
	for i, name := range p.Counselors {
		id, err := user(fmt.Sprintf("counselor%d", i+1), "counselor", name)
		if err != nil {
			return nil, err
		}
		counselorIDs[i] = id
	}
	for i, pr := range p.Pairs {
		n := i + 1
		a, err := user(fmt.Sprintf("client%da", n), "client", pr.A.Name)
		if err != nil {
			return nil, err
		}
		b, err := user(fmt.Sprintf("client%db", n), "client", pr.B.Name)
		if err != nil {
			return nil, err
		}
		var pairID int64
		err = tx.GetContext(ctx, &pairID, `
			SELECT p.id FROM pairs p JOIN pair_members m ON m.pair_id = p.id
			WHERE p.practice_id = $1 AND m.user_id = $2`, practiceID, a)
		if errors.Is(err, sql.ErrNoRows) {
			err = tx.GetContext(ctx, &pairID, `
				INSERT INTO pairs (practice_id, counselor_id, label, kind) VALUES ($1, $2, $3, $4) RETURNING id`,
				practiceID, counselorIDs[pr.Counselor-1], pr.Label, pr.Kind)
		}
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO pair_members (pair_id, user_id, position, side) VALUES ($1, $2, 1, $3), ($1, $4, 2, $5)
			ON CONFLICT DO NOTHING`, pairID, a, pr.A.Side, b, pr.B.Side); err != nil {
			return nil, err
		}
		// The demo clients have accepted the practice's consent text, as
		// they would have when they set their password.
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO consent_versions (practice_id, version, body) VALUES ($1, 1, $2) ON CONFLICT DO NOTHING`,
			practiceID, consent.DefaultText); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO consent_acceptances (practice_id, version, user_id) VALUES ($1, 1, $2), ($1, 1, $3)
			ON CONFLICT DO NOTHING`, practiceID, a, b); err != nil {
			return nil, err
		}
	}
	return logins, nil
}
