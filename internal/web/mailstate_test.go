package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/config"
)

// TestPairPageReadsTheMailStateOnce: the pair page tells the counselor
// whether invitation emails go out (the mail server's state), and is kept
// under that state. A request reads the state once: the page it keeps is
// then the page for the state it was looked up under, which a second read
// (made while the page was being made, after the lookup missed) could
// contradict. It is read with a prepared statement, as every page's
// statements are.
func TestPairPageReadsTheMailStateOnce(t *testing.T) {
	t.Parallel()
	env, log := startLogged(t, func(c *config.Config) { c.SMTPURL = "smtp://127.0.0.1:2525" })
	co := env.Login(t, "counselor1@northside.example")
	path := fmt.Sprintf("/pairs/%d", env.PairOf(t, "client1a@northside.example"))
	for _, showing := range []string{"first showing (the page is made and kept)", "second showing (the kept page)"} {
		before := log.len()
		if res := co.Get(path); res.Status != http.StatusOK {
			t.Fatalf("%s: status %d", showing, res.Status)
		}
		n := 0
		for _, q := range log.since(before) {
			if strings.Contains(q, "FROM mail_health") && !strings.HasPrefix(q, "PREPARE ") {
				n++
				if !strings.HasPrefix(q, "EXECUTE ") {
					t.Errorf("%s: the mail server's state was read with a statement sent as text, not prepared", showing)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s: the mail server's state was read %d times, want once", showing, n)
		}
	}
}
