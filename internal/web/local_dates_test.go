package web_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/web/webtest"
)

// eveningInChicago is 20:30 yesterday in Chicago (the newest of the demo's
// instants, so that every list shows it), which is already today in UTC:
// a date shown without the reader's timezone is the wrong day.
const eveningInChicago = `((date_trunc('day', now() AT TIME ZONE 'America/Chicago') - interval '1 day' + interval '20 hours 30 minutes') AT TIME ZONE 'America/Chicago')`

// TestDatesAreTheReadersDay: every date Mend shows of an instant (a
// check-in sent, feedback written, a safety answer told, a pair created)
// is the day in the reader's timezone. Each page that shows one is read by
// the person it is for, with everyone in Chicago and each instant at
// 20:30 there, when UTC has already turned the day.
func TestDatesAreTheReadersDay(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	pairID := env.PairOf(t, clientA)
	env.DB.MustExec(`UPDATE users SET timezone = 'America/Chicago' WHERE email IN ($1, $2, $3)`, clientA, clientB, counselor)

	// Maya's latest shared check-in, as Daniel reads it (his home, the
	// list of what was shared with him).
	shared := env.ID(t, `SELECT c.id FROM checkins c JOIN users u ON u.id = c.user_id
		WHERE u.email = $1 AND c.visibility = 'partner' ORDER BY c.created_at DESC LIMIT 1`, clientA)
	env.DB.MustExec(`UPDATE checkins SET created_at = `+eveningInChicago+` WHERE id = $1`, shared)
	// Feedback to both partners, as Maya reads it (her home, her feedback list).
	feedback := env.ID(t, `SELECT f.id FROM feedback f WHERE f.pair_id = $1 AND f.audience = 'both' ORDER BY f.created_at DESC LIMIT 1`, pairID)
	env.DB.MustExec(`UPDATE feedback SET created_at = `+eveningInChicago+` WHERE id = $1`, feedback)
	// Maya's flagged check-in, as she reads it (its homework page, its edit form).
	flagged := env.ID(t, `SELECT c.id FROM checkins c JOIN users u ON u.id = c.user_id
		WHERE u.email = $1 AND c.safety_flag ORDER BY c.created_at DESC LIMIT 1`, clientA)
	env.DB.MustExec(`UPDATE safety_alerts SET created_at = `+eveningInChicago+` WHERE checkin_id = $1`, flagged)
	flaggedHomework := env.ID(t, `SELECT assignment_id FROM checkins WHERE id = $1`, flagged)
	// The pair, as its counselor reads its page.
	env.DB.MustExec(`UPDATE pairs SET created_at = `+eveningInChicago+` WHERE id = $1`, pairID)

	var at time.Time
	if err := env.DB.Get(&at, `SELECT `+eveningInChicago); err != nil {
		t.Fatal(err)
	}
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	local, utc := at.In(chicago).Format("Mon 2 Jan"), at.UTC().Format("Mon 2 Jan")
	if local == utc {
		t.Fatalf("%s is the same day in Chicago and UTC", at)
	}
	daniel := env.Login(t, clientB)
	for _, path := range []string{"/homework", "/shared"} {
		body := daniel.Get(path).Body
		wantBody(t, "Daniel's "+path, body, "sent "+local+at.In(chicago).Format(" 2006"))
		wantNotInBody(t, "Daniel's "+path, body, "sent "+utc)
	}
	maya := env.Login(t, clientA)
	for _, path := range []string{"/homework", "/feedback"} {
		body := maya.Get(path).Body
		wantBody(t, "Maya's "+path, body, "· "+local+at.In(chicago).Format(" 2006"))
		wantNotInBody(t, "Maya's "+path, body, "· "+utc)
	}
	for _, path := range []string{fmt.Sprintf("/homework/%d", flaggedHomework), fmt.Sprintf("/checkins/%d/edit", flagged)} {
		body := maya.Get(path).Body
		wantBody(t, "Maya's "+path, body, "You told your counselor on "+local+at.In(chicago).Format(" 2006")+" that you did not feel safe.")
		wantNotInBody(t, "Maya's "+path, body, "You told your counselor on "+utc)
	}
	body := env.Login(t, counselor).Get(fmt.Sprintf("/pairs/%d", pairID)).Body
	wantBody(t, "the counselor's pair page", body, "Since "+local+at.In(chicago).Format(" 2006"))
}
