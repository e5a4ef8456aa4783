package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/web/webtest"
)

// TestMeasuresShowBothPartnersAndTheirDivergence: the demo's first pair
// answered Mend's closeness check for five weeks and moved apart. The
// counselor sees both partners on one chart with the bands, every answer in
// the table, the divergence on the dashboard, and the measure in the CSV
// and the PDF report.
func TestMeasuresShowBothPartnersAndTheirDivergence(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	pairID := env.PairOf(t, clientA)
	var nameA, nameB string
	if err := env.DB.Get(&nameA, `SELECT name FROM users WHERE email = $1`, clientA); err != nil {
		t.Fatal(err)
	}
	if err := env.DB.Get(&nameB, `SELECT name FROM users WHERE email = $1`, clientB); err != nil {
		t.Fatal(err)
	}
	co := env.Login(t, counselor)
	progress := fmt.Sprintf("/pairs/%d/progress", pairID)
	res := co.Get(progress)
	wantPage(t, res, http.StatusOK)
	measures := section(t, res.Body, `id="measures"`)
	wantBody(t, "progress tab's measures", measures, "Mend closeness check: total of each partner", nameA, nameB,
		"Struggling", "Steady", "Openness", "Connection", "Show the numbers")
	if n := strings.Count(measures, `role="img"`); n != 3 {
		t.Errorf("%d measure charts on the progress tab, want the total and two subscales", n)
	}
	// The numbers behind the total's chart: both partners' latest totals.
	wantBody(t, "the total's table", measures, "<td>19</td>", "<td>4</td>")
	// The measures tab: what was given, and every answer item by item.
	res = co.Get(fmt.Sprintf("/pairs/%d/measures", pairID))
	wantPage(t, res, http.StatusOK)
	wantBody(t, "pair's measures", res.Body, "Given to the pair", "Every answer", "1: 0, 2: 0, 3: 4", progress+"#measures")
	if n := strings.Count(res.Body, `role="img"`); n != 0 {
		t.Errorf("%d charts on the measures tab, want them on the progress tab only", n)
	}
	// A range that holds no answer: the charts say so.
	res = co.Get(progress + "?from=2020-01-01&to=2020-01-31")
	wantPage(t, res, http.StatusOK)
	wantBody(t, "an empty range", section(t, res.Body, `id="measures"`), "No answers in this range")
	res = co.Get("/dashboard")
	wantPage(t, res, http.StatusOK)
	wantBody(t, "dashboard", res.Body, fmt.Sprintf("Latest Mend closeness check totals far apart: %s 19, %s 4", nameA, nameB),
		fmt.Sprintf("%s&#39;s latest Mend closeness check is in its most severe band (Struggling)", nameB), "See measures",
		fmt.Sprintf(`href="/pairs/%d/progress#measures"`, pairID))
	res = co.Get(fmt.Sprintf("/pairs/%d/measures.csv", pairID))
	wantPage(t, res, http.StatusOK)
	if n := strings.Count(res.Body, "Mend closeness check,1,"); n != 10 {
		t.Errorf("CSV has %d answers, want 10:\n%s", n, res.Body)
	}
	wantBody(t, "CSV", res.Body, nameB+",4,Struggling,yes,no,Openness 0; Connection 0,1=0 2=0 3=4 4=0 5=0 6=0")
	res = co.Get(fmt.Sprintf("/pairs/%d/report.pdf", pairID))
	wantPage(t, res, http.StatusOK)
	wantBody(t, "PDF", pdfText(t, []byte(res.Body)), "Measure: Mend closeness check", nameA+" · 19 (Steady)")

	// Giving a measure that is not chosen: a message beside the field.
	res = co.PostForm(fmt.Sprintf("/pairs/%d/measures", pairID), url.Values{"measure": {"99999999999999999999"}})
	wantPage(t, res, http.StatusUnprocessableEntity)
	wantBody(t, "refused form", res.Body, "Choose one of the practice&#39;s active measures.")

	// A safety flag on a critical answer is listed on the progress tab,
	// where the dashboard's link leads, and acknowledged there. Without a
	// note the tab comes back with the message beside the note, and the
	// flag stays open; with one, the flag leaves the tab and the measures
	// tab shows the answer acknowledged.
	alertID := env.ID(t, `
		WITH r AS (UPDATE measure_responses SET critical = true
		           WHERE id = (SELECT max(id) FROM measure_responses WHERE pair_id = $1) RETURNING id, practice_id, pair_id)
		INSERT INTO safety_alerts (practice_id, pair_id, measure_response_id, counselor_id)
		SELECT r.practice_id, r.pair_id, r.id, p.counselor_id FROM r JOIN pairs p ON p.id = r.pair_id
		RETURNING id`, pairID)
	responseID := env.ID(t, `SELECT measure_response_id FROM safety_alerts WHERE id = $1`, alertID)
	wantBody(t, "dashboard with a flag", co.Get("/dashboard").Body, fmt.Sprintf(`href="%s#response-%d"`, progress, responseID))
	res = co.Get(progress)
	wantBody(t, "progress tab with a flag", section(t, res.Body, `id="measures"`), fmt.Sprintf(`id="response-%d"`, responseID),
		"Safety flag: "+nameB, "A critical answer in Mend closeness check</strong>: total 4 (Struggling).", "Acknowledge the safety flag")
	ack := fmt.Sprintf("/review/alerts/%d/acknowledge", alertID)
	res = co.PostForm(ack, url.Values{"note": {"   "}})
	wantPage(t, res, http.StatusUnprocessableEntity)
	wantBody(t, "acknowledgement without a note", res.Body, "Safety flag: ", "Say what you did or will do",
		fmt.Sprintf(`id="f-note-%d-error"`, alertID), "Mend closeness check: total of each partner")
	if n := count(t, env, `SELECT count(*) FROM safety_alerts WHERE id = $1 AND acknowledged_at IS NULL`, alertID); n != 1 {
		t.Error("a refused acknowledgement closed the flag")
	}
	wantRedirect(t, "acknowledge", co.PostForm(ack, url.Values{"note": {"Called them both; safety plan agreed."}}), progress)
	res = co.Get(progress)
	wantBody(t, "after acknowledging", res.Body, "Safety flag acknowledged.")
	wantNotInBody(t, "after acknowledging", res.Body, "Safety flag: ")
	wantBody(t, "measures tab after acknowledging", co.Get(fmt.Sprintf("/pairs/%d/measures", pairID)).Body, "Critical answer", "acknowledged")
}

