package mail_test

import (
	"context"
	"mime"
	netmail "net/mail"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/mail"
)

// Issue 17, item 18: a '"' in a name made every email to that person fail
// (the name was pasted between quotes, and the address no longer parsed).
// Names with quotes, backslashes and non-ASCII letters reach the real SMTP
// listener, and the To and From headers read back as the names typed.
func TestNamesWithQuotesAreDelivered(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const practiceName = `Northside "Main Street" Counseling`
	if _, err := e.db.Exec(`UPDATE practices SET mail_from_name = $1 WHERE id = $2`, practiceName, e.practiceID); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{
		"quoted@example.com":    `Ann "Annie" O'Neil`,
		"backslash@example.com": `Bo \ "B" Smith`,
		"accented@example.com":  `Zoë "Zo" Ångström`,
		"endquote@example.com":  `Sam "Sammy"`,
	}
	for addr, name := range names {
		if _, err := e.outbox.Queue(context.Background(), e.db, mail.Message{
			PracticeID: e.practiceID, To: addr, ToName: name,
			Kind: mail.KindInvitation, Template: "invitation",
			Data: map[string]any{"Name": name, "PracticeName": practiceName,
				"InviterName": "Dana", "Link": baseURL + "/invite/token"},
		}); err != nil {
			t.Fatal(err)
		}
	}
	e.startWorker(e.delivery(e.sender()))
	msgs := e.smtp.WaitFor(t, len(names), 30*time.Second)
	e.waitSettled(30 * time.Second)
	if got := e.statusCounts(); got["sent"] != len(names) {
		t.Fatalf("delivery rows by status %v, want %d sent", got, len(names))
	}
	dec := new(mime.WordDecoder)
	for _, m := range msgs {
		h := m.Header()
		to, err := (&netmail.AddressParser{WordDecoder: dec}).Parse(h.Get("To"))
		if err != nil {
			t.Errorf("To %q does not parse: %v", h.Get("To"), err)
			continue
		}
		if want := names[to.Address]; to.Name != want {
			t.Errorf("To %q reads as name %q, want %q", h.Get("To"), to.Name, want)
		}
		from, err := (&netmail.AddressParser{WordDecoder: dec}).Parse(h.Get("From"))
		if err != nil || from.Name != practiceName || from.Address != "no-reply@mend.test" {
			t.Errorf("From %q reads as %+v (%v), want %q <no-reply@mend.test>", h.Get("From"), from, err, practiceName)
		}
	}
}
