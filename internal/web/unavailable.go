package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/mend-practice/mend/internal/mend"
)

// tplNotSaved is the page of a form whose change could not be saved
// because the database did not answer.
const tplNotSaved pageName = "not_saved"

// Words for a request the database could not take (db.IsTransient: a
// PostgreSQL restart, a lost connection), after the one retry a write
// gets.
const (
	notSavedMessage    = "Not saved: Mend could not reach its database for a moment. Everything you typed is still here. Please send it again."
	unavailableMessage = "Mend could not reach its database for a moment. Please try again in a few seconds."
)

// keptField is one posted field as the "not saved" page sends it again.
type keptField struct {
	Name, Value string
	// Long is free text (shown to be read and edited); anything else is a
	// choice or an id, carried along hidden.
	Long bool
}

// unavailable answers 503 for a request the database could not take. A
// form post comes back with everything typed in a form that sends it
// again (passwords and codes left out); the page needs nothing from the
// database, which may still be away.
func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Warn("database unavailable; request not completed", "method", r.Method, "path", r.URL.Path, "err", err)
	w.Header().Set("Retry-After", "5")
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "Try again in a moment", unavailableMessage)
		return
	}
	b, rerr := s.execute(tplNotSaved, H{
		"Scope": mend.Scope{Role: mend.RoleAnonymous}, "Path": r.URL.Path,
		"Message": notSavedMessage, "Action": r.URL.RequestURI(), "Fields": keptFields(r.PostForm),
	})
	if rerr != nil {
		s.log.Error("render", "page", tplNotSaved, "err", rerr)
		http.Error(w, notSavedMessage, http.StatusServiceUnavailable)
		return
	}
	defer s.pages.release(b)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write(b.Bytes())
}

// keptFields are the posted fields in name order, secrets left out.
func keptFields(form url.Values) []keptField {
	names := make([]string, 0, len(form))
	for name := range form {
		lower := strings.ToLower(name)
		if strings.Contains(lower, "password") || strings.Contains(lower, "code") || strings.Contains(lower, "token") {
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	var out []keptField
	for _, name := range names {
		for _, v := range form[name] {
			out = append(out, keptField{Name: name, Value: v, Long: len(v) > 40 || strings.ContainsAny(v, " \n")})
		}
	}
	return out
}
