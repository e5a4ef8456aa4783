package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/config"

	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/practice"
)

// userCmd creates a staff account from the command line (the first admin of
// a new practice, typically) and prints its invitation link.
func userCmd(ctx context.Context, cfg config.Config, out io.Writer, args []string) error {
	const usageLine = "user create --role admin|counselor --email EMAIL --name NAME --practice SLUG [--practice-name NAME] [--timezone ZONE]"
	if len(args) == 0 || args[0] != "create" {
		return errors.New("user: usage: mend " + usageLine)
	}
	fs := newFlagSet(usageLine)
	role := fs.String("role", "", "admin or counselor")
	email := fs.String("email", "", "email address (the login)")
	name := fs.String("name", "", "full name")
	slug := fs.String("practice", "", "practice slug, e.g. northside.example (created if missing)")
	practiceName := fs.String("practice-name", "", "practice name when creating the practice")
	tz := fs.String("timezone", "UTC", "IANA time zone, e.g. America/Chicago")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	r := mend.Role(*role)
	if r != mend.RoleAdmin && r != mend.RoleCounselor {
		return errors.New("user create: --role must be admin or counselor (clients are invited by their counselor)")
	}
	if strings.TrimSpace(*slug) == "" {
		return errors.New("user create: --practice is required")
	}
	in := practice.NewPerson{Name: *name, Email: *email, Timezone: *tz}
	var fe mend.FieldErrors
	in.Validate(&fe, "")
	if *practiceName != "" {
		if msg := practice.NameProblem(*practiceName); msg != "" {
			fe.Add("practice-name", msg)
		}
	}
	if len(fe) > 0 {
		return flagErrors(fe)
	}
	d, err := openDB(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer d.Close()
	var token string
	err = db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		pname := *practiceName
		if pname == "" {
			pname = *slug
		}
		var practiceID int64
		if err := tx.GetContext(ctx, &practiceID, `
			INSERT INTO practices (name, slug, timezone) VALUES ($1, $2, $3)
			ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug RETURNING id`, pname, *slug, in.Timezone); err != nil {
			return err
		}
		id, err := practice.CreateUser(ctx, tx, practiceID, r, in)
		if err != nil {
			return err
		}
		token, err = (&auth.Links{DB: d}).Issue(ctx, tx, id, 0, auth.PurposeInvite)
		return err
	})
	if err != nil {
		if f := mend.Fields(err); f != nil {
			return flagErrors(f)
		}
		return err
	}
	fmt.Fprintf(out, "Created %s %s <%s>.\nThey choose their password at (valid 7 days, once):\n  %s/invite/%s\n",
		r, in.Name, in.Email, strings.TrimRight(cfg.BaseURL, "/"), token)
	return nil
}

// flagErrors reports validation messages against the flags they concern, in
// a stable order.
func flagErrors(fields map[string]string) error {
	msgs := make([]string, 0, len(fields))
	for k, v := range fields {
		msgs = append(msgs, "--"+k+": "+v)
	}
	sort.Strings(msgs)
	return errors.New("user create: " + strings.Join(msgs, "; "))
}
