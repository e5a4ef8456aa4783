package web_test

import (
	"fmt"
	"net/url"
)

func staffPath(format string) func(*fixtures, string) string {
	return func(f *fixtures, target string) string { return fmt.Sprintf(format, f.staff(target)) }
}

var _ = addMatrixRows(
	matrixRow{Method: "GET", Route: "/healthz", Expect: "anon=200 admin=200 counselor=200 client=200"},
	matrixRow{Method: "GET", Route: "/readyz", Expect: "anon=200 admin=200 counselor=200 client=200"},
	matrixRow{Method: "GET", Route: "/static/*file", Path: func(*fixtures, string) string { return "/static/app.css" },
		Expect: "anon=200 admin=200 counselor=200 client=200"},
	// A signed-in person visiting the login page is sent home (or, owing a
	// second factor, to its prompt).
	matrixRow{Method: "GET", Route: "/login", Expect: "anon=200 admin=303 counselor=303 client=303 mfa_pending=303"},
	// Wrong password for whoever is calling: 401 with the form again.
	matrixRow{Method: "POST", Route: "/login", Form: url.Values{"email": {"admin@northside.example"}, "password": {"wrong-password"}},
		Expect: "anon=401 admin=401 counselor=401 client=401"},
	matrixRow{Method: "POST", Route: "/logout", Expect: "anon=303 admin=303 counselor=303 client=303"},
	matrixRow{Method: "GET", Route: "/invite/:token", Path: func(*fixtures, string) string { return "/invite/not-a-token" },
		Expect: "anon=404 admin=404 counselor=404 client=404"},
	matrixRow{Method: "POST", Route: "/invite/:token", Path: func(*fixtures, string) string { return "/invite/not-a-token" },
		Expect: "anon=404 admin=404 counselor=404 client=404"},
	matrixRow{Method: "GET", Route: "/password/forgot", Expect: "anon=200 admin=200 counselor=200 client=200"},
	matrixRow{Method: "POST", Route: "/password/forgot", Form: url.Values{"email": {"nobody@example.com"}},
		Expect: "anon=200 admin=200 counselor=200 client=200"},
	matrixRow{Method: "GET", Route: "/password/reset/:token", Path: func(*fixtures, string) string { return "/password/reset/not-a-token" },
		Expect: "anon=404 admin=404 counselor=404 client=404"},
	matrixRow{Method: "POST", Route: "/password/reset/:token", Path: func(*fixtures, string) string { return "/password/reset/not-a-token" },
		Expect: "anon=404 admin=404 counselor=404 client=404"},
	matrixRow{Method: "GET", Route: "/", Expect: "anon=303 admin=303 counselor=303 client=303"},
	matrixRow{Method: "GET", Route: "/dashboard", Expect: "anon=303 admin=404 counselor=200 client=404"},
	matrixRow{Method: "GET", Route: "/homework", Expect: "anon=303 admin=404 counselor=404 client=200"},
	matrixRow{Method: "GET", Route: "/admin", Expect: "anon=303 admin=200 counselor=404 client=404"},
	matrixRow{Method: "POST", Route: "/admin/counselors",
		Form:   url.Values{"name": {"New Counselor"}, "email": {"new.counselor@northside.example"}, "timezone": {"UTC"}},
		Expect: "anon=303 admin=201 counselor=404 client=404"},
	// counselor2 has set a password already: showing the invitation link
	// again, or a new invitation, is a conflict.
	matrixRow{Method: "GET", Route: "/admin/staff/:id/invitation", Path: staffPath("/admin/staff/%d/invitation"),
		Expect: "anon=303/303/303 admin=409/409/404 counselor=404/404/404 client=404/404/404"},
	matrixRow{Method: "POST", Route: "/admin/staff/:id/invitation", Path: staffPath("/admin/staff/%d/invitation"),
		Expect: "anon=303/303/303 admin=409/409/404 counselor=404/404/404 client=404/404/404"},
	// A reset link for a staff member who has joined, shown once to the admin.
	matrixRow{Method: "POST", Route: "/admin/staff/:id/reset", Path: staffPath("/admin/staff/%d/reset"),
		Expect: "anon=303/303/303 admin=200/200/404 counselor=404/404/404 client=404/404/404"},
	matrixRow{Method: "POST", Route: "/admin/staff/:id/disable", Path: staffPath("/admin/staff/%d/disable"),
		Expect: "anon=303/303/303 admin=303/303/404 counselor=404/404/404 client=404/404/404"},
	matrixRow{Method: "POST", Route: "/admin/staff/:id/enable", Path: staffPath("/admin/staff/%d/enable"),
		Expect: "anon=303/303/303 admin=303/303/404 counselor=404/404/404 client=404/404/404"},
	matrixRow{Method: "GET", Route: "/admin/mail", Expect: "anon=303 admin=200 counselor=404 client=404"},
	matrixRow{Method: "GET", Route: "/admin/mail/:id", Path: func(f *fixtures, target string) string {
		return fmt.Sprintf("/admin/mail/%d", f.id("mail."+target))
	}, Expect: "anon=303/303/303 admin=200/404/404 counselor=404/404/404 client=404/404/404"},
)
