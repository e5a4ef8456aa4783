package web

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/mend"
)

// notice is an email telling a person that how they sign in changed. It
// says what happened, never a secret, a code or anything clinical, and
// offers the reset page in case it was not them.
type notice struct {
	Subject, What string
}

var (
	noticePasswordChanged = notice{"Your Mend password was changed",
		"The password of your Mend account was just changed, and your other sessions were signed out."}
	noticePasswordReset = notice{"Your Mend password was reset",
		"The password of your Mend account was just reset with a link sent to this address, and every session was signed out."}
	noticeMFAOn = notice{"Two-step sign-in is on for your Mend account",
		"Two-step sign-in was just turned on for your Mend account. Signing in now also needs a code from the authenticator app that was set up."}
	noticeMFAOff = notice{"Two-step sign-in is off for your Mend account",
		"Two-step sign-in was just turned off for your Mend account. Signing in now needs only the password."}
	noticeMFAReset = notice{"Your Mend two-step sign-in was reset",
		"An administrator of your practice just reset the two-step sign-in of your Mend account, and you were signed out. You set it up again at your next sign-in."}
)

// queueNotice queues n to the account of to in tx, the transaction of the
// change, with the name of their practice (read before the transaction).
func (s *Server) queueNotice(ctx context.Context, tx sqlx.QueryerContext, to mend.Scope, practiceName string, n notice) error {
	_, err := s.outbox.Queue(ctx, tx, mail.Message{
		PracticeID: to.PracticeID, UserID: to.UserID, To: to.Email, ToName: to.Name,
		Kind: mail.KindSecurityNotice, Template: "security_notice",
		Data: map[string]any{"Name": to.Name, "PracticeName": practiceName, "Subject": n.Subject, "What": n.What,
			"ForgotLink": s.absURL("/password/forgot")},
	})
	return err
}

// sendNotice queues n to the account of to, after a change that committed.
func (s *Server) sendNotice(ctx context.Context, to mend.Scope, n notice) error {
	practiceName, err := s.practiceName(ctx, to.PracticeID)
	if err != nil {
		return err
	}
	return s.queueNotice(ctx, s.db, to, practiceName, n)
}
