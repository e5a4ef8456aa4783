package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// TestClinicalTextIsEncryptedAtRest writes clinical text the way people do
// (a counselor's homework note, a client's check-in with an answer, a
// reflection and a safety note, then an edit that keeps the earlier version)
// and then searches every text, JSON and bytea column of every table for
// each of the words: none may be readable in the database, while the pages
// still show them. The demo seed's clinical text is encrypted too.
func TestClinicalTextIsEncryptedAtRest(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	const (
		note       = "NOTE-7f3a ten quiet minutes"
		answer     = "ANSWER-51c2 we talked on Sunday"
		reflection = "REFLECTION-0d9e it was a heavy week"
		edited     = "EDITED-88b1 a lighter week after all"
		safety     = "SAFETY-4e60 I do not feel safe at home"
	)
	pairID := env.PairOf(t, clientA)
	today := clientToday(t, env, clientA)
	counselorC := env.Login(t, counselor)
	step := strconv.FormatInt(env.ID(t, `SELECT id FROM steps WHERE key = 'open-honest-communication'`), 10)
	res := counselorC.PostForm(fmt.Sprintf("/pairs/%d/homework", pairID), url.Values{
		"step": {step}, "for": {"both"}, "starts_on": {today.String()}, "due_on": {today.AddDays(6).String()},
		"cadence": {"daily"}, "note": {note},
	})
	wantStatus(t, "assign homework", res, http.StatusSeeOther)
	hw := env.ID(t, `SELECT max(id) FROM assignments WHERE pair_id = $1`, pairID)

	a := env.Login(t, clientA)
	form := checkinForm(today, "counselor")
	form.Set("answer_1", answer)
	form.Set("reflection", reflection)
	form.Set("unsafe", "yes")
	form.Set("safety_note", safety)
	wantStatus(t, "check-in", a.PostForm(fmt.Sprintf("/homework/%d/checkins", hw), form), http.StatusSeeOther)
	id := env.ID(t, `SELECT id FROM checkins WHERE assignment_id = $1`, hw)
	form.Set("reflection", edited)
	wantStatus(t, "edit", a.PostForm(fmt.Sprintf("/checkins/%d", id), form), http.StatusSeeOther)

	// The people who may read it still do.
	if body := a.Get(fmt.Sprintf("/homework/%d", hw)).Body; !strings.Contains(body, note) || !strings.Contains(body, edited) {
		t.Error("the client's homework page lacks the note or their check-in")
	}
	list := counselorC.Get(fmt.Sprintf("/pairs/%d/checkins", pairID)).Body
	for _, want := range []string{answer, edited, reflection, safety} {
		if !strings.Contains(list, want) {
			t.Errorf("the counselor's check-in list lacks %q", want)
		}
	}
	// The search does find what is stored in plaintext (a pair's label)...
	if cols := dbtest.FindText(t, env.DB, "Maya & Daniel"); len(cols) == 0 {
		t.Fatal("the search finds nothing, not even a pair's label")
	}
	// ...but nobody can read the clinical text from the database.
	for _, text := range []string{note, answer, reflection, edited, safety} {
		if cols := dbtest.FindText(t, env.DB, text); len(cols) > 0 {
			t.Errorf("%q is readable in %v", text, cols)
		}
	}
	// The demo seed wrote through the vault as well: its note, reflections,
	// answers and safety note are nowhere in plaintext.
	for _, text := range []string{"Alongside the plan", "Small steps, but real ones", "felt uneasy at home",
		"We managed a calm twenty minutes", "One small, kind thing each day"} {
		if cols := dbtest.FindText(t, env.DB, text); len(cols) > 0 {
			t.Errorf("demo text %q is readable in %v", text, cols)
		}
	}
}