// TestPartnerPagesNeverShowTheOthersMeasureAnswers looks from the
// partner's side: the closeness check does not share totals, so client B's
// pages show B's own scores and nothing of A's, and B cannot reach the
// pair's measures or their exports.
func TestPartnerPagesNeverShowTheOthersMeasureAnswers(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	pairID := env.PairOf(t, clientA)
	var nameA string
	if err := env.DB.Get(&nameA, `SELECT name FROM users WHERE email = $1`, clientA); err != nil {
		t.Fatal(err)
	}
	b := env.Login(t, clientB)
	res := b.Get("/measures")
	wantPage(t, res, http.StatusOK)
	wantBody(t, "B's questionnaires", res.Body, "Mend closeness check", "Your scores", "4 (Struggling)")
	wantNotInBody(t, "B's questionnaires", res.Body, nameA, "Your partner", "19 (Steady)", "Steady")
	for _, path := range []string{"/homework", "/progress", "/shared"} {
		res := b.Get(path)
		wantNotInBody(t, "B's "+path, res.Body, "19 (Steady)", "closeness check totals")
	}
	for _, path := range []string{"/pairs/%d/progress", "/pairs/%d/measures", "/pairs/%d/measures.csv", "/pairs/%d/report.pdf"} {
		if res := b.Get(fmt.Sprintf(path, pairID)); res.Status != http.StatusNotFound {
			t.Errorf("B gets %d for %s", res.Status, path)
		}
	}
	aAssignment := env.ID(t, `SELECT id FROM measure_assignments WHERE pair_id = $1`, pairID)
	// The same assignment is B's too (for both), but the other pair's is not.
	other := env.ID(t, `SELECT id FROM measure_assignments WHERE pair_id = $1`, env.PairOf(t, "client2a@northside.example"))
	if res := b.Get(fmt.Sprintf("/measures/%d", other)); res.Status != http.StatusNotFound {
		t.Errorf("another pair's measure: %d", res.Status)
	}
	res = b.Get(fmt.Sprintf("/measures/%d", aAssignment))
	wantPage(t, res, http.StatusOK)
	wantBody(t, "answered weekly measure", res.Body, "You have answered this already.")
}

// section returns the HTML of the section element whose opening tag holds
// attr (e.g. `id="measures"`), nested sections included.
func section(t *testing.T, body, attr string) string {
	t.Helper()
	at := strings.Index(body, attr)
	start := strings.LastIndex(body[:max(at, 0)], "<section")
	if at < 0 || start < 0 {
		t.Fatalf("no section with %s in the page:\n%s", attr, body)
	}
	depth, i := 0, start
	for {
		open, end := strings.Index(body[i+1:], "<section"), strings.Index(body[i+1:], "</section>")
		if end < 0 {
			t.Fatalf("the section with %s is not closed", attr)
		}
		if open >= 0 && open < end {
			depth++
			i += 1 + open
			continue
		}
		i += 1 + end
		if depth == 0 {
			return body[start : i+len("</section>")]
		}
		depth--
	}
}
