package web_test

import (
	"fmt"
	"net/url"
)

// matrixUnsubscribeToken is the unsubscribe token loadFixtures stores (its
// hash) for client1a@northside.
const matrixUnsubscribeToken = "matrix-unsubscribe-token"

var _ = addMatrixRows(
	// The fixture messages are failed: the admin's own is queued again.
	matrixRow{Method: "POST", Route: "/admin/mail/:id/resend", Path: func(f *fixtures, target string) string {
		return fmt.Sprintf("/admin/mail/%d/resend", f.id("mail."+target))
	}, Expect: "anon=303/303/303 admin=303/404/404 counselor=404/404/404 client=404/404/404"},
	matrixRow{Method: "GET", Route: "/admin/queues", Expect: "anon=303 admin=200 counselor=404 client=404"},
	// The token is the permission: whoever holds the link may use it.
	matrixRow{Method: "GET", Route: "/unsubscribe/:token", Path: func(*fixtures, string) string { return "/unsubscribe/" + matrixUnsubscribeToken },
		Expect: "anon=200 admin=200 counselor=200 client=200"},
	matrixRow{Method: "POST", Route: "/unsubscribe/:token", Path: func(*fixtures, string) string { return "/unsubscribe/" + matrixUnsubscribeToken },
		Form: url.Values{"List-Unsubscribe": {"One-Click"}}, Expect: "anon=200 admin=200 counselor=200 client=200"},
)
